"""Concurrent signed webhooks, real threads and real connections: the same rows as one at a time."""

import pytest
import sqlalchemy as sa

from pawline.db import db
from pawline.models import Client, ClientContact, Message, Thread, ThreadEvent
from tests import factories
from tests.concurrency import assert_invariants_hold, pool_capped_app, post_all_at_once, row_counts
from tests.twilio_signing import message_sid, sms_params

pytestmark = pytest.mark.concurrency

POOL = "+14155550100"


@pytest.fixture(scope="module")
def racing_app(database_url):
    with pool_capped_app(database_url) as app:
        yield app


@pytest.fixture
def org(app):
    with app.app_context():
        org = factories.org()
        factories.number(org.id, POOL)
    return org


def counts(app) -> dict:
    return row_counts(app, (ClientContact, Client, Thread, Message))


def test_fifty_webhooks_from_one_new_phone_make_one_client_and_one_thread(racing_app, org):
    phone = factories.phone()
    forms = [sms_params(POOL, phone, f"message {i}") for i in range(50)]

    statuses = post_all_at_once(racing_app, forms)

    assert statuses == [200] * 50
    assert counts(racing_app) == {"client_contact": 1, "client": 1, "thread": 1, "message": 50}
    with racing_app.app_context():
        assert db.session.scalar(sa.select(Thread.unread_count)) == 50
    assert_invariants_hold(racing_app)


def test_twenty_concurrent_retries_of_one_message_sid_store_one_message(racing_app, org):
    form = sms_params(POOL, factories.phone(), "once", sid=message_sid())

    statuses = post_all_at_once(racing_app, [dict(form) for _ in range(20)])

    assert statuses == [200] * 20
    assert counts(racing_app) == {"client_contact": 1, "client": 1, "thread": 1, "message": 1}
    with racing_app.app_context():
        assert db.session.scalar(sa.select(Thread.unread_count)) == 1
    assert_invariants_hold(racing_app)


def test_many_phones_at_once_some_repeated_make_one_client_per_phone(racing_app, org):
    phones = [factories.phone() for _ in range(12)]
    senders = phones + phones[:6] + phones[:3]  # 12 phones, 21 messages
    forms = [sms_params(POOL, phone, "hi") for phone in senders]
    retried = forms[0]
    forms.append(dict(retried))  # and one retry of an already-sent MessageSid

    statuses = post_all_at_once(racing_app, forms)

    assert statuses == [200] * len(forms)
    assert counts(racing_app) == {"client_contact": 12, "client": 12, "thread": 12, "message": 21}
    with racing_app.app_context():
        unread = dict(db.session.execute(
            sa.select(ClientContact.e164, Thread.unread_count)
            .join(Thread, Thread.client_id == ClientContact.client_id)).all())
    assert unread == {phone: senders.count(phone) for phone in phones}
    assert_invariants_hold(racing_app)


def test_ten_messages_at_once_reopen_a_closed_thread_with_one_event(racing_app, org):
    phone = factories.phone()
    assert post_all_at_once(racing_app, [sms_params(POOL, phone, "first")]) == [200]
    with racing_app.app_context():
        db.session.execute(sa.update(Thread).values(status="closed"))
        db.session.commit()

    forms = [sms_params(POOL, phone, f"again {i}") for i in range(10)]
    statuses = post_all_at_once(racing_app, forms)

    assert statuses == [200] * 10
    with racing_app.app_context():
        thread = db.session.scalar(sa.select(Thread))
        reopened = db.session.scalar(sa.select(sa.func.count()).select_from(ThreadEvent)
                                     .where(ThreadEvent.kind == "reopened"))
    assert (thread.status, thread.unread_count, reopened) == ("open", 11, 1)
    assert_invariants_hold(racing_app)


def test_twenty_concurrent_retries_of_one_mms_store_its_media_and_fetch_jobs_once(racing_app,
                                                                                 org):
    media = {"NumMedia": "2", "MediaUrl0": "https://api.twilio.com/m/ME1",
             "MediaContentType0": "image/jpeg", "MediaUrl1": "https://api.twilio.com/m/ME2",
             "MediaContentType1": "image/png"}
    form = sms_params(POOL, factories.phone(), "", sid=message_sid(), **media)

    statuses = post_all_at_once(racing_app, [dict(form) for _ in range(20)])

    assert statuses == [200] * 20
    with racing_app.app_context():
        attachments = db.session.execute(sa.text(
            "SELECT message_id, position, source_url FROM attachment ORDER BY position")).all()
        jobs = db.session.scalar(sa.text(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'fetch_attachment'"))
    assert [(a.position, a.source_url) for a in attachments] == [
        (0, media["MediaUrl0"]), (1, media["MediaUrl1"])]
    assert len({a.message_id for a in attachments}) == 1 and jobs == 2
    assert_invariants_hold(racing_app)
