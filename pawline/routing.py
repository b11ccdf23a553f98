"""Which number a message to a client is sent from, decided at send time (docs/design.md).

1. an assignment window of the thread active now whose sitter holds an active number
   (several: the one that started last);
2. else the line the client last texted, if it is the front desk or a pool number no sitter
   holds, and active: the client keeps hearing from the number they wrote to;
3. else the thread's default number, if it is an active pool number no sitter holds;
4. else an active pool number no sitter holds, which becomes the thread's default;
5. else the organization's front-desk number, if active;
6. else refuse: NoSendingNumber. A quarantined number is never chosen.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from pawline.accounts import org_zone
from pawline.clock import utcnow
from pawline.db import db
from pawline.errors import DomainError
from pawline.lines import Line, line_of
from pawline.models import (
    AssignmentWindow,
    Client,
    ClientContact,
    Message,
    MessageNumber,
    Sitter,
    Thread,
)
from pawline.phones import client_name

NEW_DEFAULT_RULE = 4  # the rule whose number becomes the thread's default as a message is sent
RULES = {
    1: "active assignment window",
    2: "the line the client texted",
    3: "thread default number",
    4: "pool number (now the thread's default)",
    5: "front desk",
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
    label: str = ""
    last_texted: Line | None = None  # the line the client last wrote to, if any

    @property
    def sentence(self) -> str:
        """One plain sentence: the line and why ("Replying from Sam's line: Sam is with ...")."""
        return f"Replying from {self.label or self.e164}: {self.reason}"

    @property
    def differs_from_last_texted(self) -> bool:
        return self.last_texted is not None and self.last_texted.id != self.number_id

    def trace(self, now: datetime) -> dict:
        """The routing trace stored with the message."""
        return {
            "rule": self.rule, "rule_name": RULES[self.rule], "number": self.e164,
            "number_id": self.number_id, "line": self.label, "reason": self.reason,
            "steps": self.steps, "decided_at": now.isoformat(),
        }


def _active_window_numbers(thread_id: int, now: datetime):
    return db.session.execute(
        sa.select(AssignmentWindow.id, AssignmentWindow.starts_at, AssignmentWindow.ends_at,
                  Sitter.name, MessageNumber.id.label("number_id"), MessageNumber.e164,
                  MessageNumber.status, MessageNumber.label)
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


def _line(number: MessageNumber) -> Line:
    sitter = (db.session.scalar(sa.select(Sitter.name).where(
        Sitter.id == number.assigned_sitter_id)) if number.assigned_sitter_id else None)
    return line_of(number, sitter)


def _last_texted(thread_id: int) -> MessageNumber | None:
    """The number of the client's last text in this thread (ix_message_thread_id_id backwards)."""
    number_id = db.session.scalar(
        sa.select(Message.number_id)
        .where(Message.thread_id == thread_id, Message.direction == "inbound",
               Message.channel == "sms")  # WhatsApp and the rest have routes of their own
        .order_by(Message.id.desc()).limit(1))
    return db.session.get(MessageNumber, number_id) if number_id else None


def _free(number: MessageNumber) -> bool:
    """Active, not a sitter's: a line anyone at the desk may answer from."""
    return (number.status == "active" and number.assigned_sitter_id is None
            and number.number_class in ("front_desk", "pool"))


def _until(ends_at: datetime, org_id: int, now: datetime) -> str:
    local = ends_at.astimezone(org_zone(org_id))
    if ends_at - now < timedelta(days=6):
        return f"{local:%a} {local:%-I:%M %p}"
    return f"{local:%b} {local.day}, {local:%-I:%M %p}"


def _window_route(org_id: int, client: str, windows, now: datetime, steps: list[str]):
    usable = [w for w in windows if w.number_id is not None and w.status == "active"]
    for w in windows:
        if w.number_id is None:
            steps.append(f"{w.name}'s window is active, but {w.name} holds no number.")
        elif w.status != "active":
            steps.append(f"{w.name}'s window is active, but their number is quarantined.")
    if not usable:
        return None
    chosen = usable[0]
    reason = f"{chosen.name} is with {client} until {_until(chosen.ends_at, org_id, now)}."
    if len(usable) > 1:
        others = ", ".join(w.name for w in usable[1:])
        reason += f" Several windows are active ({others} too): the one that started last."
    label = chosen.label or f"{chosen.name}'s line"
    return Route(1, chosen.number_id, chosen.e164, reason, steps, label=label)


def plan_route(org_id: int, thread_id: int, now: datetime | None = None) -> Route:
    """The number a message sent now would go from, and why; changes nothing."""
    now = now or utcnow()
    thread, name, is_guest = db.session.execute(
        sa.select(Thread, Client.name, Client.is_guest).join(Client, Client.id == Thread.client_id)
        .where(Thread.id == thread_id, Thread.org_id == org_id)).one()
    client = client_name(name, is_guest)
    steps: list[str] = []
    texted = _last_texted(thread_id)
    last = _line(texted) if texted is not None else None

    def route(rule: int, number: MessageNumber, reason: str, **kw) -> Route:
        line = _line(number)
        return Route(rule, number.id, number.e164, reason, steps, label=line.label,
                     last_texted=last, **kw)

    windows = _active_window_numbers(thread_id, now)
    chosen = _window_route(org_id, client, windows, now, steps)
    if chosen is not None:
        chosen.last_texted = last
        return chosen
    if not windows:
        steps.append("No assignment window is active now.")

    if texted is not None:
        if _free(texted):
            return route(2, texted, f"{client} texted this line last, so they hear back on it.")
        why = ("is quarantined" if texted.status != "active"
               else "answers only while its sitter is booked with them")
        steps.append(f"{client} last texted {last.label}, which {why}.")

    default = (db.session.get(MessageNumber, thread.default_number_id)
               if thread.default_number_id else None)
    if default is not None:
        if _free(default) and default.number_class == "pool":
            return route(3, default, f"{client} keeps hearing from the line this thread used.")
        why = "quarantined" if default.status != "active" else "no longer a free pool number"
        steps.append(f"The thread's default line, {_line(default).label}, is {why}.")

    pool = _free_pool_number(org_id)
    if pool is not None:
        return route(NEW_DEFAULT_RULE, pool, f"a free pool line, which {client} keeps from now on.",
                     becomes_default=True)
    steps.append("No active pool number is free.")

    front = db.session.scalar(
        sa.select(MessageNumber).where(MessageNumber.org_id == org_id,
                                       MessageNumber.number_class == "front_desk"))
    if front is not None and front.status == "active":
        return route(5, front, "the front desk answers when no other line can.")
    steps.append("The front-desk number is quarantined." if front else "No front-desk number.")
    raise NoSendingNumber(steps)


def line_for_new_client(org_id: int) -> Line | None:
    """The line a client with no thread yet would hear from (rule 4, else rule 5)."""
    number = _free_pool_number(org_id) or db.session.scalar(
        sa.select(MessageNumber).where(MessageNumber.org_id == org_id,
                                       MessageNumber.number_class == "front_desk",
                                       MessageNumber.status == "active"))
    return line_of(number, None) if number is not None else None


def line_for_phone(org_id: int, e164: str, now: datetime | None = None
                   ) -> tuple[Line | None, str | None]:
    """The line a text to this phone would go from now, and the client's name when the phone
    is a client's with a thread (else the line a new client hears from, and None)."""
    found = db.session.execute(
        sa.select(Thread.id, Client.name, Client.is_guest)
        .join(Client, Client.id == Thread.client_id)
        .join(ClientContact, sa.and_(ClientContact.client_id == Thread.client_id,
                                     ClientContact.org_id == Thread.org_id))
        .where(ClientContact.org_id == org_id, ClientContact.e164 == e164)).first()
    if found is None:
        return line_for_new_client(org_id), None
    try:
        route = plan_route(org_id, found.id, now)
    except NoSendingNumber:
        return None, client_name(found.name, found.is_guest)
    line = Line(route.number_id, route.e164, route.label, "", "active")
    return line, client_name(found.name, found.is_guest)


def choose_sending_number(org_id: int, thread_id: int, now: datetime | None = None) -> Route:
    """Plan the route and, for rule 4, keep the pool number as the thread's default."""
    route = plan_route(org_id, thread_id, now)
    if route.becomes_default:
        db.session.execute(sa.update(Thread).where(Thread.id == thread_id)
                           .values(default_number_id=route.number_id))
    return route
