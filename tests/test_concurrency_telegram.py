"""Telegram under races, real threads and connections: one chat's first updates at once give
one identity, one client, one thread; a redelivered update is one message; and a staff reply
goes out through a real worker to a fake Bot API."""

import pytest
import sqlalchemy as sa

from bench.fake_telegram import FakeTelegram, blocked, hang, too_many
from pawline.channel_models import ClientIdentity
from pawline.db import db
from pawline.models import Client, Message, Thread
from tests import factories
from tests.concurrency import assert_invariants_hold, pool_capped_app, race_ok, row_counts
from tests.jobs import work_off
from tests.telegram_world import BOT_ID, TOKEN, connect, message_update, post_update

pytestmark = pytest.mark.concurrency
CHAT = 424242


@pytest.fixture(scope="module")
def racing_app(database_url):
    with pool_capped_app(database_url) as app:
        yield app


@pytest.fixture
def org(app):
    with app.app_context():
        org = factories.org()
        org.secret = connect(org.id)
    return org


def post_all_at_once(app, slug, secret, updates) -> list[int]:
    return [response.status_code for response in race_ok(None, [
        lambda u=u: post_update(app.test_client(), slug, u, secret) for u in updates])]


def counts(app) -> tuple:
    return tuple(row_counts(app, (ClientIdentity, Client, Thread, Message)).values())


def test_racing_first_updates_from_one_chat_make_one_identity_client_and_thread(racing_app,
                                                                               org):
    updates = [message_update(100 + i, CHAT, f"message {i}") for i in range(30)]

    statuses = post_all_at_once(racing_app, org.slug, org.secret, updates)

    assert statuses == [200] * 30
    assert counts(racing_app) == (1, 1, 1, 30)
    with racing_app.app_context():
        assert db.session.scalar(sa.select(Thread.unread_count)) == 30
    assert_invariants_hold(racing_app)


def test_one_update_delivered_twenty_times_at_once_is_one_message(racing_app, org):
    update = message_update(9, CHAT, "once")

    statuses = post_all_at_once(racing_app, org.slug, org.secret, [update] * 20)

    assert statuses == [200] * 20
    assert counts(racing_app) == (1, 1, 1, 1)
    assert_invariants_hold(racing_app)


def reply(app, org, body: str) -> int:
    """A staff member answers the Telegram thread from the thread page; the message's id."""
    client = app.test_client()
    client.post("/sign-in", data={"email": org.staff_email, "password": factories.PASSWORD})
    with app.app_context():
        thread_id = db.session.scalar(sa.select(Thread.id))
    response = client.post(f"/threads/{thread_id}/messages", data={"body": body})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.max(Message.id))
                                 .where(Message.direction == "outbound"))


def test_a_staff_reply_goes_out_by_the_bot_through_a_real_worker(app, org, monkeypatch):
    assert post_update(app.test_client(), org.slug, message_update(1, CHAT, "Hi"),
                       org.secret).status_code == 200
    with FakeTelegram(TOKEN) as fake:
        monkeypatch.setitem(app.config, "TELEGRAM_API_BASE", fake.base_url)
        message_id = reply(app, org, "Rex is fine")
        work_off(app)

    assert [(m.chat_id, m.text) for m in fake.messages] == [(str(CHAT), "Rex is fine")]
    with app.app_context():
        message = db.session.get(Message, message_id)
        assert (message.channel, message.status, message.attempts) == ("telegram", "sent", 1)
        assert (message.from_e164, message.to_e164) == (BOT_ID, str(CHAT))
        assert message.provider_sid == f"{BOT_ID}:{CHAT}:m1"


def test_a_reply_to_a_user_who_blocked_the_bot_fails_in_telegrams_words(app, org, monkeypatch):
    post_update(app.test_client(), org.slug, message_update(1, CHAT, "Hi"), org.secret)
    with FakeTelegram(TOKEN) as fake:
        fake.then(blocked())
        monkeypatch.setitem(app.config, "TELEGRAM_API_BASE", fake.base_url)
        message_id = reply(app, org, "Are you there?")
        work_off(app)

    assert fake.messages == [] and len(fake.calls) == 1  # a refusal is not tried again
    with app.app_context():
        message = db.session.get(Message, message_id)
        assert message.status == "failed"
        assert message.error_message == "Forbidden: bot was blocked by the user"


def test_a_busy_telegram_is_tried_later_and_a_silent_one_is_left_for_a_person(app, org,
                                                                             monkeypatch):
    post_update(app.test_client(), org.slug, message_update(1, CHAT, "Hi"), org.secret)
    with FakeTelegram(TOKEN) as fake:
        monkeypatch.setitem(app.config, "TELEGRAM_API_BASE", fake.base_url)
        monkeypatch.setitem(app.config, "SMS_READ_TIMEOUT", 0.5)
        fake.then(too_many(retry_after=600))
        busy = reply(app, org, "First")
        work_off(app)
        with app.app_context():
            message = db.session.get(Message, busy)
            assert (message.status, message.error_code) == ("queued", "429")
            assert (message.next_attempt_at - message.status_updated_at).total_seconds() >= 600
        fake.then(hang(accepted=True))
        silent = reply(app, org, "Second")
        work_off(app)

    with app.app_context():
        message = db.session.get(Message, silent)
        assert message.status == "unconfirmed" and "may have been sent" in message.error_message
    assert [m.text for m in fake.messages] == ["Second"]  # taken, though no answer came back
