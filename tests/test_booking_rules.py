"""The database keeps the booking rules whatever code writes: a booking's version from the
booking system only moves forward, and a cancelled booking is final (but may follow a merge)."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from pawline import bookings, sitters
from pawline.db import constraint_name, db
from pawline.external_bookings import upsert_external_booking
from pawline.models import Booking
from tests import factories

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def booking(ctx):
    org = factories.org()
    sitter_id = sitters.create_sitter(org.id, "Sam", factories.phone()).id
    made = upsert_external_booking(org.id, "BK-9", factories.phone(), "Ada", sitter_id, NOW,
                                   NOW + HOUR, updated_at=NOW, confirm=False, now=NOW).booking
    return made


def update(booking_id: int, **values) -> None:
    with db.session.begin_nested():
        db.session.execute(sa.update(Booking).where(Booking.id == booking_id).values(**values))


def refused(booking_id: int, **values) -> str | None:
    with pytest.raises(IntegrityError) as caught:
        update(booking_id, **values)
    assert caught.value.orig.sqlstate == "23001"  # restrict_violation
    return constraint_name(caught.value)


def test_a_version_moved_back_is_refused(booking):
    assert refused(booking.id, external_updated_at=NOW - timedelta(seconds=1)) == (
        "booking_versions_only_advance")
    assert refused(booking.id, external_updated_at=None) == "booking_versions_only_advance"


def test_the_same_or_a_newer_version_is_accepted(booking):
    update(booking.id, external_updated_at=NOW, starts_at=NOW + HOUR, ends_at=NOW + 2 * HOUR)
    update(booking.id, external_updated_at=NOW + HOUR)

    assert db.session.scalar(sa.select(Booking.external_updated_at)
                             .where(Booking.id == booking.id)) == NOW + HOUR


def test_a_booking_made_in_the_ui_takes_its_first_version(ctx):
    org = factories.org()
    sitter_id = sitters.create_sitter(org.id, "Sam", factories.phone()).id
    client_id = factories.client(org.id)
    made = bookings.create_booking(org.id, client_id, sitter_id, NOW, NOW + HOUR)

    update(made.id, external_updated_at=NOW)


@pytest.mark.parametrize("change", [
    {"status": "pending"}, {"status": "confirmed"}, {"starts_at": NOW - HOUR},
    {"ends_at": NOW + 3 * HOUR}, {"external_ref": "BK-10"},
    {"external_updated_at": NOW + HOUR},
])
def test_a_cancelled_booking_refuses_every_change(booking, change):
    bookings.cancel_booking(booking.org_id, booking.id, now=NOW)

    assert refused(booking.id, **change) == "booking_cancelled_is_final"


def test_a_cancelled_booking_refuses_another_sitter(booking):
    other = sitters.create_sitter(booking.org_id, "Kim", factories.phone()).id
    bookings.cancel_booking(booking.org_id, booking.id, now=NOW)

    assert refused(booking.id, sitter_id=other) == "booking_cancelled_is_final"


def test_a_cancelled_booking_follows_its_client_into_a_merge(booking):
    survivor = factories.client(booking.org_id, "Ada Lovelace")
    bookings.cancel_booking(booking.org_id, booking.id, now=NOW)

    update(booking.id, client_id=survivor)
    update(booking.id, status="cancelled")  # writing what is already there is no change


def test_cancelling_is_accepted_from_pending_and_from_confirmed(booking):
    update(booking.id, status="confirmed")
    update(booking.id, status="cancelled")
