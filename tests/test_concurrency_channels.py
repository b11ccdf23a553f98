"""Racing first messages on every channel, real threads and connections: 1 identity, 1 client,
1 thread (I15, I3), exactly as one message at a time would leave them."""

import pytest
import sqlalchemy as sa

from pawline import channels
from pawline.channel_models import ClientIdentity
from pawline.clients import merge_client
from pawline.db import db
from pawline.models import Client, ClientContact, Message, Thread
from pawline.threads import find_or_create_client_by_phone, find_or_create_thread
from tests import factories
from tests.concurrency import (
    assert_invariants_hold,
    pool_capped_app,
    post_all_at_once,
    race,
    race_ok,
    row_counts,
)
from tests.twilio_signing import sms_params

pytestmark = pytest.mark.concurrency

ADDRESSES = {"telegram": "5550001", "messenger": "24681357", "instagram": "17841400000000",
             "webchat": "visitor_0123456789abcdef"}


@pytest.fixture(scope="module")
def racing_app(database_url):
    with pool_capped_app(database_url) as app:
        yield app


@pytest.fixture
def org(app):
    with app.app_context():
        return factories.org()


def counts(app) -> dict:
    return row_counts(app, (ClientIdentity, Client, Thread, Message))


def receive(org_id, channel, sid, body="hi"):
    return lambda: channels.receive(
        org_id, channel, ADDRESSES[channel], body, provider=channels.PROVIDERS[channel],
        provider_sid=sid, to_address="1000")


@pytest.mark.parametrize("channel", sorted(ADDRESSES))
def test_thirty_first_messages_from_one_new_address_make_one_client_and_one_thread(
        racing_app, org, channel):
    outcomes = race_ok(racing_app, [receive(org.id, channel, f"{channel}-{i}", f"m{i}")
                                    for i in range(30)])

    assert len({o.client_id for o in outcomes}) == 1 and len({o.thread_id for o in outcomes}) == 1
    assert counts(racing_app) == {"client_identity": 1, "client": 1, "thread": 1, "message": 30}
    with racing_app.app_context():
        assert db.session.scalar(sa.select(Thread.unread_count)) == 30
    assert_invariants_hold(racing_app)


@pytest.mark.parametrize("channel", sorted(ADDRESSES))
def test_twenty_repeats_of_one_delivery_store_one_message(racing_app, org, channel):
    outcomes = race_ok(racing_app, [receive(org.id, channel, "once") for _ in range(20)])

    assert sum(not o.duplicate for o in outcomes) == 1
    assert counts(racing_app) == {"client_identity": 1, "client": 1, "thread": 1, "message": 1}
    assert_invariants_hold(racing_app)


def test_every_channel_at_once_from_one_client_stays_in_that_clients_thread(racing_app, org):
    with racing_app.app_context():
        ada = factories.client(org.id, "Ada")
        for channel, address in ADDRESSES.items():
            db.session.add(ClientIdentity(org_id=org.id, client_id=ada, channel=channel,
                                          address=address))
        db.session.commit()

    race_ok(racing_app, [receive(org.id, channel, f"{channel}-{i}")
                         for channel in ADDRESSES for i in range(5)])

    assert counts(racing_app) == {"client_identity": 4, "client": 1, "thread": 1, "message": 20}
    assert_invariants_hold(racing_app)


def test_a_visitor_leaving_a_phone_while_writing_ends_in_the_phone_owners_thread(racing_app,
                                                                                 org):
    phone = factories.phone()
    with racing_app.app_context():
        owner, _ = find_or_create_client_by_phone(org.id, phone)
        find_or_create_thread(org.id, owner)
        db.session.commit()
    with racing_app.app_context():
        receive(org.id, "webchat", "first")()

    outcomes = race(racing_app, [
        lambda: channels.link_phone(org.id, "webchat", ADDRESSES["webchat"], phone),
        *[receive(org.id, "webchat", f"w{i}") for i in range(8)]])

    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    with racing_app.app_context():
        assert db.session.scalar(sa.select(ClientIdentity.client_id)) == owner
        assert db.session.scalar(sa.select(ClientContact.client_id)) == owner
        assert {m.thread_id for m in db.session.scalars(sa.select(Message))} == {
            db.session.scalar(sa.select(Thread.id).where(Thread.client_id == owner))}
    assert counts(racing_app) == {"client_identity": 1, "client": 1, "thread": 1, "message": 9}
    assert_invariants_hold(racing_app)


def test_messages_racing_a_merge_of_their_guest_land_in_the_survivor(racing_app, org):
    with racing_app.app_context():
        guest = receive(org.id, "telegram", "t0")().client_id
        ada = factories.client(org.id, "Ada", factories.phone())

    outcomes = race(racing_app, [
        lambda: merge_client(org.id, guest, ada, None),
        *[receive(org.id, "telegram", f"t{i}") for i in range(1, 9)]])

    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    with racing_app.app_context():
        assert db.session.scalar(sa.select(ClientIdentity.client_id)) == ada
    assert counts(racing_app) == {"client_identity": 1, "client": 1, "thread": 1, "message": 9}
    assert_invariants_hold(racing_app)


POOL = "+14155550100"


def test_first_whatsapp_and_sms_messages_at_once_from_one_new_phone_make_one_client(racing_app,
                                                                                  org):
    with racing_app.app_context():
        factories.number(org.id, POOL)
    phone = factories.phone()
    forms = [sms_params(f"whatsapp:{POOL}", f"whatsapp:{phone}", f"wa {i}") for i in range(15)]
    forms += [sms_params(POOL, phone, f"sms {i}") for i in range(15)]
    forms.append(dict(forms[0]))  # and a retry of a WhatsApp MessageSid

    statuses = post_all_at_once(racing_app, forms)

    assert statuses == [200] * 31
    with racing_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ClientContact)) == 1
        channels_seen = dict(db.session.execute(
            sa.select(Message.channel, sa.func.count()).group_by(Message.channel)).all())
    assert channels_seen == {"whatsapp": 15, "sms": 15}
    assert counts(racing_app) == {"client_identity": 0, "client": 1, "thread": 1, "message": 30}
    assert_invariants_hold(racing_app)
