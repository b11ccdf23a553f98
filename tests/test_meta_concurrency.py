"""Messenger and Instagram with real threads, connections and a real worker: racing first
messages make one identity, one client and one thread; a staff reply reaches the fake Graph API."""

import pytest
import sqlalchemy as sa

from bench.fake_meta import FakeMeta, outside_window
from pawline import channel_accounts
from pawline.channel_models import ClientIdentity
from pawline.db import db
from pawline.models import Client, Message, Thread
from tests import factories
from tests.concurrency import assert_invariants_hold, pool_capped_app, race_ok, row_counts
from tests.jobs import work_off
from tests.meta_signing import CONFIG, delivery_of, message, mid, post

pytestmark = pytest.mark.concurrency

PAGE, IG, TOKEN = "104729381927364", "17841400000000001", "EAAG-page-token"
PSID = "6873450192837465"


@pytest.fixture(scope="module")
def graph():
    with FakeMeta({TOKEN: PAGE}) as fake:
        yield fake


@pytest.fixture(scope="module")
def meta_app(database_url, graph):
    """An app whose Graph API is the fake, with a pool that caps the connections in flight."""
    with pool_capped_app(database_url, META_GRAPH_BASE=graph.base_url, SMS_READ_TIMEOUT=2.0,
                         **CONFIG) as app:
        yield app


@pytest.fixture
def org(meta_app):
    with meta_app.app_context():
        org = factories.org()
        channel_accounts.save(org.id, "messenger", PAGE, "Happy Paws", secret=TOKEN)
        channel_accounts.save(org.id, "instagram", IG, "@happypaws", secret=TOKEN)
    return org


def counts(app) -> dict:
    return row_counts(app, (ClientIdentity, Client, Thread, Message))


@pytest.mark.parametrize(("object_", "account"), [("page", PAGE), ("instagram", IG)])
def test_racing_first_messages_from_one_person_make_one_client_and_thread(meta_app, org,
                                                                          object_, account):
    payloads = [delivery_of(account, message(PSID, account, f"message {i}"), object_=object_)
                for i in range(30)]

    responses = race_ok(None, [lambda p=p: post(meta_app.test_client(), p) for p in payloads])

    assert [r.status_code for r in responses] == [200] * 30
    assert counts(meta_app) == {"client_identity": 1, "client": 1, "thread": 1, "message": 30}
    with meta_app.app_context():
        assert db.session.scalar(sa.select(Thread.unread_count)) == 30
    assert_invariants_hold(meta_app)


def test_twenty_retries_of_one_mid_at_once_store_one_message(meta_app, org):
    payload = delivery_of(PAGE, message(PSID, PAGE, "once", message_id=mid()))

    responses = race_ok(None, [lambda: post(meta_app.test_client(), payload)] * 20)

    assert [r.status_code for r in responses] == [200] * 20
    assert counts(meta_app) == {"client_identity": 1, "client": 1, "thread": 1, "message": 1}
    assert_invariants_hold(meta_app)


def staff_reply(app, org, body: str):
    client = app.test_client()
    client.post("/sign-in", data={"email": org.staff_email, "password": factories.PASSWORD})
    with app.app_context():
        thread_id = db.session.scalar(sa.select(Thread.id))
    return client.post(f"/threads/{thread_id}/messages", data={"body": body})


def test_a_staff_reply_goes_out_through_a_worker_to_the_graph_api_and_turns_sent(meta_app, org,
                                                                                 graph):
    assert post(meta_app.test_client(),
                delivery_of(PAGE, message(PSID, PAGE, "Is Rex okay?"))).status_code == 200

    assert staff_reply(meta_app, org, "Rex is fine, he ate his dinner.").status_code == 302
    work_off(meta_app)

    sent = [m for m in graph.messages if m.text == "Rex is fine, he ate his dinner."]
    assert [(m.page_id, m.recipient_id, m.messaging_type) for m in sent] == [
        (PAGE, PSID, "RESPONSE")]
    with meta_app.app_context():
        reply = db.session.scalar(sa.select(Message).where(Message.direction == "outbound"))
        assert (reply.channel, reply.status, reply.provider) == ("messenger", "sent", "meta")
        assert (reply.from_e164, reply.to_e164) == (PAGE, PSID)
        assert reply.provider_sid == sent[0].message_id


def test_a_refusal_from_meta_fails_the_reply_in_metas_words(meta_app, org, graph):
    post(meta_app.test_client(), delivery_of(PAGE, message(PSID, PAGE, "Hello?")))
    graph.then(outside_window())

    assert staff_reply(meta_app, org, "Sorry for the wait").status_code == 302
    work_off(meta_app)

    with meta_app.app_context():
        reply = db.session.scalar(sa.select(Message).where(Message.direction == "outbound"))
        assert (reply.status, reply.error_code) == ("failed", "10/2018278")
        assert "24-hour window" in reply.error_message
