"""Bookings the booking system sends (its signed webhook: blueprints/booking_webhook.py).

The booking system names each booking by its `external_ref` and says when it last changed it
(`updated_at`). A payload is applied only when that version is newer than the one stored
(`booking.external_updated_at`): a payload replayed, retried or delivered late changes nothing,
and the trigger booking_versions_only_advance refuses any write that would move the version
back. A cancelled booking is final, as in the UI: a newer payload for it is refused (and the
trigger booking_cancelled_is_final refuses the write whatever code attempts it).
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from pawline import audit
from pawline.accounts import org_region
from pawline.bookings import (
    _booking_data,
    _check_times,
    _confirm,
    _move_window,
    _require,
    get_booking,
)
from pawline.clock import utcnow
from pawline.db import db
from pawline.errors import DomainError
from pawline.models import Booking, Client, Sitter
from pawline.phones import normalize_phone
from pawline.threads import find_or_create_client_by_phone, guest_name

CANCELLED = "This booking was cancelled; it cannot be changed."


@dataclass(frozen=True)
class ExternalBooking:
    booking: Booking
    created: bool
    changed: bool
    stale: bool = False  # older than the version stored: nothing was applied


def upsert_external_booking(org_id: int, external_ref: str, client_phone: str,
                            client_name: str | None, sitter_id: int, starts_at: datetime,
                            ends_at: datetime, updated_at: datetime, confirm: bool,
                            now: datetime | None = None) -> ExternalBooking:
    """Create the booking with this reference, or apply a newer version of it; one commit.

    The same version again (a retry) or an older one changes nothing. A newer version of a
    cancelled booking is a DomainError.
    """
    now = now or utcnow()
    try:
        result = _upsert(org_id, external_ref, client_phone, client_name, sitter_id, starts_at,
                         ends_at, updated_at, confirm, now)
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return result


def _locked(org_id: int, ref: str) -> Booking | None:
    return db.session.scalar(
        sa.select(Booking).where(Booking.org_id == org_id, Booking.external_ref == ref)
        .with_for_update().execution_options(populate_existing=True))


def _client_for(org_id: int, e164: str, client_name: str | None) -> int:
    """The client of this phone, made a guest if new; a guest takes the name the system sent."""
    client_id, _ = find_or_create_client_by_phone(org_id, e164)
    if client_name and client_name.strip():
        db.session.execute(
            sa.update(Client)
            .where(Client.id == client_id, Client.is_guest.is_(True),
                   Client.name == guest_name(e164))
            .values(name=client_name.strip(), is_guest=False))
    return client_id


def _record(booking: Booking, action: str, updated_at: datetime, now: datetime) -> None:
    audit.record(booking.org_id, None, action, "booking", booking.id,
                 {**_booking_data(booking), "source": "webhook",
                  "version": updated_at.isoformat()}, now=now)


def _upsert(org_id, external_ref, client_phone, client_name, sitter_id, starts_at, ends_at,
            updated_at, confirm, now) -> ExternalBooking:
    if not isinstance(external_ref, str) or not external_ref.strip():
        raise DomainError("external_ref is missing.", "external_ref")
    if updated_at.tzinfo is None:
        raise DomainError("updated_at needs a UTC offset.", "updated_at")
    ref = external_ref.strip()
    sitter = _require(Sitter, org_id, sitter_id, "sitter_id", "sitter")
    _check_times(starts_at, ends_at)
    e164 = normalize_phone(client_phone, org_region(org_id))
    booking = _locked(org_id, ref)
    if booking is None:
        created_id = db.session.scalar(
            insert(Booking).values(
                org_id=org_id, external_ref=ref, status="pending",
                client_id=_client_for(org_id, e164, client_name), sitter_id=sitter.id,
                starts_at=starts_at, ends_at=ends_at, external_updated_at=updated_at)
            .on_conflict_do_nothing(index_elements=["org_id", "external_ref"])
            .returning(Booking.id))
        if created_id is not None:
            booking = get_booking(org_id, created_id)
            _record(booking, "booking.created", updated_at, now)
            if confirm:
                _confirm(org_id, booking.id, None, now)
                db.session.refresh(booking)
            return ExternalBooking(booking, created=True, changed=True)
        booking = _locked(org_id, ref)  # a concurrent delivery created it first
    stored = booking.external_updated_at
    if stored is not None and updated_at <= stored:
        return ExternalBooking(booking, created=False, changed=False, stale=updated_at < stored)
    if booking.status == "cancelled":
        raise DomainError(CANCELLED)
    client_id = _client_for(org_id, e164, client_name)
    changed = (client_id, sitter.id, starts_at, ends_at) != (
        booking.client_id, booking.sitter_id, booking.starts_at, booking.ends_at)
    booking.client_id, booking.sitter_id = client_id, sitter.id
    booking.starts_at, booking.ends_at = starts_at, ends_at
    booking.external_updated_at = updated_at
    db.session.flush()
    if changed:
        _move_window(booking)
        _record(booking, "booking.updated", updated_at, now)
    confirmed = _confirm(org_id, booking.id, None, now) if confirm else False
    db.session.refresh(booking)
    return ExternalBooking(booking, created=False, changed=changed or confirmed)
