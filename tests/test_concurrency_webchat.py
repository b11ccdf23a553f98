"""A visitor's first messages racing through the widget: one identity, one client, one thread.

Real threads post over the app (each request its own session and connection), released at the
same moment, as a double-clicked Send or a retry on a flaky connection would.
"""

import uuid

import pytest
import sqlalchemy as sa

from pawline import webchat
from pawline.channel_models import ChannelAccount, ClientIdentity
from pawline.db import db
from pawline.models import Client, ClientContact, Message, Thread
from tests import factories
from tests.concurrency import race_ok
from tests.test_concurrency_inbound import assert_invariants_hold, racing_app  # noqa: F401

pytestmark = pytest.mark.concurrency

VISITOR = "racing-visitor-" + "r" * 20
RACERS = 8


@pytest.fixture
def org(app):
    with app.app_context():
        return factories.org()


@pytest.fixture
def key(app):
    with app.app_context():
        org = factories.org()
        return webchat.turn_on(org.id, None).account_id


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def post_all_at_once(racing_app, key, forms) -> list[int]:  # noqa: F811
    return [response.status_code for response in race_ok(None, [
        lambda form=form: racing_app.test_client().post(f"/widget/{key}/messages", data=form)
        for form in forms])]


def test_racing_first_messages_of_one_visitor_make_one_identity_client_and_thread(
        racing_app, key):  # noqa: F811
    forms = [{"visitor": VISITOR, "message_id": uuid.uuid4().hex, "body": f"hello {n}"}
             for n in range(RACERS)]

    assert post_all_at_once(racing_app, key, forms) == [201] * RACERS

    assert [count(racing_app, m) for m in (ClientIdentity, Client, Thread, Message)] == [
        1, 1, 1, RACERS]
    assert_invariants_hold(racing_app)


def test_the_same_message_posted_at_once_is_stored_once(racing_app, key):  # noqa: F811
    form = {"visitor": VISITOR, "message_id": uuid.uuid4().hex, "body": "sent twice"}

    codes = post_all_at_once(racing_app, key, [form] * RACERS)

    assert sorted(codes) == [200] * (RACERS - 1) + [201]
    assert count(racing_app, Message) == 1


def test_racing_visitors_leaving_one_phone_join_its_one_client(racing_app, key):  # noqa: F811
    forms = [{"visitor": f"visitor-{n:02d}-" + "p" * 20, "message_id": uuid.uuid4().hex,
              "body": "it's me", "phone": "+14155550142"} for n in range(4)]

    assert post_all_at_once(racing_app, key, forms) == [201] * 4

    assert [count(racing_app, m) for m in (ClientContact, Client, Thread, ClientIdentity)] == [
        1, 1, 1, 4]
    assert_invariants_hold(racing_app)


def test_turning_it_on_twice_at_once_makes_one_key(racing_app, org):  # noqa: F811
    keys = race_ok(racing_app, [lambda: webchat.turn_on(org.id, None).account_id] * 4)
    assert len(set(keys)) == 1
    with racing_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ChannelAccount)) == 1
