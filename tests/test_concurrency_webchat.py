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


def audit_data(app, action: str) -> list[dict]:
    from pawline.models import AuditEvent

    with app.app_context():
        return db.session.scalars(sa.select(AuditEvent.data).where(
            AuditEvent.action == action).order_by(AuditEvent.id)).all()


def test_turning_it_off_twice_at_once_is_one_change(racing_app, key):  # noqa: F811
    with racing_app.app_context():
        org_id = webchat.by_key(key).org_id
    race_ok(racing_app, [lambda: webchat.turn_off(org_id, None)] * 4)

    assert len(audit_data(racing_app, "channel_account.turned_off")) == 1
    with racing_app.app_context():
        assert webchat.by_key(key) is None and webchat.account(org_id).account_id == key


def test_keys_replaced_at_once_each_retire_the_one_before(racing_app, key):  # noqa: F811
    with racing_app.app_context():
        org_id = webchat.by_key(key).org_id
    race_ok(racing_app, [lambda: webchat.replace_key(org_id, None)] * 4)

    chain = [(d["old_account_id"], d["account_id"])
             for d in audit_data(racing_app, "channel_account.key_replaced")]
    assert len(chain) == 4
    olds, news = {o for o, _ in chain}, {n for _, n in chain}
    with racing_app.app_context():
        final = webchat.account(org_id).account_id
    assert olds == {key} | news - {final}  # each audit line names the key it truly replaced
    with racing_app.app_context():
        assert webchat.by_key(final) is not None
        assert all(webchat.by_key(old) is None for old in olds)


def test_sites_saved_while_the_key_is_replaced_never_bring_the_old_key_back(
        racing_app, key):  # noqa: F811
    with racing_app.app_context():
        org_id = webchat.by_key(key).org_id
    race_ok(racing_app, [lambda: webchat.replace_key(org_id, None),
                         lambda: webchat.turn_off(org_id, None),
                         lambda: webchat.save_origins(org_id, "https://shop.example", None),
                         lambda: webchat.save_origins(org_id, "", None)])

    with racing_app.app_context():
        widget = webchat.account(org_id)
        assert widget.account_id != key and webchat.by_key(key) is None
        assert not webchat.is_on(widget)  # turned off, whichever sites list won
        assert webchat.allowed_origins(widget) in (["https://shop.example"], [])
