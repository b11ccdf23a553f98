"""The web chat widget's public routes: the script, the framed page, a visitor's posts and polls.

Each visitor reads only their own conversation: another visitor, another organization's key,
an internal note or an SMS of the same client never shows. Posts are idempotent by the widget's
message id, bounded, and limited per visitor and per address.
"""

import uuid
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from pawline import notes, webchat
from pawline.channel_models import ClientIdentity
from pawline.db import db
from pawline.inbound import receive_sms
from pawline.models import ClientContact, Message, Thread, ThreadEvent
from pawline.outbound import queue_message
from tests import factories
from tests.jobs import run_jobs_here

VISITOR_A = "visitorA" + "a" * 24
VISITOR_B = "visitorB" + "b" * 24
SHOP = "https://shop.example"


def make_widget(origins: str = SHOP) -> SimpleNamespace:
    org = factories.org()
    webchat.turn_on(org.id, None)
    widget = webchat.save_origins(org.id, origins, None)
    return SimpleNamespace(org=org, key=widget.account_id)


@pytest.fixture
def widget(app):
    with app.app_context():
        return make_widget()


def post(client, key, visitor=VISITOR_A, body="Hello there", message_id=None, **fields):
    return client.post(f"/widget/{key}/messages", data={
        "visitor": visitor, "body": body,
        "message_id": uuid.uuid4().hex if message_id is None else message_id,
        **fields})


def poll(client, key, visitor=VISITOR_A, after=0):
    response = client.get(f"/widget/{key}/messages",
                          query_string={"visitor": visitor, "after": after})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def texts(answer) -> list[tuple[str, str]]:
    return [(m["from"], m["text"]) for m in answer["messages"]]


@pytest.mark.parametrize("path", ["/widget.js?key={key}", "/widget/{key}/chat",
                                  "/widget/{key}/messages?visitor=" + VISITOR_A])
def test_an_unknown_key_is_404(client, widget, path):
    assert client.get(path.format(key=widget.key)).status_code == 200
    for key in ["x" * 24, "", "../" + widget.key, widget.key + "x"]:
        assert client.get(path.format(key=key)).status_code == 404, key
    assert post(client, "y" * 24).status_code == 404


def test_the_script_is_javascript_and_sets_no_cookie(client, widget):
    response = client.get(f"/widget.js?key={widget.key}")
    assert response.mimetype == "text/javascript"
    assert "/widget/" in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers


def test_only_the_owners_origins_may_frame_the_chat_and_nothing_else(app, client, widget):
    with app.app_context():
        webchat.save_origins(widget.org.id, "https://shop.example\nhttp://127.0.0.2:8000/", None)
    page = client.get(f"/widget/{widget.key}/chat")
    assert page.headers["Content-Security-Policy"] == (
        "default-src 'self'; img-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors https://shop.example http://127.0.0.2:8000")
    assert "Set-Cookie" not in page.headers
    assert "<script" in page.get_data(as_text=True)  # an external one: the CSP allows no other
    for other in ["/sign-in", f"/widget/{widget.key}/messages?visitor={VISITOR_A}",
                  f"/widget.js?key={widget.key}"]:
        assert "frame-ancestors 'none'" in client.get(other).headers["Content-Security-Policy"]
    with app.app_context():
        webchat.save_origins(widget.org.id, "", None)
    policy = client.get(f"/widget/{widget.key}/chat").headers["Content-Security-Policy"]
    assert policy.endswith("; frame-ancestors 'none'")


def test_a_visitor_chats_and_reads_only_their_own_messages(app, client, widget):
    posted = post(client, widget.key, body="Is Rex <b>ok</b>?", name="Ada")
    assert posted.status_code == 201 and "Set-Cookie" not in posted.headers
    assert post(client, widget.key, VISITOR_B, body="B's secret").status_code == 201

    mine = poll(client, widget.key)
    assert client.get(f"/widget/{widget.key}/messages?visitor={VISITOR_A}").headers.get(
        "Set-Cookie") is None
    assert texts(mine) == [("visitor", "Is Rex <b>ok</b>?")]  # text as written, never HTML
    assert texts(poll(client, widget.key, VISITOR_B)) == [("visitor", "B's secret")]
    again = poll(client, widget.key, after=mine["cursor"])["messages"]
    assert {m["id"] for m in again} <= {m["id"] for m in mine["messages"]}  # seen ids only
    with app.app_context():
        thread = db.session.execute(sa.select(Thread).join(ClientIdentity, sa.and_(
            ClientIdentity.client_id == Thread.client_id,
            ClientIdentity.address == VISITOR_A))).scalar_one()
        assert (thread.status, thread.last_message_preview) == ("open", "Is Rex <b>ok</b>?")
        message = db.session.scalar(sa.select(Message).where(Message.from_e164 == VISITOR_A))
        assert (message.channel, message.provider, message.to_e164) == (
            "webchat", "webchat", widget.key)


def test_another_organizations_key_never_shows_this_organizations_messages(app, client, widget):
    with app.app_context():
        other = make_widget()
    post(client, widget.key, body="for org A only")

    assert poll(client, other.key)["messages"] == []
    post(client, other.key, body="for org B")
    assert texts(poll(client, widget.key)) == [("visitor", "for org A only")]
    assert texts(poll(client, other.key)) == [("visitor", "for org B")]


def test_a_retried_post_is_stored_once(app, client, widget):
    first = post(client, widget.key, message_id="same-message-id-0001")
    again = post(client, widget.key, message_id="same-message-id-0001")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["duplicate"] is True
    assert len(poll(client, widget.key)["messages"]) == 1


def test_staff_replies_show_once_delivered_and_notes_and_sms_never(app, client, widget):
    post(client, widget.key, body="Hi", phone="+1 415 555 2671")
    with app.app_context():
        thread_id = db.session.scalar(sa.select(Message.thread_id))
        receive_sms_to(widget.org.id, "+14155552671", "an SMS of the same client")
        notes.add_note(widget.org.id, thread_id, widget.org.owner_user_id, "internal note")
        queued = queue_message(widget.org.id, thread_id, "We are on it", None, "console",
                               channel="webchat")
        assert db.session.get(Message, queued.message_id).channel == "webchat"
    post(client, widget.key, body="Hello?")
    before = poll(client, widget.key)
    assert texts(before) == [("visitor", "Hi"), ("visitor", "Hello?")]  # the reply: not yet
    assert before["cursor"] < queued.message_id

    run_jobs_here(app)  # the delivery job, as the worker runs it

    after = poll(client, widget.key, after=before["cursor"])
    assert ("staff", "We are on it") in texts(after)
    with app.app_context():
        assert db.session.get(Message, queued.message_id).status == "sent"


def receive_sms_to(org_id: int, phone: str, body: str) -> None:
    factories.number(org_id, "+14155550199", "pool")
    receive_sms("+14155550199", phone, body, f"SM{uuid.uuid4().hex}")


def test_a_phone_links_the_visitor_to_the_client_with_that_phone(app, client, widget):
    with app.app_context():
        client_id = factories.client(widget.org.id, "Grace Hopper", "+14155550142")

    post(client, widget.key, body="It's Grace", phone="(415) 555-0142", email="g@example.com")

    with app.app_context():
        identity = db.session.scalar(sa.select(ClientIdentity))
        assert identity.client_id == client_id
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Thread)) == 1
        assert db.session.scalar(sa.select(ClientContact.client_id)) == client_id


@pytest.mark.parametrize("fields, status", [
    ({"body": "x" * 2001}, 400), ({"body": ""}, 400), ({"visitor": "short"}, 400),
    ({"visitor": "a" * 16 + "!"}, 400), ({"message_id": ""}, 400),
    ({"phone": "not a phone"}, 400), ({"email": "nope"}, 400), ({"name": "n" * 101}, 400)])
def test_bad_posts_are_refused_and_store_nothing(app, client, widget, fields, status):
    response = post(client, widget.key, **fields)
    assert response.status_code == status
    assert response.get_json()["error"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0


def test_a_body_past_the_request_bound_is_refused(client, widget):
    assert post(client, widget.key, body="x" * 9_000, name="y" * 9_000).status_code == 413


def test_posts_are_limited_per_visitor_and_per_address(app, client, widget):
    app.config.update(WIDGET_POSTS_PER_VISITOR=2, WIDGET_POSTS_PER_ADDRESS=3)
    try:
        assert [post(client, widget.key).status_code for _ in range(3)] == [201, 201, 429]
        refused = post(client, widget.key)
        assert "Too many messages" in refused.get_json()["error"]
        assert int(refused.headers["Retry-After"]) >= 1
        assert post(client, widget.key, VISITOR_B).status_code == 429  # the address's third
    finally:
        app.config.pop("WIDGET_POSTS_PER_VISITOR")
        app.config.pop("WIDGET_POSTS_PER_ADDRESS")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 2


def test_polls_are_limited_per_visitor(app, client, widget):
    app.config.update(WIDGET_POLLS_PER_VISITOR=2)
    try:
        codes = [client.get(f"/widget/{widget.key}/messages",
                            query_string={"visitor": VISITOR_A}).status_code for _ in range(3)]
    finally:
        app.config.pop("WIDGET_POLLS_PER_VISITOR")
    assert codes == [200, 200, 429]


def test_a_poll_needs_a_visitor_and_a_message_id(client, widget):
    url = f"/widget/{widget.key}/messages"
    assert client.get(url).status_code == 400
    assert client.get(url, query_string={"visitor": VISITOR_A, "after": "-1"}).status_code == 400
    assert client.get(url, query_string={"visitor": VISITOR_A,
                                         "after": str(2**64)}).status_code == 400


def test_a_poll_reads_the_same_few_statements_however_long_the_chat(client, widget,
                                                                    statements):
    post(client, widget.key)
    statements.clear()
    poll(client, widget.key)
    few = len(statements)
    for n in range(15):
        post(client, widget.key, VISITOR_A, body=f"more {n}")
    statements.clear()

    assert len(poll(client, widget.key)["messages"]) == 16
    assert len(statements) == few


def test_a_post_from_another_sites_page_is_refused(app, client, widget):
    data = {"visitor": VISITOR_A, "message_id": uuid.uuid4().hex, "body": "hi"}
    for origin in ["https://shop.example", "null", "http://localhost:8080"]:
        refused = client.post(f"/widget/{widget.key}/messages", data=data,
                              headers={"Origin": origin})
        assert refused.status_code == 403, origin
    ours = client.post(f"/widget/{widget.key}/messages", data=data,
                       headers={"Origin": "http://localhost"})
    assert ours.status_code == 201


def test_a_name_or_email_left_is_a_line_for_staff_once_not_the_guests_own_name(app, client,
                                                                              widget):
    post(client, widget.key, name="Ada")
    post(client, widget.key, name="Ada", email="ada@example.com")
    with app.app_context():
        lines = db.session.scalars(sa.select(ThreadEvent.detail).where(
            ThreadEvent.kind == "visitor_details")).all()
    assert lines == ["Web chat visitor left: ada@example.com"]


def test_a_visitor_who_leaves_anothers_phone_never_reads_their_history(app, client, widget):
    post(client, widget.key, VISITOR_B, body="B's private words", phone="+14155550142")
    post(client, widget.key, VISITOR_A, body="I typed B's phone", phone="+14155550142")

    assert texts(poll(client, widget.key, VISITOR_A)) == [("visitor", "I typed B's phone")]
    assert texts(poll(client, widget.key, VISITOR_B)) == [("visitor", "B's private words")]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Thread)) == 1


def test_the_cursor_passes_only_rows_old_enough_that_no_smaller_id_can_still_commit(app, widget):
    """A row of a smaller id may commit after a larger one; the cursor waits SETTLE for it."""
    with app.app_context():
        account = webchat.by_key(widget.key)
        webchat.post(account, VISITOR_A, "m" * 20, "old")
        db.session.execute(sa.text("ALTER TABLE message DISABLE TRIGGER USER"))
        db.session.execute(sa.update(Message).values(
            created_at=Message.created_at - webchat.SETTLE * 2))
        db.session.execute(sa.text("ALTER TABLE message ENABLE TRIGGER USER"))
        webchat.post(account, VISITOR_A, "n" * 20, "new")
        shown, cursor = webchat.messages(account, VISITOR_A)
        old_id, new_id = (m["id"] for m in shown)
        assert cursor == old_id
        assert [m["id"] for m in webchat.messages(account, VISITOR_A, cursor)[0]] == [new_id]


def stored(app) -> dict:
    """Every row a visitor's request may write, counted."""
    from pawline.access_models import RateLimit

    with app.app_context():
        return {model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
                for model in (Message, ClientIdentity, Thread, ThreadEvent, RateLimit)}


def test_a_widget_turned_off_answers_404_everywhere_and_stores_nothing(app, client, widget):
    assert post(client, widget.key, body="before").status_code == 201
    with app.app_context():
        webchat.turn_off(widget.org.id, None)
    before = stored(app)

    assert client.get(f"/widget.js?key={widget.key}").status_code == 404
    assert client.get(f"/widget/{widget.key}/chat").status_code == 404
    assert post(client, widget.key, body="while off").status_code == 404
    assert client.get(f"/widget/{widget.key}/messages",
                      query_string={"visitor": VISITOR_A}).status_code == 404
    assert stored(app) == before
    with app.app_context():  # the conversation stays in the inbox
        assert db.session.scalar(sa.select(Message.body)) == "before"

    with app.app_context():
        assert webchat.turn_on(widget.org.id, None).account_id == widget.key
    assert client.get(f"/widget.js?key={widget.key}").status_code == 200
    assert post(client, widget.key, body="back on").status_code == 201
    assert texts(poll(client, widget.key)) == [("visitor", "before"), ("visitor", "back on")]


def test_a_replaced_key_stops_the_old_tag_and_the_visitor_keeps_their_thread(
        app, client, widget):
    assert post(client, widget.key, body="with the old key").status_code == 201
    with app.app_context():
        new = webchat.replace_key(widget.org.id, None).account_id
    before = stored(app)

    assert client.get(f"/widget.js?key={widget.key}").status_code == 404
    assert post(client, widget.key, body="lost").status_code == 404
    assert client.get(f"/widget/{widget.key}/messages",
                      query_string={"visitor": VISITOR_A}).status_code == 404
    assert stored(app) == before

    assert client.get(f"/widget.js?key={new}").status_code == 200
    assert client.get(f"/widget/{new}/chat").status_code == 200
    assert post(client, new, body="with the new key").status_code == 201
    assert texts(poll(client, new)) == [("visitor", "with the old key"),
                                        ("visitor", "with the new key")]
    with app.app_context():
        threads = db.session.scalars(sa.select(Message.thread_id).distinct()).all()
        assert len(threads) == 1  # the same client's one thread


def test_turning_off_or_replacing_touches_only_the_organizations_own_widget(app, client, widget):
    with app.app_context():
        other = make_widget()
        webchat.turn_off(other.org.id, None)
        webchat.replace_key(other.org.id, None)
        assert webchat.by_key(widget.key) is not None
    assert post(client, widget.key).status_code == 201
