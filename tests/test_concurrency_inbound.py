"""Concurrent signed webhooks, real threads and real connections: the same rows as one at a time."""

import threading

import pytest
import sqlalchemy as sa

from pawline.db import db
from pawline.doctor import run_checks
from pawline.models import Client, ClientContact, Message, Thread, ThreadEvent
from tests import factories
from tests.twilio_signing import message_sid, post_signed, sms_params

pytestmark = pytest.mark.concurrency

SMS = "/webhooks/twilio/sms"
POOL = "+14155550100"


@pytest.fixture
def org(app):
    with app.app_context():
        org = factories.org()
        factories.number(org.id, POOL)
    return org


def post_all_at_once(app, forms: list[dict]) -> list[int]:
    """Post every form from its own thread, released together; answers the status codes."""
    barrier = threading.Barrier(len(forms))
    statuses: list[int | BaseException] = [0] * len(forms)

    def post(i: int) -> None:
        web = app.test_client()
        try:
            barrier.wait(timeout=30)
            statuses[i] = post_signed(web, SMS, forms[i]).status_code
        except BaseException as error:  # noqa: BLE001 - reported by the assert below
            statuses[i] = error

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(forms))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


def counts(app) -> dict:
    with app.app_context():
        return {model.__tablename__: db.session.scalar(
                    sa.select(sa.func.count()).select_from(model))
                for model in (ClientContact, Client, Thread, Message)}


def assert_invariants_hold(app) -> None:
    with app.app_context(), db.engine.connect() as connection:
        broken = [(r.check.invariant, r.check.claim, r.violations)
                  for r in run_checks(connection) if not r.holds]
    assert broken == []


def test_fifty_webhooks_from_one_new_phone_make_one_client_and_one_thread(app, org):
    phone = factories.phone()
    forms = [sms_params(POOL, phone, f"message {i}") for i in range(50)]

    statuses = post_all_at_once(app, forms)

    assert statuses == [200] * 50
    assert counts(app) == {"client_contact": 1, "client": 1, "thread": 1, "message": 50}
    with app.app_context():
        assert db.session.scalar(sa.select(Thread.unread_count)) == 50
    assert_invariants_hold(app)


def test_twenty_concurrent_retries_of_one_message_sid_store_one_message(app, org):
    form = sms_params(POOL, factories.phone(), "once", sid=message_sid())

    statuses = post_all_at_once(app, [dict(form) for _ in range(20)])

    assert statuses == [200] * 20
    assert counts(app) == {"client_contact": 1, "client": 1, "thread": 1, "message": 1}
    with app.app_context():
        assert db.session.scalar(sa.select(Thread.unread_count)) == 1
    assert_invariants_hold(app)


def test_many_phones_at_once_some_repeated_make_one_client_per_phone(app, org):
    phones = [factories.phone() for _ in range(12)]
    senders = phones + phones[:6] + phones[:3]  # 12 phones, 21 messages
    forms = [sms_params(POOL, phone, "hi") for phone in senders]
    retried = forms[0]
    forms.append(dict(retried))  # and one retry of an already-sent MessageSid

    statuses = post_all_at_once(app, forms)

    assert statuses == [200] * len(forms)
    assert counts(app) == {"client_contact": 12, "client": 12, "thread": 12, "message": 21}
    with app.app_context():
        unread = dict(db.session.execute(
            sa.select(ClientContact.e164, Thread.unread_count)
            .join(Thread, Thread.client_id == ClientContact.client_id)).all())
    assert unread == {phone: senders.count(phone) for phone in phones}
    assert_invariants_hold(app)


def test_ten_messages_at_once_reopen_a_closed_thread_with_one_event(app, org):
    phone = factories.phone()
    assert post_all_at_once(app, [sms_params(POOL, phone, "first")]) == [200]
    with app.app_context():
        db.session.execute(sa.update(Thread).values(status="closed"))
        db.session.commit()

    statuses = post_all_at_once(app, [sms_params(POOL, phone, f"again {i}") for i in range(10)])

    assert statuses == [200] * 10
    with app.app_context():
        thread = db.session.scalar(sa.select(Thread))
        reopened = db.session.scalar(sa.select(sa.func.count()).select_from(ThreadEvent)
                                     .where(ThreadEvent.kind == "reopened"))
    assert (thread.status, thread.unread_count, reopened) == ("open", 11, 1)
    assert_invariants_hold(app)
