from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from pawline import bookings, doctor, external_bookings, sitters
from pawline.db import db
from pawline.models import AssignmentWindow, Booking, MessageNumber, Thread
from tests import factories
from tests.concurrency import race_ok

pytestmark = pytest.mark.concurrency
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def assert_doctor_holds(app):
    with app.app_context(), db.engine.connect() as connection:
        failing = [r for r in doctor.run_checks(connection, full=True) if not r.holds]
    assert failing == []


def test_ten_sitters_activated_at_once_share_a_pool_of_four_without_sharing(app):
    with app.app_context():
        org = factories.org()
        for _ in range(4):
            factories.number(org.id, factories.phone(), "pool")
        ids = [sitters.create_sitter(org.id, f"Sitter {i}", factories.phone()).id
               for i in range(10)]

    results = race_ok(app, [
        (lambda s=s: sitters.activate_sitter(org.id, s, None, now=NOW)) for s in ids])

    given = [r.number for r in results if r.number]
    assert len(given) == 4 and len(set(given)) == 4
    assert sum(r.number is None for r in results) == 6
    with app.app_context():
        assigned = db.session.scalars(sa.select(MessageNumber.assigned_sitter_id)
                                      .where(MessageNumber.org_id == org.id)).all()
        assert len(set(assigned)) == 4 and None not in assigned
    assert_doctor_holds(app)


def test_one_sitter_activated_five_times_at_once_holds_one_number(app):
    with app.app_context():
        org = factories.org()
        for _ in range(3):
            factories.number(org.id, factories.phone(), "pool")
        sitter_id = sitters.create_sitter(org.id, "Sam", factories.phone()).id

    results = race_ok(app, [
        lambda: sitters.activate_sitter(org.id, sitter_id, None, now=NOW)] * 5)

    assert len({r.number for r in results}) == 1
    assert sum(r.newly_assigned for r in results) == 1
    assert_doctor_holds(app)


def test_concurrent_confirmations_of_one_booking_make_one_window(app):
    with app.app_context():
        org = factories.org()
        sitter_id = sitters.create_sitter(org.id, "Sam", factories.phone()).id
        client_id = factories.client(org.id, "Ada", factories.phone())
        booking_id = bookings.create_booking(org.id, client_id, sitter_id, NOW,
                                             NOW + timedelta(hours=2)).id

    race_ok(app, [lambda: bookings.confirm_booking(org.id, booking_id, now=NOW)] * 8)

    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AssignmentWindow)
                                 .where(AssignmentWindow.booking_id == booking_id)) == 1
    assert_doctor_holds(app)


def test_five_bookings_of_one_client_confirmed_at_once_make_one_thread(app):
    with app.app_context():
        org = factories.org()
        sitter_id = sitters.create_sitter(org.id, "Sam", factories.phone()).id
        client_id = factories.client(org.id, "Ada", factories.phone())
        booking_ids = [
            bookings.create_booking(org.id, client_id, sitter_id, NOW + timedelta(days=d),
                                    NOW + timedelta(days=d, hours=2)).id
            for d in range(5)]

    race_ok(app, [(lambda b=b: bookings.confirm_booking(org.id, b, now=NOW))
                       for b in booking_ids])

    with app.app_context():
        threads = db.session.scalars(sa.select(Thread.id).where(Thread.org_id == org.id)).all()
        assert len(threads) == 1
        windows = db.session.scalars(sa.select(AssignmentWindow.thread_id)
                                     .where(AssignmentWindow.org_id == org.id)).all()
        assert windows == threads * 5
    assert_doctor_holds(app)


def test_one_booking_webhook_delivered_six_times_at_once_makes_one_of_everything(app):
    with app.app_context():
        org = factories.org()
        sitter_id = sitters.create_sitter(org.id, "Sam", factories.phone()).id

    def deliver():
        result = external_bookings.upsert_external_booking(
            org.id, "BK-7", "+14155550123", "Ada", sitter_id, NOW, NOW + timedelta(hours=3),
            updated_at=NOW, confirm=True, now=NOW)
        return result.booking.id, result.created

    results = race_ok(app, [deliver] * 6)

    assert len({booking_id for booking_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AssignmentWindow)
                                 .where(AssignmentWindow.org_id == org.id)) == 1
    assert_doctor_holds(app)


def test_old_and_new_versions_of_a_booking_racing_leave_the_newest(app):
    with app.app_context():
        org = factories.org()
        sitter_id = sitters.create_sitter(org.id, "Sam", factories.phone()).id

    def deliver(version: int):
        starts = NOW + timedelta(days=version)
        return lambda: external_bookings.upsert_external_booking(
            org.id, "BK-8", "+14155550124", "Ada", sitter_id, starts, starts + timedelta(hours=2),
            updated_at=NOW + timedelta(minutes=version), confirm=True, now=NOW).stale

    race_ok(app, [deliver(v) for v in (3, 1, 2, 3, 1, 2)])

    with app.app_context():
        booking = db.session.scalar(sa.select(Booking).where(Booking.org_id == org.id))
        window = db.session.scalar(sa.select(AssignmentWindow)
                                   .where(AssignmentWindow.booking_id == booking.id))
        assert booking.external_updated_at == NOW + timedelta(minutes=3)
        assert booking.starts_at == window.starts_at == NOW + timedelta(days=3)
    assert_doctor_holds(app)
