"""Saved replies: an organization's reusable texts, with variables filled in for one thread.

A body may name the variables of pawline.models.VARIABLES in braces ({client_first_name}); any
other {word} is refused when the reply is saved (ck_saved_reply_variables_known decides). On a
thread, each variable is filled from that thread's client, booking and organization; one that
cannot be filled (no booking yet) stays as typed, and an outbound message carrying it is
refused (pawline.outbound, and ck_message_no_unfilled_variable).
"""

import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from pawline import audit
from pawline.accounts import org_zone
from pawline.clock import utcnow
from pawline.db import constraint_name, db
from pawline.desk_models import BODY_MAX, NAME_MAX, SavedReply
from pawline.errors import DomainError, DuplicateRecord, NotFound
from pawline.models import (
    VARIABLES,
    AssignmentWindow,
    Booking,
    Client,
    Organization,
    Sitter,
    Thread,
)

VARIABLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
WHY_UNFILLED = {
    "client_first_name": "this client has no name yet",
    "client_name": "this client has no name yet",
    "sitter_name": "no sitter covers this client now or next",
    "booking_start": "this client has no current or upcoming booking",
    "booking_end": "this client has no current or upcoming booking",
    "business_name": "the organization has no name",
}


def unknown_variables(body: str) -> list[str]:
    """The {names} in `body` that are not variables, in order, each once."""
    return list(dict.fromkeys(n for n in VARIABLE.findall(body or "") if n not in VARIABLES))


def unfilled_variables(text: str) -> list[str]:
    """The known variables still written as {name} in `text`, in order, each once."""
    return list(dict.fromkeys(n for n in VARIABLE.findall(text or "") if n in VARIABLES))


def list_saved_replies(org_id: int) -> list[SavedReply]:
    """The organization's saved replies by name."""
    return db.session.scalars(sa.select(SavedReply).where(SavedReply.org_id == org_id)
                              .order_by(sa.func.lower(SavedReply.name), SavedReply.id)).all()


def get_saved_reply(org_id: int, reply_id: int) -> SavedReply:
    """One saved reply of the organization; NotFound for any other id."""
    reply = db.session.scalar(sa.select(SavedReply).where(
        SavedReply.id == reply_id, SavedReply.org_id == org_id))
    if reply is None:
        raise NotFound("No such saved reply.")
    return reply


def _clean(name: str | None, body: str | None) -> tuple[str, str]:
    name, body = (name or "").strip(), (body or "").strip()
    if not name:
        raise DomainError("Give the reply a name.", "name")
    if len(name) > NAME_MAX:
        raise DomainError(f"A name has at most {NAME_MAX} characters.", "name")
    if not body:
        raise DomainError("Write the reply's text.", "body")
    if len(body) > BODY_MAX:
        raise DomainError(f"A reply has at most {BODY_MAX} characters.", "body")
    unknown = unknown_variables(body)
    if unknown:
        raise DomainError(unknown_message(unknown), "body")
    return name, body


def unknown_message(unknown: list[str]) -> str:
    names = ", ".join(f"{{{n}}}" for n in unknown)
    known = ", ".join(f"{{{n}}}" for n in VARIABLES)
    return f"Unknown variable {names}. A reply can use {known}."


def _save(org_id: int, values: dict, reply_id: int | None) -> int:
    """Insert or update in a savepoint; a broken constraint becomes the person's sentence."""
    try:
        with db.session.begin_nested():
            if reply_id is None:
                return db.session.scalar(sa.insert(SavedReply).values(org_id=org_id, **values)
                                         .returning(SavedReply.id))
            saved = db.session.scalar(
                sa.update(SavedReply).where(SavedReply.id == reply_id,
                                            SavedReply.org_id == org_id)
                .values(**values).returning(SavedReply.id))
    except IntegrityError as error:
        if constraint_name(error) == "uq_saved_reply_org_id_name":
            raise DuplicateRecord(f"A saved reply named {values['name']!r} exists.",
                                  "name") from None
        if constraint_name(error) == "ck_saved_reply_variables_known":
            raise DomainError(unknown_message(unknown_variables(values["body"])),
                              "body") from None
        raise
    if saved is None:
        raise NotFound("No such saved reply.")
    return saved


def create_saved_reply(org_id: int, name: str, body: str, actor_user_id: int | None,
                       now: datetime | None = None) -> int:
    """Save a new reply for the organization; answers its id."""
    name, body = _clean(name, body)
    now = now or utcnow()
    reply_id = _save(org_id, {"name": name, "body": body, "created_at": now,
                              "updated_at": now}, None)
    audit.record(org_id, actor_user_id, "saved_reply.created", "saved_reply", reply_id,
                 {"name": name}, now=now)
    db.session.commit()
    return reply_id


def update_saved_reply(org_id: int, reply_id: int, name: str, body: str,
                       actor_user_id: int | None, now: datetime | None = None) -> None:
    """Change a saved reply's name and text."""
    name, body = _clean(name, body)
    now = now or utcnow()
    _save(org_id, {"name": name, "body": body, "updated_at": now}, reply_id)
    audit.record(org_id, actor_user_id, "saved_reply.updated", "saved_reply", reply_id,
                 {"name": name}, now=now)
    db.session.commit()


def delete_saved_reply(org_id: int, reply_id: int, actor_user_id: int | None) -> None:
    """Remove a saved reply (messages already sent with it keep their words)."""
    name = db.session.scalar(sa.delete(SavedReply).where(
        SavedReply.id == reply_id, SavedReply.org_id == org_id).returning(SavedReply.name))
    if name is None:
        raise NotFound("No such saved reply.")
    audit.record(org_id, actor_user_id, "saved_reply.deleted", "saved_reply", reply_id,
                 {"name": name})
    db.session.commit()


# ---- filling in --------------------------------------------------------------------------

def friendly_time(at: datetime, zone) -> str:
    """'Sat, Dec 5 at 9:00 AM' in the organization's zone."""
    local = at.astimezone(zone)
    return f"{local:%a, %b} {local.day} at {local.hour % 12 or 12}:{local:%M %p}"


def _covering_booking(org_id: int, thread_id: int, now: datetime):
    """The confirmed booking whose window covers the thread now (the latest started), else the
    next one to start; with its sitter's name."""
    started = AssignmentWindow.starts_at <= now
    return db.session.execute(
        sa.select(Sitter.name, Booking.starts_at, Booking.ends_at)
        .select_from(AssignmentWindow)
        .join(Booking, sa.and_(Booking.id == AssignmentWindow.booking_id,
                               Booking.org_id == AssignmentWindow.org_id))
        .join(Sitter, sa.and_(Sitter.id == AssignmentWindow.sitter_id,
                              Sitter.org_id == AssignmentWindow.org_id))
        .where(AssignmentWindow.org_id == org_id, AssignmentWindow.thread_id == thread_id,
               AssignmentWindow.ends_at > now, Booking.status == "confirmed")
        .order_by(started.desc(), sa.case((started, AssignmentWindow.starts_at)).desc(),
                  AssignmentWindow.starts_at, AssignmentWindow.id)
        .limit(1)).first()


def thread_values(org_id: int, thread_id: int, now: datetime | None = None
                  ) -> dict[str, str | None]:
    """Each variable's value on this thread, None where it cannot be filled."""
    now = now or utcnow()
    row = db.session.execute(
        sa.select(Client.name, Client.is_guest, Organization.name.label("business"))
        .join(Thread, sa.and_(Thread.client_id == Client.id, Thread.org_id == Client.org_id))
        .join(Organization, Organization.id == Thread.org_id)
        .where(Thread.id == thread_id, Thread.org_id == org_id)).first()
    if row is None:
        raise NotFound("No such conversation.")
    name = None if row.is_guest else row.name.strip()
    booking = _covering_booking(org_id, thread_id, now)
    zone = org_zone(org_id)
    return {
        "client_first_name": name.split()[0] if name else None,
        "client_name": name,
        "sitter_name": booking.name if booking else None,
        "booking_start": friendly_time(booking.starts_at, zone) if booking else None,
        "booking_end": friendly_time(booking.ends_at, zone) if booking else None,
        "business_name": row.business or None,
    }


@dataclass(frozen=True)
class Filled:
    text: str
    unfilled: dict[str, str]  # variable -> why it could not be filled


def fill(body: str, values: dict[str, str | None]) -> Filled:
    """`body` with each variable replaced by its value; one without a value stays as typed."""
    unfilled: dict[str, str] = {}

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name not in VARIABLES:
            return match.group(0)
        if values.get(name) is None:
            unfilled[name] = WHY_UNFILLED[name]
            return match.group(0)
        return values[name]

    return Filled(VARIABLE.sub(replace, body), unfilled)


def insert_into_draft(org_id: int, thread_id: int, reply_id: int, draft: str | None,
                      now: datetime | None = None) -> Filled:
    """The reply box's text with a saved reply, filled for this thread, added after `draft`."""
    reply = get_saved_reply(org_id, reply_id)
    filled = fill(reply.body, thread_values(org_id, thread_id, now))
    draft = (draft or "").rstrip()
    text = f"{draft}\n{filled.text}" if draft else filled.text
    left = {n: WHY_UNFILLED[n] for n in unfilled_variables(text)}
    return Filled(text, left)
