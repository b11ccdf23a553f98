"""Send later: scheduled in the organization's zone, edited or cancelled until due, sent once by
the sweep however many workers run it, from the number routing picks at sending time."""

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from pawline import bookings, inbox, scheduled, sitters
from pawline.clock import utcnow
from pawline.db import constraint_name, db
from pawline.desk_models import ScheduledMessage
from pawline.errors import DomainError
from pawline.inbound import receive_sms
from pawline.models import Message, MessageNumber, Thread
from tests import factories
from tests.concurrency import race_ok

HX = {"HX-Request": "true"}
POOL, PHONE = factories.POOL, factories.CLIENT_PHONE


@pytest.fixture
def world(app):
    with app.app_context():
        return factories.org_with_thread()


def outbound() -> list[Message]:
    return db.session.scalars(sa.select(Message).where(Message.direction == "outbound")
                              .execution_options(populate_existing=True)).all()


def status_of(scheduled_id: int) -> tuple:
    row = db.session.execute(sa.select(ScheduledMessage.status, ScheduledMessage.reason).where(
        ScheduledMessage.id == scheduled_id).execution_options(populate_existing=True)).one()
    return tuple(row)


# --- the constraints -----------------------------------------------------------------------

def test_the_constraints_refuse_a_bad_row_and_accept_its_neighbours(ctx):
    org = factories.org_with_thread()
    row = {"org_id": org.id, "thread_id": org.thread_id, "body": "Walk at 9",
           "send_at": utcnow()}

    def refused(**values) -> str | None:
        with pytest.raises(IntegrityError) as caught, db.session.begin_nested():
            db.session.execute(sa.insert(ScheduledMessage).values(**{**row, **values}))
        return constraint_name(caught.value)

    def accepted(**values) -> None:
        with db.session.begin_nested():
            db.session.execute(sa.insert(ScheduledMessage).values(**{**row, **values}))

    assert refused(status="queued") == "ck_scheduled_message_status_known"
    assert refused(status="failed") == "ck_scheduled_message_failed_has_reason"
    assert refused(status="sent") == "ck_scheduled_message_sent_has_time"
    assert refused(sent_at=utcnow()) == "ck_scheduled_message_sent_has_time"
    assert refused(body="See you {booking_start}") == "ck_scheduled_message_no_unfilled_variable"
    assert refused(body="x" * 1601) == "ck_scheduled_message_body_length"
    # a reply of no words is refused at its commit unless it has photos: tests/
    # test_scheduled_photos.py, the words-or-photos trigger
    accepted()
    accepted(status="failed", reason="No number")
    accepted(status="sent", sent_at=utcnow())
    accepted(status="canceled")
    accepted(body="See you {pet}")


# --- scheduling, editing, cancelling -------------------------------------------------------

def test_staff_schedule_a_reply_in_the_organizations_zone(app, client, auth, world):
    auth.sign_in(world.staff_email)
    local = (utcnow() + timedelta(days=2)).astimezone(ZoneInfo("America/New_York")).replace(
        hour=7, minute=0)

    response = client.post(f"/threads/{world.thread_id}/scheduled", headers=HX, data={
        "body": "Good morning! Rex had breakfast.", "send_at": local.strftime("%Y-%m-%dT%H:%M")})

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    item = html.split('class="scheduled-item"', 1)[1].split("</li>", 1)[0]
    assert "Good morning! Rex had breakfast." in item and "7:00 AM" in item
    with app.app_context():
        send_at = db.session.scalar(sa.select(ScheduledMessage.send_at))
        assert send_at == local.astimezone(UTC).replace(second=0, microsecond=0)
        assert outbound() == []  # nothing goes out before its time


YESTERDAY = (utcnow() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
TOMORROW = (utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize(("body", "send_at", "error"), [
    ("Hi", YESTERDAY, "Pick a time in the future."),
    ("Hi", "", "Enter a date and time."),
    ("Hi {booking_start}", TOMORROW, "Replace {booking_start} before sending"),
])
def test_a_bad_schedule_is_a_form_error_and_stores_nothing(app, client, auth, world, body,
                                                           send_at, error):
    auth.sign_in(world.staff_email)
    response = client.post(f"/threads/{world.thread_id}/scheduled", headers=HX,
                           data={"body": body, "send_at": send_at})
    assert response.status_code == 400 and error in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ScheduledMessage)) == 0


def test_a_reply_can_be_edited_and_cancelled_until_it_is_due(ctx):
    org = factories.org_with_thread()
    now = utcnow()
    first = scheduled.schedule_message(org.id, org.thread_id, "Walk at 9",
                                       now + timedelta(hours=1), org.staff_user_id, now)
    scheduled.update_scheduled(org.id, org.thread_id, first, "Walk at 10",
                               now + timedelta(hours=2), now)
    row = db.session.get(ScheduledMessage, first, populate_existing=True)
    assert (row.body, row.send_at) == ("Walk at 10", now + timedelta(hours=2))

    scheduled.cancel_scheduled(org.id, org.thread_id, first, now)
    assert status_of(first) == ("canceled", None)
    with pytest.raises(DomainError, match="already sent or cancelled"):
        scheduled.update_scheduled(org.id, org.thread_id, first, "Again",
                                   now + timedelta(hours=3), now)

    due = scheduled.schedule_message(org.id, org.thread_id, "Soon", now + timedelta(minutes=1),
                                     None, now)
    later = now + timedelta(minutes=2)  # due now: no more edits, the sweep has it
    with pytest.raises(DomainError):
        scheduled.cancel_scheduled(org.id, org.thread_id, due, later)


@pytest.mark.parametrize("role", ["staff", "sitter"])
def test_another_organizations_scheduled_reply_is_404(app, client, auth, world, role):
    with app.app_context():
        theirs = factories.org_with_thread("+14155550102")
        their_id = scheduled.schedule_message(theirs.id, theirs.thread_id, "Theirs",
                                              utcnow() + timedelta(days=1), None)
        if role == "sitter":  # one who may open this thread, and so schedule on it
            factories.book_sitter(world.id, world.thread_id, world.sitter_email,
                                  utcnow() - timedelta(hours=1), utcnow() + timedelta(days=2))
    auth.sign_in(getattr(world, f"{role}_email"))
    for url in (f"/threads/{world.thread_id}/scheduled/{their_id}/cancel",
                f"/threads/{world.thread_id}/scheduled/{their_id}"):
        assert client.post(url, data={"body": "x", "send_at": TOMORROW},
                           headers=HX).status_code == 404
    with app.app_context():
        assert status_of(their_id) == ("scheduled", None)


# --- sending ---------------------------------------------------------------------------------

def test_the_sweep_sends_a_due_reply_once_from_the_number_routing_picks_then(ctx):
    org = factories.org_with_thread()
    now = utcnow()
    sitter_number = factories.number(org.id, "+14155550110", "sitter")
    reply = scheduled.schedule_message(org.id, org.thread_id, "Sam is on the way",
                                       now + timedelta(hours=1), org.staff_user_id, now)
    # after it was scheduled, a sitter's window opens that covers its sending time
    sam = sitters.create_sitter(org.id, "Sam", "+14155553001")
    sitters.activate_sitter(org.id, sam.id, None)
    client_id = db.session.get(Thread, org.thread_id).client_id
    booking = bookings.create_booking(org.id, client_id, sam.id, now + timedelta(minutes=30),
                                      now + timedelta(hours=3))
    bookings.confirm_booking(org.id, booking.id)

    assert scheduled.send_due("console", now + timedelta(minutes=59)) == 0  # not yet
    assert scheduled.send_due("console", now + timedelta(hours=1, seconds=30)) == 1
    assert scheduled.send_due("console", now + timedelta(hours=1, minutes=1)) == 0

    [message] = outbound()
    assert (message.body, message.number_id, message.client_token) == (
        "Sam is on the way", sitter_number, f"scheduled-{reply}")
    assert message.routing_trace["rule"] == 1
    assert "this number was chosen when it was sent" in message.routing_trace["steps"][-1]
    assert message.sent_by_user_id == org.staff_user_id
    assert status_of(reply) == ("sent", None)


def test_a_reply_that_cannot_be_sent_fails_with_the_reason(ctx):
    org = factories.org_with_thread()
    now = utcnow()
    reply = scheduled.schedule_message(org.id, org.thread_id, "Hello", now + timedelta(hours=1),
                                       None, now)
    db.session.execute(sa.update(MessageNumber).values(
        status="quarantined", quarantined_at=now, quarantine_release_at=now + timedelta(days=9)))
    db.session.commit()

    assert scheduled.send_due("console", now + timedelta(hours=2)) == 0

    status, reason = status_of(reply)
    assert status == "failed" and "No number can send this message" in reason
    assert outbound() == []


@pytest.mark.concurrency
def test_two_workers_sweeping_at_once_send_each_reply_exactly_once(app):
    with app.app_context():
        org = factories.org_with_thread()
        now = utcnow()
        ids = [scheduled.schedule_message(org.id, org.thread_id, f"Reply {n}",
                                          now + timedelta(minutes=1), None, now)
               for n in range(20)]
    due = now + timedelta(minutes=2)

    sent = race_ok(app, [lambda: scheduled.send_due("console", due) for _ in range(4)])

    assert sum(sent) == 20
    with app.app_context():
        tokens = [m.client_token for m in outbound()]
        assert sorted(tokens) == sorted(f"scheduled-{i}" for i in ids)
        assert {status_of(i) for i in ids} == {("sent", None)}


def test_staff_edit_a_scheduled_reply_through_the_thread(app, client, auth, world):
    with app.app_context():
        reply = scheduled.schedule_message(world.id, world.thread_id, "Walk at 9",
                                           utcnow() + timedelta(hours=5), None)
    auth.sign_in(world.staff_email)

    response = client.post(f"/threads/{world.thread_id}/scheduled/{reply}", headers=HX,
                           data={"body": "Walk at 10", "send_at": TOMORROW})

    assert response.status_code == 200 and "Walk at 10" in response.get_data(as_text=True)
    with app.app_context():
        row = db.session.get(ScheduledMessage, reply)
        assert row.body == "Walk at 10" and row.status == "scheduled"
    auth.sign_out()
    auth.sign_in(world.sitter_email)  # one who cannot open the thread (test_scheduled_sitters)
    assert client.post(f"/threads/{world.thread_id}/scheduled/{reply}/cancel").status_code == 404


def test_a_reply_to_a_phone_that_opted_out_since_is_cancelled_with_the_reason(app, client,
                                                                              auth, world):
    with app.app_context():
        now = utcnow()
        reply = scheduled.schedule_message(world.id, world.thread_id, "Walk at 9",
                                           now + timedelta(minutes=1), None, now)
        receive_sms(POOL, PHONE, "STOP", "SMschedstop")

        assert scheduled.send_due("console", now + timedelta(minutes=2)) == 0

        status, reason = status_of(reply)
        assert status == "canceled" and "opted out" in reason and "STOP" in reason
        assert f"scheduled-{reply}" not in [m.client_token for m in outbound()]
    auth.sign_in(world.staff_email)
    item = client.get(f"/threads/{world.thread_id}").get_data(as_text=True).split(
        'class="scheduled-item"', 1)[1].split("</li>", 1)[0]
    assert "Canceled" in item and "opted out" in item


def test_the_thread_poll_carries_the_scheduled_list_when_one_is_sent(app, client, auth, world):
    with app.app_context():
        now = utcnow()
        reply = scheduled.schedule_message(world.id, world.thread_id, "Walk at 9",
                                           now + timedelta(minutes=1), None, now)
    auth.sign_in(world.staff_email)
    page = client.get(f"/threads/{world.thread_id}").get_data(as_text=True)
    assert f'id="scheduled-{reply}"' in page and "hx-swap-oob" not in page
    poll = page.split('id="timeline"', 1)[1].split('hx-get="', 1)[1].split('"', 1)[0] \
        .replace("&amp;", "&")

    with app.app_context():
        assert scheduled.send_due("console", now + timedelta(minutes=2)) == 1

    answer = client.get(poll, headers=HX).get_data(as_text=True)
    timeline, listed = answer.split('id="scheduled"', 1)
    assert "Walk at 9" in timeline  # the message, in the timeline
    assert "hx-swap-oob" in listed.split(">", 1)[0] and "scheduled-item" not in listed


def test_a_scheduled_reply_changed_since_the_page_was_shown_changes_the_thread(ctx):
    org = factories.org_with_thread()
    now = utcnow()
    reply = scheduled.schedule_message(org.id, org.thread_id, "Walk at 9",
                                       now + timedelta(hours=1), None, now)
    shown = now + timedelta(minutes=1)
    assert not inbox.timeline_changed(org.id, org.thread_id, 0, 10**9, shown)
    scheduled.cancel_scheduled(org.id, org.thread_id, reply, shown + timedelta(seconds=1))
    assert inbox.timeline_changed(org.id, org.thread_id, 0, 10**9, shown)


def test_a_due_reply_waiting_for_the_sweep_shows_sending_and_no_edit(app, client, auth, world):
    with app.app_context():
        now = utcnow() - timedelta(minutes=2)
        reply = scheduled.schedule_message(world.id, world.thread_id, "Walk at 9",
                                           now + timedelta(minutes=1), None, now)
    auth.sign_in(world.staff_email)
    item = client.get(f"/threads/{world.thread_id}").get_data(as_text=True).split(
        f'id="scheduled-{reply}"', 1)[1].split("</li>", 1)[0]
    assert "Sending" in item and "Cancel this scheduled message" not in item
