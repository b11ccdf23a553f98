"""Bookings and their assignment windows (I3, I7): who covers which client, and when.

Confirming a booking gives the client's one thread an assignment window for the booking's sitter
and times (one per booking, I7). Bookings never assign or reassign masked numbers: only
activating a sitter does (I5). Cancelling keeps history: a window that has started ends now; one
that has not started yet is deleted (it never covered anyone).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from pawline import audit, booking_messages
from pawline.clients import search_clients
from pawline.clock import utcnow
from pawline.db import add_or_explain, db
from pawline.errors import DomainError, DuplicateRecord, NotFound
from pawline.inputs import db_id, within
from pawline.models import AssignmentWindow, Booking, Client, Sitter
from pawline.phones import client_name, display_phone
from pawline.threads import find_or_create_thread


@dataclass(frozen=True)
class BookingRow:
    booking: Booking
    client_name: str
    sitter_name: str
    client_is_guest: bool = False


@dataclass(frozen=True)
class WindowRow:
    booking_id: int
    sitter_id: int
    sitter_name: str
    starts_at: datetime
    ends_at: datetime


# ---- times ---------------------------------------------------------------------------------

def parse_local_time(text: str | None, zone: ZoneInfo, field: str) -> datetime:
    """A form's `datetime-local` value (YYYY-MM-DDTHH:MM) read in `zone`, answered in UTC."""
    text = (text or "").strip()
    if not text:
        raise DomainError("Enter a date and time.", field)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise DomainError(f"{text!r} is not a date and time (YYYY-MM-DD HH:MM).", field) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return _near(value, field)


def parse_instant(text, field: str) -> datetime:
    """An ISO-8601 time with a UTC offset (as booking systems send), answered in UTC."""
    if not isinstance(text, str) or not text.strip():
        raise DomainError(f"{field} is missing.", field)
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise DomainError(f"{field} is not an ISO-8601 time.", field) from None
    if value.tzinfo is None:
        raise DomainError(f"{field} needs a UTC offset (e.g. +00:00).", field)
    return _near(value, field)


# Bookings are for pets and sitters of today: a time years away is a typo (year 9999 overflowed
# the conversion to UTC, and PostgreSQL's reading it back).
BOOKING_HORIZON = timedelta(days=5 * 366)


def _near(value: datetime, field: str) -> datetime:
    """`value` in UTC when it is within BOOKING_HORIZON of now, else DomainError."""
    within(value, utcnow(), BOOKING_HORIZON, field, "Pick a time within five years of today.")
    return value.astimezone(UTC)


def local_input_value(value: datetime | None, zone: ZoneInfo) -> str:
    """A UTC time as a `datetime-local` form value in `zone`."""
    return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if value else ""


def _check_times(starts_at: datetime, ends_at: datetime) -> None:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise DomainError("Times must carry a time zone.", "starts_at")
    if ends_at <= starts_at:
        raise DomainError("The booking must end after it starts.", "ends_at")


# ---- lookups -------------------------------------------------------------------------------

def _require(model, org_id: int, record_id, field: str, what: str):
    try:
        record_id = db_id(record_id)
    except ValueError:
        raise NotFound(f"Choose a {what}.", field) from None
    row = db.session.scalar(sa.select(model).where(model.id == record_id, model.org_id == org_id))
    if row is None:
        raise NotFound(f"No such {what}.", field)
    return row


def get_booking(org_id: int, booking_id: int, lock: bool = False) -> Booking:
    """The organization's booking by id; another organization's id is NotFound."""
    query = sa.select(Booking).where(Booking.id == booking_id, Booking.org_id == org_id)
    booking = db.session.scalar(query.with_for_update() if lock else query)
    if booking is None:
        raise NotFound("No such booking.")
    return booking


def list_bookings(org_id: int, now: datetime, past_limit: int = 50
                  ) -> tuple[list[BookingRow], list[BookingRow]]:
    """(current and upcoming by start, recent past newest first), with client and sitter names."""
    base = (
        sa.select(Booking, Client.name, Sitter.name, Client.is_guest)
        .join(Client, sa.and_(Client.id == Booking.client_id, Client.org_id == Booking.org_id))
        .join(Sitter, sa.and_(Sitter.id == Booking.sitter_id, Sitter.org_id == Booking.org_id))
        .where(Booking.org_id == org_id)
    )
    ahead = db.session.execute(
        base.where(Booking.ends_at > now).order_by(Booking.starts_at, Booking.id))
    past = db.session.execute(
        base.where(Booking.ends_at <= now).order_by(Booking.starts_at.desc(), Booking.id.desc())
        .limit(past_limit))
    return [BookingRow(*row) for row in ahead], [BookingRow(*row) for row in past]


CLIENT_CHOICES = 50  # a booking form lists this many clients; a search finds any other


def client_choices(org_id: int, query: str = "", chosen_id=None) -> list[tuple[int, str]]:
    """(id, label) of the clients a booking form offers: the first matching `query` by name
    (the first by name when empty), and the chosen one wherever it sorts."""
    rows = search_clients(org_id, query, limit=CLIENT_CHOICES).rows
    found = [(r.id, _client_label(r.name, r.is_guest, r.phones)) for r in rows]
    try:
        chosen = db_id(chosen_id) if chosen_id else None
    except ValueError:
        chosen = None
    if chosen is not None and chosen not in {i for i, _ in found}:
        kept = search_clients(org_id, only_id=chosen).rows  # of this organization, or nothing
        found = [(r.id, _client_label(r.name, r.is_guest, r.phones)) for r in kept] + found
    return found


def _client_label(name: str, is_guest: bool, phones: list[str]) -> str:
    shown = client_name(name, is_guest)
    if not phones or shown == display_phone(phones[0]):
        return shown
    return f"{shown} · {display_phone(phones[0])}"


def sitter_choices(org_id: int) -> list[tuple[int, str]]:
    """(id, name) of the organization's sitters, active first, for a booking form."""
    return [tuple(r) for r in db.session.execute(
        sa.select(Sitter.id, Sitter.name).where(Sitter.org_id == org_id)
        .order_by(Sitter.active.desc(), sa.func.lower(Sitter.name), Sitter.id))]


def windows_for_thread(org_id: int, thread_id: int) -> list[WindowRow]:
    """The thread's assignment windows with their sitters' names, earliest first (one query)."""
    rows = db.session.execute(
        sa.select(AssignmentWindow.booking_id, AssignmentWindow.sitter_id, Sitter.name,
                  AssignmentWindow.starts_at, AssignmentWindow.ends_at)
        .join(Sitter, sa.and_(Sitter.id == AssignmentWindow.sitter_id,
                              Sitter.org_id == AssignmentWindow.org_id))
        .where(AssignmentWindow.org_id == org_id, AssignmentWindow.thread_id == thread_id)
        .order_by(AssignmentWindow.starts_at, AssignmentWindow.id)
    )
    return [WindowRow(*row) for row in rows]


# ---- changes -------------------------------------------------------------------------------

def _booking_data(booking: Booking) -> dict:
    return {"client_id": booking.client_id, "sitter_id": booking.sitter_id,
            "starts_at": booking.starts_at.isoformat(), "ends_at": booking.ends_at.isoformat(),
            "external_ref": booking.external_ref, "status": booking.status}


def create_booking(org_id: int, client_id: int, sitter_id: int, starts_at: datetime,
                   ends_at: datetime, actor_user_id: int | None = None,
                   external_ref: str | None = None) -> Booking:
    """Create a pending booking of a client with a sitter."""
    _require(Client, org_id, client_id, "client_id", "client")
    _require(Sitter, org_id, sitter_id, "sitter_id", "sitter")
    _check_times(starts_at, ends_at)
    booking = add_or_explain(
        Booking(org_id=org_id, client_id=int(client_id), sitter_id=int(sitter_id),
                starts_at=starts_at, ends_at=ends_at, status="pending",
                external_ref=external_ref or None),
        {"uq_booking_org_id_external_ref": DuplicateRecord(
            f"A booking with the reference {external_ref!r} exists.", "external_ref")})
    audit.record(org_id, actor_user_id, "booking.created", "booking", booking.id,
                 _booking_data(booking))
    db.session.commit()
    return booking


def _move_window(booking: Booking) -> None:
    """Make the booking's window (if it has one) follow its client, sitter and times, and its
    pending reminder its start."""
    if booking.status != "confirmed":
        return
    booking_messages.follow_booking(booking)
    thread_id = find_or_create_thread(booking.org_id, booking.client_id)
    db.session.execute(
        sa.update(AssignmentWindow)
        .where(AssignmentWindow.booking_id == booking.id,
               AssignmentWindow.org_id == booking.org_id)
        .values(thread_id=thread_id, sitter_id=booking.sitter_id,
                starts_at=booking.starts_at, ends_at=booking.ends_at)
    )


def update_booking(org_id: int, booking_id: int, client_id: int, sitter_id: int,
                   starts_at: datetime, ends_at: datetime,
                   actor_user_id: int | None = None) -> Booking:
    """Change a booking's client, sitter or times; its window moves with it."""
    booking = get_booking(org_id, booking_id, lock=True)
    if booking.status == "cancelled":
        raise DomainError("A cancelled booking cannot be changed.")
    _require(Client, org_id, client_id, "client_id", "client")
    _require(Sitter, org_id, sitter_id, "sitter_id", "sitter")
    _check_times(starts_at, ends_at)
    booking.client_id, booking.sitter_id = int(client_id), int(sitter_id)
    booking.starts_at, booking.ends_at = starts_at, ends_at
    db.session.flush()
    _move_window(booking)
    audit.record(org_id, actor_user_id, "booking.updated", "booking", booking.id,
                 _booking_data(booking))
    db.session.commit()
    return booking


def _confirm(org_id: int, booking_id: int, actor_user_id: int | None, now: datetime) -> bool:
    """Confirm and open the window (internal, no commit); True when this call confirmed it."""
    confirmed = db.session.execute(
        sa.update(Booking)
        .where(Booking.id == booking_id, Booking.org_id == org_id, Booking.status == "pending")
        .values(status="confirmed")
        .returning(Booking.id)
    ).first() is not None
    booking = get_booking(org_id, booking_id)
    db.session.refresh(booking)
    if booking.status == "cancelled":
        raise DomainError("This booking was cancelled; it cannot be confirmed.")
    thread_id = find_or_create_thread(org_id, booking.client_id, now)
    db.session.execute(
        insert(AssignmentWindow)
        .values(org_id=org_id, thread_id=thread_id, booking_id=booking.id,
                sitter_id=booking.sitter_id, starts_at=booking.starts_at,
                ends_at=booking.ends_at)
        .on_conflict_do_nothing(index_elements=["booking_id"])  # I7
    )
    if confirmed:
        booking_messages.plan_for_booking(booking, now)
        audit.record(org_id, actor_user_id, "booking.confirmed", "booking", booking.id,
                     {"thread_id": thread_id, "sitter_id": booking.sitter_id}, now=now)
    return confirmed


def confirm_booking(org_id: int, booking_id: int, actor_user_id: int | None = None,
                    now: datetime | None = None) -> Booking:
    """Confirm a booking: the client's one thread gets the booking's window (twice is once)."""
    try:
        _confirm(org_id, booking_id, actor_user_id, now or utcnow())
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return get_booking(org_id, booking_id)


def cancel_booking(org_id: int, booking_id: int, actor_user_id: int | None = None,
                   now: datetime | None = None) -> Booking:
    """Cancel a booking: a started window ends now, one not yet started is deleted; its pending
    automatic messages are canceled."""
    now = now or utcnow()
    booking = get_booking(org_id, booking_id, lock=True)
    if booking.status == "cancelled":
        db.session.commit()
        return booking
    booking.status = "cancelled"
    window = sa.and_(AssignmentWindow.booking_id == booking.id,
                     AssignmentWindow.org_id == org_id)
    db.session.execute(
        sa.delete(AssignmentWindow).where(window, AssignmentWindow.starts_at >= now))
    db.session.execute(
        sa.update(AssignmentWindow)
        .where(window, AssignmentWindow.starts_at < now, AssignmentWindow.ends_at > now)
        .values(ends_at=now))
    booking_messages.cancel_for_booking(org_id, booking.id, now)
    audit.record(org_id, actor_user_id, "booking.cancelled", "booking", booking.id,
                 {"window_ended_at": now.isoformat()}, now=now)
    db.session.commit()
    return booking
