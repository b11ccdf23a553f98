"""Reading the audit trail: newest first, filtered, one keyset page per query."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pawline.db import db
from pawline.models import AuditEvent, User

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditLine:
    """One event as the Audit page shows it."""

    id: int
    created_at: datetime
    action: str
    entity_type: str
    entity_id: int | None
    actor_name: str | None
    data: dict[str, Any]


@dataclass(frozen=True)
class AuditPage:
    lines: list[AuditLine]
    older_than: int | None  # the `before` id of the next page, None on the last page


def audit_page(org_id: int, action: str | None = None, actor_id: int | None = None,
               entity_type: str | None = None, before: int | None = None,
               limit: int = PAGE_SIZE) -> AuditPage:
    """Events of the organization, newest first, older than `before` (keyset on id, no OFFSET)."""
    actor = sa.func.coalesce(sa.func.nullif(User.name, ""), User.email)
    query = (
        sa.select(AuditEvent, actor)
        .outerjoin(User, sa.and_(User.id == AuditEvent.actor_user_id,
                                 User.org_id == AuditEvent.org_id))
        .where(AuditEvent.org_id == org_id)
        .order_by(AuditEvent.id.desc())
        .limit(limit + 1)
    )
    if action:
        query = query.where(AuditEvent.action == action)
    if actor_id:
        query = query.where(AuditEvent.actor_user_id == actor_id)
    if entity_type:
        query = query.where(AuditEvent.entity_type == entity_type)
    if before:
        query = query.where(AuditEvent.id < before)
    rows = db.session.execute(query).all()
    lines = [
        AuditLine(id=e.id, created_at=e.created_at, action=e.action, entity_type=e.entity_type,
                  entity_id=e.entity_id, actor_name=name, data=e.data or {})
        for e, name in rows[:limit]
    ]
    return AuditPage(lines, lines[-1].id if len(rows) > limit else None)


def filter_choices(org_id: int) -> dict[str, list]:
    """The values the filters offer: actions and entity types in use, and the org's users."""
    actions = db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.org_id == org_id).distinct().order_by(AuditEvent.action)).all()
    entities = db.session.scalars(sa.select(AuditEvent.entity_type).where(
        AuditEvent.org_id == org_id).distinct().order_by(AuditEvent.entity_type)).all()
    users = db.session.execute(
        sa.select(User.id, sa.func.coalesce(sa.func.nullif(User.name, ""), User.email))
        .where(User.org_id == org_id).order_by(User.name, User.email)).all()
    return {"actions": list(actions), "entity_types": list(entities),
            "actors": [(uid, name) for uid, name in users]}
