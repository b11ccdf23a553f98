"""Inbound SMS and provider status callbacks: each one transaction of atomic statements.

A provider retries a webhook it thinks failed; the message's unique (provider, provider_sid)
decides whether this delivery is new (I6), and a duplicate changes nothing at all.
"""

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from pawline import after_hours, consent, jobs, media
from pawline.clock import utcnow
from pawline.consent import HELP, OPT_OUT, keyword
from pawline.db import db, run_sql
from pawline.errors import DomainError, InvalidPhone
from pawline.inputs import clip
from pawline.models import E164_PATTERN, Message, MessageNumber
from pawline.outbound import store_outbound
from pawline.phones import normalize_phone, sender_phone
from pawline.routing import NoSendingNumber
from pawline.threads import add_event, find_or_create_client_by_phone, find_or_create_thread

PREVIEW_LENGTH = 160
WHATSAPP_PREFIX = "whatsapp:"
QUARANTINE_FLAG = "sent to a quarantined number"
# Twilio joins a long SMS into one body of at most 1,600 characters. A longer signed body is not
# Twilio's doing but is still a message: it is kept whole up to 10,000 characters, and past that
# cut, flagged and logged, never refused (a provider does not send a refused message again).
BODY_KEPT = 10_000

log = logging.getLogger("pawline.inbound")


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


# Plain SQL through run_sql: the statements of every inbound SMS, with threads' find-or-creates.
NUMBER_AND_REGION = """
    SELECT n.id, n.org_id, n.e164, n.status, o.default_region, o.after_hours_reply
    FROM message_number n JOIN organization o ON o.id = n.org_id WHERE n.e164 = %(e164)s"""
INSERT_MESSAGE = """
    INSERT INTO message (org_id, thread_id, direction, body, from_e164, to_e164, number_id,
                         status, provider, provider_sid, num_media, flag, created_at,
                         status_updated_at, channel)
    VALUES (%(org)s, %(thread)s, 'inbound', %(body)s, %(from)s, %(to)s, %(number)s, 'received',
            %(provider)s, %(sid)s, %(media)s, %(flag)s, %(now)s, %(now)s, %(channel)s)
    ON CONFLICT (provider, provider_sid) DO NOTHING RETURNING id"""
# FOR NO KEY UPDATE, not FOR UPDATE: concurrent message inserts hold FOR KEY SHARE on the thread
# row (their foreign key), and FOR UPDATE would wait on them while they wait on us. A message
# older than the thread's last (a late delivery, or a concurrent one that committed first) counts
# as unread but leaves the preview of the newer one.
BUMP_THREAD = """
    WITH old AS (SELECT id, status FROM thread WHERE id = %(thread)s FOR NO KEY UPDATE)
    UPDATE thread SET status = 'open', snoozed_until = NULL,
        last_message_at = greatest(last_message_at, %(now)s),
        last_activity_at = greatest(last_activity_at, %(now)s),
        last_message_preview = CASE WHEN last_message_at > %(now)s THEN last_message_preview
                                    ELSE left(%(body)s, %(preview)s) END,
        last_message_direction = CASE WHEN last_message_at > %(now)s
                                      THEN last_message_direction ELSE 'inbound' END,
        last_message_user_id = CASE WHEN last_message_at > %(now)s
                                    THEN last_message_user_id END,
        unread_count = unread_count + 1
    FROM old WHERE thread.id = old.id
    RETURNING old.status"""

# A concurrent merge can delete the client this message was about to join (a foreign-key
# violation), and lock waits can deadlock: both leave nothing written, so the message is tried
# again from the start rather than lost.
RETRIED_SQLSTATES = {"23503", "40P01", "40001"}
ATTEMPTS = 3


def receive_sms(to_raw: str, from_raw: str, body: str, provider_sid: str,
                provider: str = "twilio", num_media: int = 0,
                now: datetime | None = None, status_callback: str | None = None,
                reply_provider: str | None = None,
                media_items: tuple[media.Media, ...] = ()) -> InboundResult:
    """Store an inbound SMS in its client's one thread, reopening it; a retry changes nothing.

    A keyword (STOP, START, HELP... pawline.consent) is acted on in the same transaction; the
    answer to HELP goes out through `reply_provider` (the configured SMS provider). Each of
    `media_items` (an MMS's MediaUrlN) becomes a pending attachment with a fetch job, in the
    same transaction: a retried webhook stores and queues nothing again.

    Twilio's WhatsApp comes through the same webhook with `whatsapp:+E164` on From and To: it is
    stored with channel 'whatsapp' on the client of that phone, the same MessageSid idempotency.
    SMS keywords and the after-hours reply are SMS's, so a WhatsApp STOP leaves SMS consent as
    it is (a reply on WhatsApp is then refused: pawline.channel_routes).
    """
    reply_provider = reply_provider or ("console" if provider == "simulator" else provider)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _receive(to_raw, from_raw, body, provider_sid, provider, num_media, now,
                            (reply_provider, status_callback), media_items)
        except DBAPIError as error:
            db.session.rollback()
            transient = getattr(error.orig, "sqlstate", None) in RETRIED_SQLSTATES
            if attempt == ATTEMPTS or not transient:
                raise
    raise AssertionError("unreachable")


def _receive(to_raw: str, from_raw: str, body: str, provider_sid: str, provider: str,
             num_media: int, now: datetime | None, reply: tuple[str, str | None],
             media_items) -> InboundResult:
    now = now or utcnow()
    channel, to_raw, from_raw = _channel_of(to_raw, from_raw)
    number, region = _number_for(to_raw)
    from_e164 = _phone(from_raw, region, "from", sender_phone)
    client_id, _ = find_or_create_client_by_phone(number.org_id, from_e164)
    thread_id = find_or_create_thread(number.org_id, client_id, now=now)
    quarantined = number.status == "quarantined"
    body, received = clip(body or "", BODY_KEPT)
    flags = [QUARANTINE_FLAG] if quarantined else []
    if received > BODY_KEPT:
        flags.append(f"cut to {BODY_KEPT:,} of {received:,} characters")
    flag = "; ".join(flags) or None
    inserted = run_sql(INSERT_MESSAGE, {
        "org": number.org_id, "thread": thread_id, "body": body, "from": from_e164,
        "to": number.e164, "number": number.id, "provider": provider, "sid": provider_sid,
        "media": num_media, "flag": flag, "now": now, "channel": channel}).fetchone()
    if inserted is None:
        db.session.rollback()  # a retried webhook: undo the find-or-creates too (they found anyway)
        return InboundResult(None, thread_id, client_id, number.org_id, True, False,
                             from_e164, number.e164)
    if received > BODY_KEPT:
        log.warning("Inbound SMS %s kept its first %d of %d characters", provider_sid,
                    BODY_KEPT, received)
    # SMS keywords are SMS's: on WhatsApp a STOP ends WhatsApp replies only (channel_routes)
    said = keyword(body) if channel == "sms" else None
    if said is not None and said.kind != HELP:  # before the thread's lock: sends lock consent first
        consent.change(number.org_id, thread_id, from_e164, said.kind == OPT_OUT, "keyword",
                       said.word, inserted.id, now)
    # a keyword is never answered with the after-hours reply; its consent is held before the lock
    closed_reply = None
    if said is None and number.after_hours_reply is not None and channel == "sms":
        closed_reply = after_hours.due(number.org_id, from_e164, number.after_hours_reply, now)
    for attachment_id in media.add_inbound(number.org_id, inserted.id, list(media_items)):
        jobs.defer_fetch(attachment_id)
    shown = media.preview(body, [media.content_type(m.content_type) for m in media_items])
    previous = _bump_thread(thread_id, shown, now)
    if previous in ("closed", "snoozed"):
        add_event(number.org_id, thread_id, "reopened", "Reopened by an inbound message", now=now)
    if said is not None and said.kind == HELP:
        _answer_help(number.org_id, thread_id, from_e164, now, *reply)
    if closed_reply is not None:
        after_hours.send(number.org_id, thread_id, from_e164, closed_reply, now, *reply)
    db.session.commit()
    return InboundResult(inserted.id, thread_id, client_id, number.org_id, False, quarantined,
                         from_e164, number.e164)


def _answer_help(org_id: int, thread_id: int, to_e164: str, now: datetime,
                 reply_provider: str, status_callback: str | None) -> None:
    """Queue the organization's answer to HELP, even to an opted-out phone (carriers expect
    HELP answered whatever the phone's consent); with no number to send from, say so."""
    try:
        message_id = store_outbound(org_id, thread_id, consent.help_reply(org_id), to_e164,
                                    reply_provider, now, auto_reply="help")
    except NoSendingNumber:
        add_event(org_id, thread_id, "help_unanswered",
                  "HELP not answered: no number can send. Add or restore a number.", now=now)
        return
    jobs.defer_delivery(message_id, status_callback)


def _channel_of(to_raw: str, from_raw: str) -> tuple[str, str, str]:
    """WhatsApp through Twilio names both ends `whatsapp:+E164`: the channel, and the phones
    without the prefix (the phone is the identity on SMS and WhatsApp alike, I1)."""
    to_text, from_text = (to_raw or "").strip(), (from_raw or "").strip()
    prefixed = [text.lower().startswith(WHATSAPP_PREFIX) for text in (to_text, from_text)]
    if not any(prefixed):
        return "sms", to_raw, from_raw
    size = len(WHATSAPP_PREFIX)
    return ("whatsapp", to_text[size:] if prefixed[0] else to_text,
            from_text[size:] if prefixed[1] else from_text)


def _number_for(to_raw: str) -> tuple:
    """The pool number `To` names (any status) and its organization's phone region."""
    text = (to_raw or "").strip()
    # Our own numbers are looked up as stored; only a non-E.164 `To` goes through parsing.
    to_e164 = text if re.fullmatch(E164_PATTERN, text) else _phone(text, "US", "to")
    row = run_sql(NUMBER_AND_REGION, {"e164": to_e164}).fetchone()
    if row is None:
        raise UnknownNumber(f"{to_e164} is not one of our numbers.")
    return row, row.default_region


def _phone(raw: str, region: str, field: str, normalize=normalize_phone) -> str:
    """`raw` in E.164, or InvalidPhone naming the field it came from."""
    try:
        return normalize(raw, region)
    except InvalidPhone as error:
        raise InvalidPhone(error.message, field=field) from None


def _bump_thread(thread_id: int, body: str, now: datetime) -> str:
    """Reopen the thread and count the message, in one statement; answers its previous status."""
    return run_sql(BUMP_THREAD, {"thread": thread_id, "body": body, "now": now,
                                 "preview": PREVIEW_LENGTH}).fetchone().status


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
