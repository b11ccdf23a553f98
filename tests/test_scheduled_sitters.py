"""Send later for sitters: a sitter schedules a reply on a thread they can open, for a time while
they cover the client; it goes out from the number routing picks then, and is cancelled with the
reason if by then they no longer cover the client. A sitter changes only their own scheduled
replies (another's, and any on a thread they cannot open, is a 404; another organization's:
test_scheduled); staff cancel any."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from pawline import bookings, scheduled
from pawline.clock import utcnow
from pawline.db import db
from pawline.desk_models import ScheduledMessage
from pawline.models import Message
from tests import factories

HX = {"HX-Request": "true"}
ZONE = ZoneInfo("America/New_York")  # the organization's zone (factories.org)


def local(at) -> str:
    """A datetime-local form value in the organization's zone."""
    return at.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def world(app):
    """A thread whose client the org's sitter user covers for the next three hours."""
    with app.app_context():
        org = factories.org_with_thread()
        now = utcnow()
        org.booking_id = factories.book_sitter(org.id, org.thread_id, org.sitter_email,
                                               now - timedelta(hours=1), now + timedelta(hours=3))
        return org


def row(scheduled_id: int) -> ScheduledMessage:
    return db.session.get(ScheduledMessage, scheduled_id, populate_existing=True)


def sent_messages() -> list[Message]:
    return db.session.scalars(sa.select(Message).where(Message.direction == "outbound")
                              .execution_options(populate_existing=True)).all()


def test_a_booked_sitter_schedules_a_reply_sent_from_their_line(app, client, auth, world):
    auth.sign_in(world.sitter_email)
    page = client.get(f"/threads/{world.thread_id}").get_data(as_text=True)
    assert "Send later" in page

    at = utcnow() + timedelta(hours=1)
    response = client.post(f"/threads/{world.thread_id}/scheduled", headers=HX,
                           data={"body": "Rex ate well", "send_at": local(at)})

    assert response.status_code == 200
    item = response.get_data(as_text=True).split('class="scheduled-item"', 1)[1].split(
        "</li>", 1)[0]
    assert "Rex ate well" in item and "by sitter" in item
    assert "Cancel this scheduled message" in item  # their own: they may change it
    with app.app_context():
        reply = db.session.scalar(sa.select(ScheduledMessage.id))
        assert scheduled.send_due("console", at + timedelta(minutes=1)) == 1
        [message] = sent_messages()
        assert message.sent_by_user_id == world.sitter_user_id
        assert message.routing_trace["rule"] == 1  # the sitter's running window: their line
        assert message.routing_trace["number"] == "+14155550110"
        assert row(reply).status == "sent"


def test_a_sitter_schedules_only_within_their_booking(app, client, auth, world):
    auth.sign_in(world.sitter_email)
    response = client.post(f"/threads/{world.thread_id}/scheduled", headers=HX, data={
        "body": "See you Sunday", "send_at": local(utcnow() + timedelta(hours=5))})

    assert response.status_code == 400
    assert "only while they are booked with this client" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ScheduledMessage)) == 0


def test_a_sitters_reply_is_cancelled_when_they_no_longer_cover_the_client(app, client, auth,
                                                                          world):
    with app.app_context():
        now = utcnow()
        reply = scheduled.schedule_message(world.id, world.thread_id, "On my way",
                                           now + timedelta(hours=2), world.sitter_user_id, now)
        bookings.cancel_booking(world.id, world.booking_id)

        assert scheduled.send_due("console", now + timedelta(hours=2, minutes=1)) == 0

        assert (row(reply).status, row(reply).reason) == ("canceled",
                                                          scheduled.NO_LONGER_COVERING)
        assert sent_messages() == []
    auth.sign_in(world.staff_email)  # the front desk sees why on the thread
    page = client.get(f"/threads/{world.thread_id}").get_data(as_text=True)
    assert "no longer covered this client" in page


def test_a_sitter_changes_only_their_own_scheduled_replies(app, client, auth, world):
    with app.app_context():
        at = utcnow() + timedelta(hours=1)
        staffs = scheduled.schedule_message(world.id, world.thread_id, "From the desk", at,
                                            world.staff_user_id)
        own = scheduled.schedule_message(world.id, world.thread_id, "From Sam", at,
                                         world.sitter_user_id)
    auth.sign_in(world.sitter_email)
    page = client.get(f"/threads/{world.thread_id}").get_data(as_text=True)
    assert f'id="scheduled-{staffs}"' in page and f"scheduled/{staffs}/cancel" not in page
    url = f"/threads/{world.thread_id}/scheduled"
    data = {"body": "Changed", "send_at": local(at)}

    assert client.post(f"{url}/{staffs}", headers=HX, data=data).status_code == 404
    assert client.post(f"{url}/{staffs}/cancel", headers=HX).status_code == 404
    assert client.post(f"{url}/{own}", headers=HX, data=data).status_code == 200
    moved = {**data, "send_at": local(at + timedelta(hours=4))}  # past their booking
    assert client.post(f"{url}/{own}", headers=HX, data=moved).status_code == 400
    with app.app_context():
        assert (row(staffs).body, row(staffs).status) == ("From the desk", "scheduled")
        assert (row(own).body, row(own).send_at) == ("Changed", at.replace(second=0,
                                                                           microsecond=0))

    auth.sign_out()
    auth.sign_in(world.staff_email)  # staff cancel anyone's
    assert client.post(f"{url}/{own}/cancel", headers=HX).status_code == 200
    with app.app_context():
        assert row(own).status == "canceled"


def test_a_sitter_who_cannot_open_the_thread_gets_404s(app, client, auth):
    with app.app_context():
        org = factories.org_with_thread()  # the sitter user covers nobody here
        theirs = factories.org_with_thread("+14155550102")
        at = utcnow() + timedelta(hours=1)
        mine = scheduled.schedule_message(org.id, org.thread_id, "Desk", at, None)
        their_id = scheduled.schedule_message(theirs.id, theirs.thread_id, "Theirs", at, None)
    auth.sign_in(org.sitter_email)
    data = {"body": "x", "send_at": local(at)}
    for url in (f"/threads/{org.thread_id}/scheduled",
                f"/threads/{org.thread_id}/scheduled/{mine}",
                f"/threads/{org.thread_id}/scheduled/{mine}/cancel",
                f"/threads/{theirs.thread_id}/scheduled",
                f"/threads/{org.thread_id}/scheduled/{their_id}/cancel"):
        assert client.post(url, headers=HX, data=data).status_code == 404, url
    with app.app_context():
        assert {row(mine).status, row(their_id).status} == {"scheduled"}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ScheduledMessage)) == 2
