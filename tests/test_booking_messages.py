"""Automatic booking messages: a confirmation and a reminder per booking, each sent at most once
however many workers sweep, the reminder moving with the booking and cancelled with it, never to
an opted-out phone, and not at all when the organization switched the kind off."""

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from pawline import booking_messages, bookings, sitters
from pawline.booking_message_models import BookingMessage, BookingMessageSetting
from pawline.clock import utcnow
from pawline.db import constraint_name, db
from pawline.errors import DomainError
from pawline.external_bookings import upsert_external_booking
from pawline.inbound import receive_sms
from pawline.models import Message, Thread
from tests import factories
from tests.concurrency import race_ok
from tests.workers import start_worker, stop, wait_for, worker_env

POOL, PHONE = "+14155550101", "+14155552671"


def new_world():
    """An organization with a number, a client (Ada, who texted in) and an active sitter."""
    org = factories.org("Happy Paws")
    factories.number(org.id, POOL, "pool")
    org.pool_number_id = db.session.scalar(sa.text("SELECT id FROM message_number"
                                                   " WHERE org_id = :o"), {"o": org.id})
    factories.number(org.id, "+14155550110", "sitter")
    org.thread_id = receive_sms(POOL, PHONE, "Can you walk Rex?", f"SMbm{org.id}").thread_id
    org.client_id = db.session.get(Thread, org.thread_id).client_id
    db.session.execute(sa.text("UPDATE client SET name = 'Ada Lovelace', is_guest = false "
                               "WHERE id = :c"), {"c": org.client_id})
    db.session.commit()
    sam = sitters.create_sitter(org.id, "Sam", "+14155553001")
    sitters.activate_sitter(org.id, sam.id, None)
    org.sitter_id = sam.id
    return org


def booked(org, starts_in: timedelta, now=None):
    now = now or utcnow()
    booking = bookings.create_booking(org.id, org.client_id, org.sitter_id, now + starts_in,
                                      now + starts_in + timedelta(hours=2))
    bookings.confirm_booking(org.id, booking.id, now=now)
    return booking


def rows(booking_id: int) -> dict[str, BookingMessage]:
    return {r.kind: r for r in db.session.scalars(
        sa.select(BookingMessage).where(BookingMessage.booking_id == booking_id)
        .execution_options(populate_existing=True))}


def sent() -> list[Message]:
    return db.session.scalars(sa.select(Message).where(Message.direction == "outbound")
                              .order_by(Message.id)).all()


# --- the constraints -----------------------------------------------------------------------

def test_the_constraints_refuse_a_bad_row_and_accept_its_neighbours(ctx):
    org = new_world()
    now = utcnow()
    other = bookings.create_booking(org.id, org.client_id, org.sitter_id, now + timedelta(days=3),
                                    now + timedelta(days=3, hours=1))
    row = {"org_id": org.id, "booking_id": other.id, "kind": "confirmation", "due_at": now}

    def refused(table, **values) -> str | None:
        with pytest.raises(IntegrityError) as caught, db.session.begin_nested():
            db.session.execute(sa.insert(table).values(**values))
        return constraint_name(caught.value)

    def accepted(table, **values) -> None:
        with db.session.begin_nested():
            db.session.execute(sa.insert(table).values(**values))

    accepted(BookingMessage, **row)
    assert refused(BookingMessage, **row) == "uq_booking_message_org_id_booking_id_kind"
    accepted(BookingMessage, **{**row, "kind": "reminder"})  # the other kind of the same booking
    their = factories.org()
    assert refused(BookingMessage, **{**row, "org_id": their.id, "kind": "reminder"}) == (
        "fk_booking_message_booking_id_org_id_booking")  # another organization's booking
    third = {**row, "kind": "thank_you"}
    assert refused(BookingMessage, **third) == "ck_booking_message_kind_known"
    fresh = bookings.create_booking(org.id, org.client_id, org.sitter_id, now + timedelta(days=4),
                                    now + timedelta(days=4, hours=1))
    row = {**row, "booking_id": fresh.id}
    assert refused(BookingMessage, **row, status="queued") == "ck_booking_message_status_known"
    assert refused(BookingMessage, **row, status="canceled") == (
        "ck_booking_message_stopped_has_reason")
    assert refused(BookingMessage, **row, status="sent") == "ck_booking_message_sent_has_time"
    accepted(BookingMessage, **row, status="sent", sent_at=now)
    accepted(BookingMessage, **{**row, "kind": "reminder"}, status="canceled", reason="Off")

    setting = {"org_id": org.id, "kind": "reminder", "enabled": True, "body": "See you",
               "lead_minutes": 60}
    assert refused(BookingMessageSetting, **{**setting, "lead_minutes": None}) == (
        "ck_booking_message_setting_lead_for_reminders")
    assert refused(BookingMessageSetting, **{**setting, "lead_minutes": 5}) == (
        "ck_booking_message_setting_lead_for_reminders")
    assert refused(BookingMessageSetting, **{**setting, "body": "Hi {pet}"}) == (
        "ck_booking_message_setting_variables_known")
    assert refused(BookingMessageSetting, **{**setting, "kind": "confirmation"}) == (
        "ck_booking_message_setting_lead_for_reminders")
    accepted(BookingMessageSetting, **setting)
    assert refused(BookingMessageSetting, **setting) == "pk_booking_message_setting"
    accepted(BookingMessageSetting, **{**setting, "kind": "confirmation", "lead_minutes": None,
                                       "body": "Booked: {booking_start}"})
    assert refused(Message, org_id=org.id, thread_id=org.thread_id, direction="outbound",
                   body="x", from_e164=POOL, to_e164=PHONE, status="queued", provider="console",
                   routing_trace={}, auto_reply="booking_thanks") == (
        "ck_message_auto_reply_known")
    accepted(Message, org_id=org.id, thread_id=org.thread_id, direction="outbound", body="x",
             from_e164=POOL, to_e164=PHONE, status="queued", provider="console",
             routing_trace={}, auto_reply="booking_reminder")


# --- confirmation and reminder ---------------------------------------------------------------

def test_a_confirmed_booking_gets_one_confirmation_and_a_reminder_a_day_before(ctx):
    org = new_world()
    now = utcnow()
    booking = booked(org, timedelta(days=3), now)
    bookings.confirm_booking(org.id, booking.id, now=now)  # twice is once
    planned = rows(booking.id)
    assert planned["confirmation"].due_at == now and planned["confirmation"].status == "pending"
    assert planned["reminder"].due_at == booking.starts_at - timedelta(hours=24)

    assert booking_messages.send_due("console", now + timedelta(seconds=1)) == 1, [
        (r.status, r.reason) for r in rows(booking.id).values()]
    assert booking_messages.send_due("console", now + timedelta(minutes=1)) == 0
    [message] = sent()
    assert message.sent_by_user_id is None and message.auto_reply == "booking_confirmation"
    assert message.client_token == f"booking-{planned['confirmation'].id}"
    assert message.body.startswith("Hi Ada, your booking with Sam on ")
    assert message.body.endswith("is confirmed. Happy Paws")
    # routing chose it when it was sent: the sitter's window opens only when the booking starts
    assert message.number_id == org.pool_number_id and message.routing_trace["steps"]

    day_before = booking.starts_at - timedelta(hours=24)
    assert booking_messages.send_due("console", day_before - timedelta(minutes=1)) == 0
    assert booking_messages.send_due("console", day_before) == 1
    assert booking_messages.send_due("console", day_before + timedelta(hours=1)) == 0
    reminder = sent()[-1]
    assert reminder.auto_reply == "booking_reminder" and "a reminder: Sam sees you" in (
        reminder.body)
    assert {r.status for r in rows(booking.id).values()} == {"sent"}


def test_the_thread_shows_an_automatic_message_as_automatic(app, client, auth):
    with app.app_context():
        org = new_world()
        booked(org, timedelta(days=3))
        assert booking_messages.send_due("console", utcnow() + timedelta(seconds=1)) == 1
    auth.sign_in(org.staff_email)
    page = client.get(f"/threads/{org.thread_id}").get_data(as_text=True)
    assert 'class="author">Automatic</span>' in page and "is confirmed. Happy Paws" in page


def test_a_booking_confirmed_inside_the_lead_gets_no_reminder(ctx):
    org = new_world()
    booking = booked(org, timedelta(hours=3))
    reminder = rows(booking.id)["reminder"]
    assert reminder.status == "canceled" and "closer to its start" in reminder.reason


def test_moving_the_booking_moves_its_pending_reminder(ctx):
    org = new_world()
    now = utcnow()
    booking = booked(org, timedelta(days=3), now)
    later = booking.starts_at + timedelta(days=2)
    bookings.update_booking(org.id, booking.id, org.client_id, org.sitter_id, later,
                            later + timedelta(hours=1))
    assert rows(booking.id)["reminder"].due_at == later - timedelta(hours=24)


def test_a_webhook_moving_the_booking_moves_its_reminder(ctx):
    org = new_world()
    now = utcnow()
    start = now + timedelta(days=3)
    made = upsert_external_booking(org.id, "ext-1", PHONE, "Ada Lovelace", org.sitter_id, start,
                                   start + timedelta(hours=1), now, True, now)
    assert rows(made.booking.id)["reminder"].due_at == start - timedelta(hours=24)
    moved = start + timedelta(hours=5)
    upsert_external_booking(org.id, "ext-1", PHONE, "Ada Lovelace", org.sitter_id, moved,
                            moved + timedelta(hours=1), now + timedelta(seconds=1), True, now)
    assert rows(made.booking.id)["reminder"].due_at == moved - timedelta(hours=24)


def test_cancelling_the_booking_cancels_its_pending_messages(ctx):
    org = new_world()
    now = utcnow()
    booking = booked(org, timedelta(days=3), now)
    assert booking_messages.send_due("console", now) == 1  # the confirmation went out
    bookings.cancel_booking(org.id, booking.id)
    planned = rows(booking.id)
    assert planned["confirmation"].status == "sent"
    assert (planned["reminder"].status, planned["reminder"].reason) == (
        "canceled", booking_messages.CANCELLED)
    assert booking_messages.send_due("console", booking.starts_at) == 0
    assert len(sent()) == 1


def test_nothing_automatic_goes_to_an_opted_out_phone(ctx):
    org = new_world()
    now = utcnow()
    booking = booked(org, timedelta(days=3), now)
    receive_sms(POOL, PHONE, "STOP", "SMbmstop")

    assert booking_messages.send_due("console", booking.starts_at - timedelta(hours=1)) == 0

    for row in rows(booking.id).values():
        assert row.status == "canceled" and "opted out" in row.reason and "STOP" in row.reason
    assert not [m for m in sent() if m.client_token and m.client_token.startswith("booking-")]


def test_a_kind_switched_off_is_not_sent_and_says_why(ctx):
    org = new_world()
    now = utcnow()
    booking_messages.set_setting(org.id, "confirmation", False, "", None, org.owner_user_id)
    booking = booked(org, timedelta(days=3), now)

    assert booking_messages.send_due("console", booking.starts_at - timedelta(hours=23)) == 1
    planned = rows(booking.id)
    assert (planned["confirmation"].status, planned["confirmation"].reason) == (
        "canceled", booking_messages.SWITCHED_OFF)
    assert [m.auto_reply for m in sent()] == ["booking_reminder"]


def test_an_edited_template_and_lead_are_used_and_move_pending_reminders(ctx):
    org = new_world()
    now = utcnow()
    booking = booked(org, timedelta(days=3), now)
    booking_messages.set_setting(org.id, "reminder", True, "{sitter_name} comes {booking_start}",
                                 120, org.owner_user_id)
    two_hours_before = booking.starts_at - timedelta(hours=2)
    assert rows(booking.id)["reminder"].due_at == two_hours_before
    booking_messages.send_due("console", two_hours_before)
    assert sent()[-1].body.startswith("Sam comes ")

    with pytest.raises(DomainError, match=r"\{pet\}"):
        booking_messages.set_setting(org.id, "reminder", True, "Hi {pet}", 60, None)
    with pytest.raises(DomainError, match="15 minutes"):
        booking_messages.set_setting(org.id, "reminder", True, "Hi", 1, None)


@pytest.mark.concurrency
def test_workers_racing_send_each_booking_message_exactly_once(app):
    with app.app_context():
        org = new_world()
        now = utcnow()
        ids = [booked(org, timedelta(days=3, minutes=n), now).id for n in range(10)]
        # a retry of the same confirmation plans nothing new
        for booking_id in ids:
            bookings.confirm_booking(org.id, booking_id, now=now)
    due = now + timedelta(days=2, hours=1)  # every reminder is due, no booking has started

    counts = race_ok(app, [lambda: booking_messages.send_due("console", due) for _ in range(4)])

    assert sum(counts) == 20
    with app.app_context():
        tokens = [m.client_token for m in sent()]
        assert len(tokens) == len(set(tokens)) == 20
        assert {r.status for i in ids for r in rows(i).values()} == {"sent"}


@pytest.mark.concurrency
def test_two_worker_processes_send_each_booking_message_once(app, database_url):
    with app.app_context():
        org = new_world()
        ids = [booked(org, timedelta(days=3, minutes=n)).id for n in range(5)]
    env = worker_env(database_url, "http://127.0.0.1:9")
    workers = [start_worker(env) for _ in range(2)]

    def all_sent():
        with app.app_context():
            return db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
                Message.auto_reply == "booking_confirmation")) >= 5
    try:
        wait_for(all_sent, timeout=60, every=0.2)
        time.sleep(1)  # the other worker has had its chance to send again
    finally:
        outputs = [stop(worker) for worker in workers]

    with app.app_context():
        tokens = db.session.scalars(sa.select(Message.client_token).where(
            Message.auto_reply.is_not(None))).all()
        expected = [f"booking-{rows(i)['confirmation'].id}" for i in ids]
        assert sorted(tokens) == sorted(expected), outputs
        assert {rows(i)["reminder"].status for i in ids} == {"pending"}  # not due for 2 days


# --- the settings page -----------------------------------------------------------------------

def test_owners_switch_kinds_and_edit_templates_on_the_settings_page(app, client, auth):
    with app.app_context():
        org = factories.org("Happy Paws")
    auth.sign_in(org.owner_email)
    page = client.get("/settings/booking-messages").get_data(as_text=True)
    assert "is confirmed. {business_name}" in page and 'value="24"' in page

    response = client.post("/settings/booking-messages", data={
        "confirmation_body": "", "reminder_enabled": "y",
        "reminder_body": "See you {booking_start}", "lead_hours": "3"})
    assert response.status_code == 302
    with app.app_context():
        saved = booking_messages.settings(org.id)
        assert not saved["confirmation"].enabled
        assert saved["confirmation"].body == booking_messages.DEFAULT_BODIES["confirmation"]
        assert (saved["reminder"].body, saved["reminder"].lead_minutes) == (
            "See you {booking_start}", 180)

    refused = client.post("/settings/booking-messages", data={
        "reminder_enabled": "y", "reminder_body": "Hi {pet}", "lead_hours": "3"})
    assert refused.status_code == 400 and "{pet}" in refused.get_data(as_text=True)
    with app.app_context():
        assert booking_messages.settings(org.id)["reminder"].body == "See you {booking_start}"
    auth.sign_out()
    auth.sign_in(org.staff_email)  # owners only
    assert client.get("/settings/booking-messages").status_code in (403, 404)
