"""The audit trail (I9): events are appended here; nothing edits or deletes them."""

from datetime import datetime
from typing import Any

from pawline.clock import utcnow
from pawline.db import db
from pawline.models import AuditEvent


def record(org_id: int, actor_user_id: int | None, action: str, entity_type: str,
           entity_id: int | None, data: dict[str, Any] | None = None,
           now: datetime | None = None) -> AuditEvent:
    """Append an event in the caller's transaction (it commits with the change it describes)."""
    event = AuditEvent(org_id=org_id, actor_user_id=actor_user_id, action=action,
                       entity_type=entity_type, entity_id=entity_id, data=data or {},
                       created_at=now or utcnow())
    db.session.add(event)
    return event
