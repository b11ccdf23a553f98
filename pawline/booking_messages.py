"""Automatic booking messages: a confirmation when a booking is confirmed, a reminder a set time
before it starts. Each organization can switch each kind off and edit its template (the
saved-reply variables; {sitter_name}, {booking_start} and {booking_end} are the booking's own).

Confirming a booking plans one booking_message row per kind (INSERT .. ON CONFLICT DO NOTHING on
uq_booking_message_org_id_booking_id_kind, so confirming twice plans once). Editing the booking's
start moves a pending reminder; cancelling the booking cancels what is pending, in the same
transaction (pawline.bookings and the booking webhook both go through follow_booking and
cancel_for_booking). The minute's sweep claims a due row 'pending' to 'sent' in the transaction
that stores its message (client_token 'booking-<id>'), so of any number of workers one sends it.
The number is chosen by the routing rules when it is sent. queue_message refuses an opted-out
phone: the row is then canceled with that reason; a kind switched off is canceled at sending.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from pawline import audit
from pawline.accounts import org_zone
from pawline.booking_message_models import (
    KINDS,
    LEAD_MAX,
    LEAD_MIN,
    BookingMessage,
    BookingMessageSetting,
)
from pawline.clock import utcnow
from pawline.db import db
from pawline.desk_models import BODY_MAX
from pawline.due_sends import DueSends
from pawline.errors import DomainError
from pawline.models import Booking, Sitter
from pawline.saved_replies import (
    fill,
    friendly_time,
    thread_values,
    unknown_message,
    unknown_variables,
)
from pawline.threads import find_or_create_thread

DEFAULT_LEAD_MINUTES = 24 * 60
DEFAULT_BODIES = {
    "confirmation": "Hi {client_first_name}, your booking with {sitter_name} on {booking_start} "
                    "is confirmed. {business_name}",
    "reminder": "Hi {client_first_name}, a reminder: {sitter_name} sees you on {booking_start}. "
                "{business_name}",
}
CANCELLED = "The booking was cancelled."
SWITCHED_OFF = "Switched off in the settings when it was due."
STARTED = "The booking had started before it was due."
TOO_LATE = "Confirmed closer to its start than the reminder's lead: the confirmation said when."
SENDS = DueSends(BookingMessage, "pending", "due_at")


@dataclass(frozen=True)
class Setting:
    kind: str
    enabled: bool
    body: str
    lead_minutes: int | None


def settings(org_id: int) -> dict[str, Setting]:
    """Each kind's setting, the default where the organization kept it."""
    rows = {r.kind: r for r in db.session.scalars(sa.select(BookingMessageSetting).where(
        BookingMessageSetting.org_id == org_id))}
    found = {}
    for kind in KINDS:
        row = rows.get(kind)
        lead = DEFAULT_LEAD_MINUTES if kind == "reminder" else None
        found[kind] = (Setting(kind, row.enabled, row.body, row.lead_minutes) if row
                       else Setting(kind, True, DEFAULT_BODIES[kind], lead))
    return found


def set_setting(org_id: int, kind: str, enabled: bool, body: str | None,
                lead_minutes: int | None, actor_user_id: int | None,
                now: datetime | None = None) -> None:
    """Save one kind's setting (empty body: the default); pending reminders follow a new lead."""
    save_settings(org_id, {kind: (enabled, body, lead_minutes)}, actor_user_id, now)


def save_settings(org_id: int, changes: dict[str, tuple[bool, str | None, int | None]],
                  actor_user_id: int | None, now: datetime | None = None) -> None:
    """Save (enabled, body, lead_minutes) of each kind in `changes`, all or none; audited."""
    now = now or utcnow()
    try:
        for kind, (enabled, body, lead_minutes) in changes.items():
            _save(org_id, kind, enabled, body, lead_minutes, actor_user_id, now)
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()


def _save(org_id: int, kind: str, enabled: bool, body: str | None, lead_minutes: int | None,
          actor_user_id: int | None, now: datetime) -> None:
    if kind not in KINDS:
        raise DomainError("No such automatic message.")
    text = (body or "").strip() or DEFAULT_BODIES[kind]
    if len(text) > BODY_MAX:
        raise DomainError(f"A message can have at most {BODY_MAX} characters.", f"{kind}_body")
    unknown = unknown_variables(text)
    if unknown:
        raise DomainError(unknown_message(unknown), f"{kind}_body")
    if kind == "reminder":
        if lead_minutes is None or not LEAD_MIN <= lead_minutes <= LEAD_MAX:
            raise DomainError("Send the reminder between 15 minutes and 14 days before.",
                              "lead_hours")
    else:
        lead_minutes = None
    values = {"enabled": enabled, "body": text, "lead_minutes": lead_minutes, "updated_at": now}
    db.session.execute(insert(BookingMessageSetting).values(org_id=org_id, kind=kind, **values)
                       .on_conflict_do_update(index_elements=["org_id", "kind"], set_=values))
    if kind == "reminder":
        db.session.execute(
            sa.update(BookingMessage)
            .where(BookingMessage.org_id == org_id, BookingMessage.kind == "reminder",
                   BookingMessage.status == "pending", Booking.id == BookingMessage.booking_id,
                   Booking.org_id == BookingMessage.org_id)
            .values(due_at=Booking.starts_at - timedelta(minutes=lead_minutes), updated_at=now))
    audit.record(org_id, actor_user_id, f"settings.booking_{kind}", "organization", org_id,
                 {"enabled": enabled, "body": text, "lead_minutes": lead_minutes}, now=now)


def _lead(org_id: int) -> timedelta:
    return timedelta(minutes=settings(org_id)["reminder"].lead_minutes)


def plan_for_booking(booking: Booking, now: datetime) -> None:
    """A confirmed booking's messages, pending (in the caller's transaction; once per kind). A
    booking confirmed closer to its start than the reminder's lead gets no reminder: the
    confirmation went out just now."""
    remind_at = booking.starts_at - _lead(booking.org_id)
    late = remind_at <= now
    rows = [{"kind": "confirmation", "due_at": now, "status": "pending", "reason": None},
            {"kind": "reminder", "due_at": remind_at, "status": "canceled" if late else "pending",
             "reason": TOO_LATE if late else None}]
    db.session.execute(
        insert(BookingMessage)
        .values([{"org_id": booking.org_id, "booking_id": booking.id, "created_at": now,
                  "updated_at": now, **row} for row in rows])
        .on_conflict_do_nothing(index_elements=["org_id", "booking_id", "kind"]))


def follow_booking(booking: Booking, now: datetime | None = None) -> None:
    """A pending reminder moves with the booking's start (caller's transaction)."""
    db.session.execute(
        sa.update(BookingMessage)
        .where(BookingMessage.org_id == booking.org_id, BookingMessage.booking_id == booking.id,
               BookingMessage.kind == "reminder", BookingMessage.status == "pending")
        .values(due_at=booking.starts_at - _lead(booking.org_id), updated_at=now or utcnow()))


def cancel_for_booking(org_id: int, booking_id: int, now: datetime) -> None:
    """A cancelled booking's pending messages are canceled (caller's transaction)."""
    _stop_where(sa.and_(BookingMessage.org_id == org_id, BookingMessage.booking_id == booking_id),
                "canceled", CANCELLED, now)


def for_booking(org_id: int, booking_id: int) -> list[BookingMessage]:
    return db.session.scalars(sa.select(BookingMessage).where(
        BookingMessage.org_id == org_id, BookingMessage.booking_id == booking_id)
        .order_by(BookingMessage.due_at, BookingMessage.id)).all()


# ---- sending -------------------------------------------------------------------------------

def send_due(provider_name: str, now: datetime | None = None,
             status_callback: str | None = None) -> int:
    """Send every booking message due at `now` (each once); answers how many this call sent."""
    now = now or utcnow()
    return sum(send_one(i, provider_name, now, status_callback) for i in SENDS.due_ids(now))


def send_one(row_id: int, provider_name: str, now: datetime,
             status_callback: str | None = None) -> bool:
    """Claim one due message and store it, in one transaction; False if another worker had it
    or it was not sent (canceled or failed, with the reason)."""
    from pawline import outbound  # outbound imports the job queue, which imports this module

    row = SENDS.claim(row_id, now)
    if row is None:
        return False
    booking = db.session.execute(
        sa.select(Booking, Sitter.name).join(Sitter, sa.and_(
            Sitter.id == Booking.sitter_id, Sitter.org_id == Booking.org_id))
        .where(Booking.id == row.booking_id, Booking.org_id == row.org_id)).one()
    setting = settings(row.org_id)[row.kind]
    stop = (CANCELLED if booking.Booking.status == "cancelled" else
            SWITCHED_OFF if not setting.enabled else
            STARTED if row.kind == "reminder" and booking.Booking.starts_at <= now else None)
    if stop:
        SENDS.stop(row.id, "canceled", stop, now)
        return False
    thread_id = find_or_create_thread(row.org_id, booking.Booking.client_id, now)
    body = _body(row.org_id, thread_id, setting.body, booking.Booking, booking.name, now)
    return SENDS.send(row.id, now, lambda: outbound.queue_message(
        row.org_id, thread_id, body, None, provider_name, f"booking-{row.id}", now,
        status_callback=status_callback, auto_reply=f"booking_{row.kind}"))


def _body(org_id: int, thread_id: int, template: str, booking: Booking, sitter_name: str,
          now: datetime) -> str:
    """The template filled for this booking; a client without a name is 'there'."""
    zone = org_zone(org_id)
    values = thread_values(org_id, thread_id, now)
    values.update(sitter_name=sitter_name, booking_start=friendly_time(booking.starts_at, zone),
                  booking_end=friendly_time(booking.ends_at, zone))
    values["client_first_name"] = values["client_first_name"] or "there"
    values["client_name"] = values["client_name"] or "there"
    return fill(template, values).text


def _stop_where(where, status: str, reason: str, now: datetime) -> None:
    db.session.execute(sa.update(BookingMessage)
                       .where(where, BookingMessage.status == "pending")
                       .values(status=status, reason=reason, updated_at=now))
