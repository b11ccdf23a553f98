"""The inbox pages and form routes: full pages, htmx fragments, errors, and who may see what."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from pawline.clock import utcnow
from pawline.db import db
from pawline.inbound import receive_sms
from pawline.models import Message, Thread, ThreadEvent
from pawline.threads import find_or_create_thread
from tests import factories
from tests.jobs import run_jobs_here

HX = {"HX-Request": "true"}


@pytest.fixture
def world(app):
    with app.app_context():
        org = factories.org()
        factories.number(org.id, "+14155550101", "pool")
        receive_sms("+14155550101", "+14155552671", "Is Rex okay?", "SMworld1")
        org.thread_id = db.session.scalar(sa.select(Thread.id))
        return org


def test_the_inbox_lists_threads_with_unread_markers(client, auth, world):
    auth.sign_in(world.staff_email)
    page = client.get("/inbox")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "(415) 555-2671" in html and "Is Rex okay?" in html
    assert "Guest (+" not in html and 'class="badge new">New<' in html
    assert 'class="unread"' in html and "<html" in html


def test_an_htmx_search_answers_only_the_list_fragment(client, auth, world):
    auth.sign_in(world.staff_email)
    for query in ("(415) 555-2671", "4155552671", "guest", "5552671"):
        fragment = client.get("/inbox", query_string={"q": query}, headers=HX)
        html = fragment.get_data(as_text=True)
        assert "<html" not in html and 'id="thread-list"' in html
        assert '<span class="badge new">New</span>' in html, query
    none = client.get("/inbox", query_string={"q": "nobody"}, headers=HX).get_data(as_text=True)
    assert "No conversation matches" in none


def test_the_poll_answers_204_when_nothing_changed(client, auth, world):
    auth.sign_in(world.staff_email)
    later = (utcnow() + timedelta(seconds=5)).isoformat()
    assert client.get("/inbox/poll", query_string={"since": later}, headers=HX).status_code == 204
    earlier = (utcnow() - timedelta(hours=1)).isoformat()
    changed = client.get("/inbox/poll", query_string={"since": earlier}, headers=HX)
    assert changed.status_code == 200 and "Is Rex okay?" in changed.get_data(as_text=True)


def test_keyset_pages_list_every_thread_once(app, client, auth, world):
    with app.app_context():
        for n in range(65):
            receive_sms("+14155550101", factories.phone(), f"msg {n}", f"SMpage{n}")
    auth.sign_in(world.staff_email)
    seen, url = [], "/inbox"
    while url:
        html = client.get(url, headers=HX).get_data(as_text=True)
        seen += [line for line in html.split("\n") if 'class="preview"' in line]
        marker = 'hx-get="/inbox/more?'
        url = ("/inbox/more?" + html.split(marker, 1)[1].split('"', 1)[0].replace("&amp;", "&")
               if marker in html else None)
    assert len(seen) == 66 and len(set(seen)) == 66


def test_opening_a_thread_marks_it_read_and_shows_the_route(app, client, auth, world):
    auth.sign_in(world.staff_email)
    page = client.get(f"/threads/{world.thread_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Is Rex okay?" in html
    assert "Replying from" in html and "(415) 555-0101" in html
    with app.app_context():
        assert db.session.get(Thread, world.thread_id).unread_count == 0


def test_sending_a_reply_with_htmx_answers_the_conversation_with_the_message(
        app, client, auth, world):
    auth.sign_in(world.staff_email)
    reply = client.post(f"/threads/{world.thread_id}/messages",
                        data={"body": "Rex is great!", "client_token": "t1"}, headers=HX)
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200 and "Rex is great!" in html and "<html" not in html
    assert reply.headers["HX-Trigger"] == "threadsChanged"
    with app.app_context():
        queued = db.session.scalar(sa.select(Message).where(Message.direction == "outbound"))
        assert (queued.status, queued.provider) == ("queued", "console")
    assert run_jobs_here(app) == ["deliver_message"]
    with app.app_context():
        sent = db.session.scalar(sa.select(Message).where(Message.direction == "outbound"))
        assert (sent.status, sent.attempts) == ("sent", 1)


def test_a_plain_form_reply_redirects_to_the_thread(client, auth, world):
    auth.sign_in(world.staff_email)
    reply = client.post(f"/threads/{world.thread_id}/messages", data={"body": "Hi"})
    assert reply.status_code == 302 and reply.location.endswith(f"/threads/{world.thread_id}")


def test_an_empty_reply_is_a_form_error(client, auth, world):
    auth.sign_in(world.staff_email)
    reply = client.post(f"/threads/{world.thread_id}/messages", data={"body": " "}, headers=HX)
    assert reply.status_code == 400
    assert "Write a message or attach a photo." in reply.get_data(as_text=True)


def test_no_sending_number_is_a_form_error_and_nothing_is_stored(app, client, auth, world):
    with app.app_context():  # messages are never deleted (I10): the only number goes away
        db.session.execute(sa.update(Thread).values(default_number_id=None))
        from pawline.models import MessageNumber
        db.session.execute(sa.update(MessageNumber).values(
            status="quarantined", quarantine_release_at=utcnow() + timedelta(days=1)))
        db.session.commit()
    auth.sign_in(world.staff_email)
    reply = client.post(f"/threads/{world.thread_id}/messages", data={"body": "Hi"})
    assert reply.status_code == 400
    assert "No number can send this message" in reply.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1


def test_close_snooze_and_reopen_move_the_thread_between_tabs(app, client, auth, world):
    auth.sign_in(world.staff_email)
    url = f"/threads/{world.thread_id}"
    assert client.post(url + "/close", headers=HX).status_code == 200
    assert "Is Rex okay?" in client.get("/inbox?tab=closed").get_data(as_text=True)
    assert "Is Rex okay?" not in client.get("/inbox?tab=open").get_data(as_text=True)
    assert client.post(url + "/snooze", data={"until": "tomorrow"}).status_code == 302
    assert "Is Rex okay?" in client.get("/inbox?tab=snoozed").get_data(as_text=True)
    assert client.post(url + "/reopen").status_code == 302
    assert "Is Rex okay?" in client.get("/inbox?tab=open").get_data(as_text=True)
    with app.app_context():
        kinds = db.session.scalars(sa.select(ThreadEvent.kind).order_by(ThreadEvent.id)).all()
    assert kinds == ["closed", "snoozed", "reopened"]


def test_a_snooze_in_the_past_is_refused(client, auth, world):
    auth.sign_in(world.staff_email)
    reply = client.post(f"/threads/{world.thread_id}/snooze",
                        data={"until": "custom", "custom_until": "2020-01-01T09:00"})
    assert reply.status_code == 400 and "future" in reply.get_data(as_text=True)


def test_a_snoozed_thread_wakes_when_its_time_comes(app, client, auth, world):
    with app.app_context():
        db.session.execute(sa.update(Thread).values(
            status="snoozed", snoozed_until=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    auth.sign_in(world.staff_email)
    assert "Is Rex okay?" in client.get("/inbox?tab=open").get_data(as_text=True)


def test_message_anyone_creates_the_thread_and_redirects_to_it(app, client, auth, world):
    auth.sign_in(world.staff_email)
    sent = client.post("/threads", data={"phone": "415-555-0177", "body": "Welcome!"})
    assert sent.status_code == 302
    with app.app_context():
        thread_id = db.session.scalar(
            sa.select(Message.thread_id).where(Message.to_e164 == "+14155550177"))
    assert sent.location.endswith(f"/threads/{thread_id}")


def test_message_anyone_with_an_invalid_number_is_a_form_error(client, auth, world):
    auth.sign_in(world.staff_email)
    sent = client.post("/threads", data={"phone": "12", "body": "Hi"}, headers=HX)
    assert sent.status_code == 400
    html = sent.get_data(as_text=True)
    assert "not a valid phone number" in html and "<html" not in html


def test_a_sitter_without_an_active_window_gets_404_on_a_thread(client, auth, world):
    auth.sign_in(world.sitter_email)
    assert client.get(f"/threads/{world.thread_id}").status_code == 404
    reply = client.post(f"/threads/{world.thread_id}/messages", data={"body": "x"})
    assert reply.status_code == 404
    assert client.post(f"/threads/{world.thread_id}/close").status_code == 404


def test_a_retry_of_a_failed_message_queues_and_sends_it(app, client, auth, world):
    with app.app_context():
        db.session.add(Message(org_id=world.id, thread_id=world.thread_id, direction="outbound",
                               body="Lost", from_e164="+14155550101", to_e164="+14155552671",
                               status="failed", provider="console", routing_trace={"rule": 3},
                               error_message="Service unavailable"))
        db.session.commit()
        message_id = db.session.scalar(sa.select(Message.id).where(Message.body == "Lost"))
    auth.sign_in(world.staff_email)
    page = client.get(f"/threads/{world.thread_id}").get_data(as_text=True)
    assert "Retry" in page and "Service unavailable" in page
    client.post(f"/threads/{world.thread_id}/messages/{message_id}/retry", headers=HX)
    with app.app_context():
        assert db.session.get(Message, message_id).status == "queued"
    run_jobs_here(app)
    with app.app_context():
        assert db.session.get(Message, message_id).status == "sent"


def test_a_failed_message_can_be_canceled_and_then_shows_no_retry(app, client, auth, world):
    with app.app_context():
        db.session.add(Message(org_id=world.id, thread_id=world.thread_id, direction="outbound",
                               body="Lost", from_e164="+14155550101", to_e164="+14155552671",
                               status="failed", provider="console", routing_trace={"rule": 3}))
        db.session.commit()
        message_id = db.session.scalar(sa.select(Message.id).where(Message.body == "Lost"))
    auth.sign_in(world.staff_email)
    html = client.post(f"/threads/{world.thread_id}/messages/{message_id}/cancel",
                       headers=HX).get_data(as_text=True)
    assert ">canceled</span>" in html and "/retry" not in html
    with app.app_context():
        assert db.session.get(Message, message_id).status == "canceled"


def test_a_message_of_another_thread_cannot_be_retried_through_this_one(
        app, client, auth, world):
    with app.app_context():
        other = find_or_create_thread(world.id, factories.client(world.id, "Bo", "+14155550999"))
        db.session.add(Message(org_id=world.id, thread_id=other, direction="outbound",
                               body="Other", from_e164="+14155550101", to_e164="+14155550999",
                               status="failed", provider="console", routing_trace={"rule": 3}))
        db.session.commit()
        message_id = db.session.scalar(sa.select(Message.id).where(Message.body == "Other"))
    auth.sign_in(world.staff_email)
    for action in ("retry", "cancel"):
        url = f"/threads/{world.thread_id}/messages/{message_id}/{action}"
        assert client.post(url, headers=HX).status_code == 404
    with app.app_context():
        assert db.session.get(Message, message_id).status == "failed"


def test_a_sitter_inside_an_active_window_reads_and_replies_from_their_number(
        app, client, auth, world):
    from pawline import bookings, sitters

    with app.app_context():
        factories.number(world.id, "+14155550110", "sitter")
        sam = sitters.create_sitter(world.id, "Sam", "+14155553001", world.sitter_email)
        sitters.activate_sitter(world.id, sam.id, None)
        thread = db.session.get(Thread, world.thread_id)
        now = utcnow()
        booking = bookings.create_booking(world.id, thread.client_id, sam.id,
                                          now - timedelta(hours=1), now + timedelta(hours=1))
        bookings.confirm_booking(world.id, booking.id)
    auth.sign_in(world.sitter_email)
    page = client.get(f"/threads/{world.thread_id}").get_data(as_text=True)
    assert "Is Rex okay?" in page and "Close" not in page and "thread-list" not in page
    assert client.post(f"/threads/{world.thread_id}/messages",
                       data={"body": "Rex ate well"}).status_code == 302
    with app.app_context():
        reply = db.session.scalar(sa.select(Message).where(Message.direction == "outbound"))
        assert (reply.from_e164, reply.routing_trace["rule"]) == ("+14155550110", 1)
    assert client.post(f"/threads/{world.thread_id}/close").status_code == 404
    assert client.get("/inbox").status_code == 404


def test_the_inbox_and_a_thread_cost_the_same_statements_for_3_or_40_threads(
        app, client, auth, world, statements):
    auth.sign_in(world.staff_email)

    def cost(url: str) -> int:
        statements.clear()
        assert client.get(url).status_code == 200
        return len(statements)

    with app.app_context():
        for n in range(2):
            receive_sms("+14155550101", factories.phone(), "hi", f"SMfew{n}")
    few = (cost("/inbox"), cost(f"/threads/{world.thread_id}"))
    with app.app_context():
        for n in range(37):
            receive_sms("+14155550101", factories.phone(), "hi", f"SMmany{n}")
            receive_sms("+14155550101", "+14155552671", f"again {n}", f"SMsame{n}")
    assert (cost("/inbox"), cost(f"/threads/{world.thread_id}")) == few


def _thread_poll_url(client, thread_id: int) -> str:
    """The poll URL the thread page carries, as htmx would call it."""
    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    return page.split('id="timeline"', 1)[1].split('hx-get="', 1)[1].split('"', 1)[0] \
        .replace("&amp;", "&")


def test_the_thread_poll_answers_204_until_its_timeline_changes(app, client, auth, world):
    auth.sign_in(world.staff_email)
    url = _thread_poll_url(client, world.thread_id)
    with app.app_context():  # what happened before the page was shown is not a change
        db.session.execute(sa.update(Message).values(status_updated_at=utcnow() - timedelta(
            minutes=1)))
        db.session.commit()
    assert client.get(url, headers=HX).status_code == 204

    with app.app_context():
        receive_sms("+14155550101", "+14155552671", "Still there?", "SMworld2")
    changed = client.get(url, headers=HX)
    assert changed.status_code == 200 and "Still there?" in changed.get_data(as_text=True)


def test_the_thread_poll_shows_a_delivery_status_and_a_close(app, client, auth, world):
    auth.sign_in(world.staff_email)
    client.post(f"/threads/{world.thread_id}/messages",
                data={"body": "Rex is fine!", "client_token": "t1"})
    with app.app_context():
        sent = db.session.scalar(sa.select(Message.id).where(Message.direction == "outbound"))
        db.session.execute(sa.update(Message).values(status_updated_at=utcnow() - timedelta(
            minutes=1)))
        db.session.commit()
    url = _thread_poll_url(client, world.thread_id)
    assert client.get(url, headers=HX).status_code == 204

    with app.app_context():  # the provider's callback: delivered
        db.session.execute(sa.update(Message).where(Message.id == sent).values(
            status="delivered", status_updated_at=utcnow()))
        db.session.commit()
    delivered = client.get(url, headers=HX).get_data(as_text=True)
    assert ">delivered</span>" in delivered

    url = _thread_poll_url(client, world.thread_id)
    with app.app_context():
        db.session.add(ThreadEvent(org_id=world.id, thread_id=world.thread_id, kind="closed",
                                   detail="Closed by someone else", created_at=utcnow()))
        db.session.commit()
    assert "closed the conversation." in client.get(url, headers=HX).get_data(as_text=True)
