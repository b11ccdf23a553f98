"""Inbound SMS and provider status callbacks: each one transaction of atomic statements.

A provider retries a webhook it thinks failed; the message's unique (provider, provider_sid)
decides whether this delivery is new (I6), and a duplicate changes nothing at all.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError

from pawline.clock import utcnow
from pawline.db import db
from pawline.errors import DomainError, InvalidPhone
from pawline.models import E164_PATTERN, Message, MessageNumber, Organization, Thread
from pawline.phones import normalize_phone
from pawline.threads import add_event, find_or_create_client_by_phone, find_or_create_thread

PREVIEW_LENGTH = 160
QUARANTINE_FLAG = "sent to a quarantined number"


class UnknownNumber(DomainError):
    """The `To` number is in no organization's pool."""

    field = "to"


@dataclass(frozen=True)
class InboundResult:
    message_id: int | None
    thread_id: int
    client_id: int
    org_id: int
    duplicate: bool
    flagged: bool
    from_e164: str = ""
    to_e164: str = ""


# A concurrent merge can delete the client this message was about to join (a foreign-key
# violation), and lock waits can deadlock: both leave nothing written, so the message is tried
# again from the start rather than lost.
RETRIED_SQLSTATES = {"23503", "40P01", "40001"}
ATTEMPTS = 3


def receive_sms(to_raw: str, from_raw: str, body: str, provider_sid: str,
                provider: str = "twilio", num_media: int = 0,
                now: datetime | None = None) -> InboundResult:
    """Store an inbound SMS in its client's one thread, reopening it; a retry changes nothing."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _receive(to_raw, from_raw, body, provider_sid, provider, num_media, now)
        except DBAPIError as error:
            db.session.rollback()
            transient = getattr(error.orig, "sqlstate", None) in RETRIED_SQLSTATES
            if attempt == ATTEMPTS or not transient:
                raise
    raise AssertionError("unreachable")


def _receive(to_raw: str, from_raw: str, body: str, provider_sid: str, provider: str,
             num_media: int, now: datetime | None) -> InboundResult:
    now = now or utcnow()
    session = db.session
    number, region = _number_for(to_raw)
    from_e164 = _phone(from_raw, region, "from")
    client_id, _ = find_or_create_client_by_phone(number.org_id, from_e164)
    thread_id = find_or_create_thread(number.org_id, client_id, now=now)
    flag = QUARANTINE_FLAG if number.status == "quarantined" else None
    messages = Message.__table__  # Core statements: this is the hot path of every inbound SMS
    message_id = session.scalar(
        insert(messages)
        .values(org_id=number.org_id, thread_id=thread_id, direction="inbound", body=body or "",
                from_e164=from_e164, to_e164=number.e164, number_id=number.id,
                status="received", provider=provider, provider_sid=provider_sid,
                num_media=num_media, flag=flag, created_at=now, status_updated_at=now)
        .on_conflict_do_nothing(index_elements=["provider", "provider_sid"])
        .returning(messages.c.id)
    )
    if message_id is None:
        session.rollback()  # a retried webhook: undo the find-or-creates too (they found anyway)
        return InboundResult(None, thread_id, client_id, number.org_id, True, False,
                             from_e164, number.e164)
    previous = _bump_thread(thread_id, body or "", now)
    if previous in ("closed", "snoozed"):
        add_event(number.org_id, thread_id, "reopened", "Reopened by an inbound message", now=now)
    session.commit()
    return InboundResult(message_id, thread_id, client_id, number.org_id, False, flag is not None,
                         from_e164, number.e164)


def _number_for(to_raw: str) -> tuple[sa.Row, str]:
    """The pool number `To` names (any status) and its organization's phone region."""
    text = (to_raw or "").strip()
    # Our own numbers are looked up as stored; only a non-E.164 `To` goes through parsing.
    to_e164 = text if re.fullmatch(E164_PATTERN, text) else _phone(text, "US", "to")
    numbers = MessageNumber.__table__
    row = db.session.execute(
        sa.select(numbers.c.id, numbers.c.org_id, numbers.c.e164, numbers.c.status,
                  Organization.__table__.c.default_region)
        .join(Organization.__table__, Organization.__table__.c.id == numbers.c.org_id)
        .where(numbers.c.e164 == to_e164)
    ).first()
    if row is None:
        raise UnknownNumber(f"{to_e164} is not one of our numbers.")
    return row, row.default_region


def _phone(raw: str, region: str, field: str) -> str:
    """`raw` in E.164, or InvalidPhone naming the field it came from."""
    try:
        return normalize_phone(raw, region)
    except InvalidPhone as error:
        raise InvalidPhone(error.message, field=field) from None


def _bump_thread(thread_id: int, body: str, now: datetime) -> str:
    """Reopen the thread and count the message, in one statement; answers its previous status."""
    # FOR NO KEY UPDATE, not FOR UPDATE: concurrent message inserts hold FOR KEY SHARE on this
    # row (their foreign key), and FOR UPDATE would wait on them while they wait on us.
    threads = Thread.__table__
    old = (sa.select(threads.c.id, threads.c.status).where(threads.c.id == thread_id)
           .with_for_update(key_share=True).subquery("old"))
    return db.session.scalar(
        sa.update(threads)
        .where(threads.c.id == old.c.id)
        .values(status="open", snoozed_until=None,
                last_message_at=sa.func.greatest(threads.c.last_message_at, now),
                last_activity_at=sa.func.greatest(threads.c.last_activity_at, now),
                last_message_preview=sa.func.left(body, PREVIEW_LENGTH),
                last_message_direction="inbound",
                unread_count=threads.c.unread_count + 1)
        .returning(old.c.status)
    )


# Twilio's statuses in the order a message moves; ones we don't store map onto the nearest.
STATUS_RANK = {"queued": 1, "sending": 2, "sent": 3, "delivered": 4, "undelivered": 4,
               "failed": 4}
STATUS_ALIASES = {"accepted": "queued", "scheduled": "queued", "canceled": "failed",
                  "partially_delivered": "delivered", "read": "delivered"}


def apply_status_callback(provider_sid: str, status: str, error_code: str | None = None,
                          error_message: str | None = None, provider: str = "twilio",
                          now: datetime | None = None) -> bool:
    """Move an outbound message's status forward (never back); False when nothing changed."""
    reported = (status or "").strip().lower()
    stored = STATUS_ALIASES.get(reported, reported)
    if stored not in STATUS_RANK or not provider_sid:
        return False
    new_rank = STATUS_RANK[stored]
    failed = stored in ("undelivered", "failed")
    values = {"status": stored, "status_updated_at": now or utcnow()}
    if failed:
        values |= {"error_code": error_code or None, "error_message": error_message or None}
    changed = db.session.execute(
        sa.update(Message)
        .where(Message.provider == provider, Message.provider_sid == provider_sid,
               Message.direction == "outbound", _rank(Message.status) < new_rank)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return changed > 0


def _rank(column) -> sa.ColumnElement[int]:
    """The SQL rank of a stored status (received and unknowns rank 0)."""
    return sa.case(STATUS_RANK, value=column, else_=0)


def receiving_numbers(org_id: int) -> list[MessageNumber]:
    """The organization's numbers a phone can text (any status), front desk first."""
    order = sa.case({"front_desk": 0, "sitter": 1, "pool": 2}, value=MessageNumber.number_class)
    return list(db.session.scalars(
        sa.select(MessageNumber).where(MessageNumber.org_id == org_id)
        .order_by(order, MessageNumber.e164)
    ))


def simulator_sid() -> str:
    """A fresh provider id for a message typed into the phone simulator."""
    return "SIM" + uuid.uuid4().hex
