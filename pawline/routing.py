"""Which number a message to a client is sent from, decided at send time (docs/design.md).

1. an assignment window of the thread active now whose sitter holds an active number
   (several: the one that started last);
2. else the thread's default number, if it is an active pool number no sitter holds;
3. else an active pool number no sitter holds, which becomes the thread's default;
4. else the organization's front-desk number, if active;
5. else refuse: NoSendingNumber. A quarantined number is never chosen.
"""

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from pawline.accounts import org_zone
from pawline.clock import utcnow
from pawline.db import db
from pawline.errors import DomainError
from pawline.models import AssignmentWindow, MessageNumber, Sitter, Thread
from pawline.phones import display_phone

RULES = {
    1: "active assignment window",
    2: "thread default number",
    3: "pool number (now the thread's default)",
    4: "front desk",
}


class NoSendingNumber(DomainError):
    field = "body"

    def __init__(self, steps: list[str]):
        super().__init__(
            "No number can send this message: no active sitter window, pool or front-desk "
            "number. Add or restore a number on the Numbers page."
        )
        self.steps = steps


@dataclass
class Route:
    rule: int
    number_id: int
    e164: str
    reason: str
    steps: list[str] = field(default_factory=list)
    becomes_default: bool = False

    def trace(self, now: datetime) -> dict:
        """The routing trace stored with the message."""
        return {
            "rule": self.rule, "rule_name": RULES[self.rule], "number": self.e164,
            "number_id": self.number_id, "reason": self.reason, "steps": self.steps,
            "decided_at": now.isoformat(),
        }


def _active_window_numbers(thread_id: int, now: datetime):
    return db.session.execute(
        sa.select(AssignmentWindow.id, AssignmentWindow.starts_at, AssignmentWindow.ends_at,
                  Sitter.name, MessageNumber.id.label("number_id"), MessageNumber.e164,
                  MessageNumber.status)
        .join(Sitter, Sitter.id == AssignmentWindow.sitter_id)
        .outerjoin(MessageNumber, MessageNumber.assigned_sitter_id == Sitter.id)
        .where(AssignmentWindow.thread_id == thread_id, AssignmentWindow.starts_at <= now,
               AssignmentWindow.ends_at > now)
        .order_by(AssignmentWindow.starts_at.desc(), AssignmentWindow.id.desc())
    ).all()


def _free_pool_number(org_id: int) -> MessageNumber | None:
    return db.session.scalar(
        sa.select(MessageNumber)
        .where(MessageNumber.org_id == org_id, MessageNumber.number_class == "pool",
               MessageNumber.status == "active", MessageNumber.assigned_sitter_id.is_(None))
        .order_by(MessageNumber.id).limit(1)
    )


def plan_route(org_id: int, thread_id: int, now: datetime | None = None) -> Route:
    """The number a message sent now would go from, and why; changes nothing."""
    now = now or utcnow()
    thread = db.session.scalar(
        sa.select(Thread).where(Thread.id == thread_id, Thread.org_id == org_id))
    steps: list[str] = []

    windows = _active_window_numbers(thread_id, now)
    usable = [w for w in windows if w.number_id is not None and w.status == "active"]
    for w in windows:
        if w.number_id is None:
            steps.append(f"{w.name}'s window is active, but {w.name} holds no number.")
        elif w.status != "active":
            steps.append(f"{w.name}'s window is active, but their number is quarantined.")
    if usable:
        chosen = usable[0]
        until = chosen.ends_at.astimezone(org_zone(org_id))
        reason = f"{chosen.name} covers this client until {until:%b %d, %I:%M %p}."
        if len(usable) > 1:
            others = ", ".join(w.name for w in usable[1:])
            reason += f" Several windows are active ({others} too): the one that started last."
        return Route(1, chosen.number_id, chosen.e164, reason, steps)
    if not windows:
        steps.append("No assignment window is active now.")

    default = (db.session.get(MessageNumber, thread.default_number_id)
               if thread.default_number_id else None)
    if default is not None:
        if (default.status == "active" and default.number_class == "pool"
                and default.assigned_sitter_id is None):
            return Route(2, default.id, default.e164,
                         "The client keeps seeing the number this thread last used.", steps)
        why = "quarantined" if default.status != "active" else "no longer a free pool number"
        steps.append(f"The thread's default {display_phone(default.e164)} is {why}.")

    pool = _free_pool_number(org_id)
    if pool is not None:
        return Route(3, pool.id, pool.e164,
                     "A free pool number, kept as this thread's default from now on.", steps,
                     becomes_default=True)
    steps.append("No active pool number is free.")

    front = db.session.scalar(
        sa.select(MessageNumber).where(MessageNumber.org_id == org_id,
                                       MessageNumber.number_class == "front_desk"))
    if front is not None and front.status == "active":
        return Route(4, front.id, front.e164, "The organization's front-desk number.", steps)
    steps.append("The front-desk number is quarantined." if front else "No front-desk number.")
    raise NoSendingNumber(steps)


def choose_sending_number(org_id: int, thread_id: int, now: datetime | None = None) -> Route:
    """Plan the route and, for rule 3, keep the pool number as the thread's default."""
    route = plan_route(org_id, thread_id, now)
    if route.becomes_default:
        db.session.execute(sa.update(Thread).where(Thread.id == thread_id)
                           .values(default_number_id=route.number_id))
    return route
