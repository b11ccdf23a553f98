"""Thread assignment: who on the staff looks after a thread.

thread.assignee_user_id points at a user of the thread's own organization (a composite foreign
key), so no code path can hand a thread to another organization's user. Every change is a line
in the thread's timeline. Closing, snoozing and an inbound message that reopens the thread leave
the assignee as it is.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from pawline.clock import utcnow
from pawline.db import constraint_name, db
from pawline.errors import DomainError, NotFound
from pawline.models import Thread, User
from pawline.threads import add_event

ASSIGNABLE_ROLES = ("owner", "staff")
WHO = ("all", "mine", "unassigned")  # the inbox's filters


@dataclass(frozen=True)
class Teammate:
    id: int
    name: str


def _display_name():
    return sa.func.coalesce(sa.func.nullif(User.name, ""), User.email)


def teammates(org_id: int) -> list[Teammate]:
    """The organization's active owners and staff, who threads can be assigned to, by name."""
    name = _display_name()
    rows = db.session.execute(
        sa.select(User.id, name).where(User.org_id == org_id, User.active.is_(True),
                                       User.role.in_(ASSIGNABLE_ROLES))
        .order_by(sa.func.lower(name), User.id))
    return [Teammate(*row) for row in rows]


def _names(org_id: int, user_ids: set[int]) -> dict[int, str]:
    rows = db.session.execute(sa.select(User.id, _display_name()).where(
        User.org_id == org_id, User.id.in_(user_ids)))
    return dict(rows.all())


def _check_assignable(org_id: int, user_id: int) -> None:
    found = db.session.scalar(sa.select(User.id).where(
        User.id == user_id, User.org_id == org_id, User.active.is_(True),
        User.role.in_(ASSIGNABLE_ROLES)))
    if found is None:
        raise DomainError("Pick a teammate of this organization.", "assignee_user_id")


def assign_thread(org_id: int, thread_id: int, assignee_user_id: int | None,
                  actor_user_id: int | None, now: datetime | None = None) -> bool:
    """Assign the thread to a teammate, or with None unassign it; True when it changed."""
    now = now or utcnow()
    if assignee_user_id is not None:
        _check_assignable(org_id, assignee_user_id)
    try:
        with db.session.begin_nested():
            changed = db.session.scalar(
                sa.update(Thread)
                .where(Thread.id == thread_id, Thread.org_id == org_id,
                       Thread.assignee_user_id.is_distinct_from(assignee_user_id))
                .values(assignee_user_id=assignee_user_id).returning(Thread.id))
    except IntegrityError as error:  # the foreign key decides, whatever was checked above
        if constraint_name(error) == "fk_thread_assignee_user_id_org_id_app_user":
            raise DomainError("Pick a teammate of this organization.",
                              "assignee_user_id") from None
        raise
    if changed is None:
        exists = db.session.scalar(sa.select(Thread.id).where(Thread.id == thread_id,
                                                              Thread.org_id == org_id))
        if exists is None:
            raise NotFound("No such conversation.")
        db.session.commit()
        return False
    add_event(org_id, thread_id, *_event(org_id, assignee_user_id, actor_user_id),
              actor_user_id, now)
    db.session.commit()
    return True


def _event(org_id: int, assignee_user_id: int | None, actor_user_id: int | None
           ) -> tuple[str, str]:
    """The timeline line: ('assigned', 'Assigned to Ada by Bob') or ('unassigned', ...)."""
    names = _names(org_id, {i for i in (assignee_user_id, actor_user_id) if i is not None})
    by = f" by {names[actor_user_id]}" if actor_user_id in names else ""
    if assignee_user_id is None:
        return "unassigned", f"Unassigned{by}"
    if assignee_user_id == actor_user_id:
        return "assigned", f"{names[assignee_user_id]} took this conversation"
    return "assigned", f"Assigned to {names[assignee_user_id]}{by}"
