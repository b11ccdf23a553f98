"""A STOP and a send racing on real connections never give a send after the STOP is stored.

Each round releases, at the same moment on two threads with their own connections, a client's
STOP (the inbound webhook's code) and a send to that client (a staff reply stored and handed to
the real Twilio SDK, or a reply queued earlier that a worker hands over). The fake Twilio notes
when each message reached it; PostgreSQL notes, in `phone_consent.stored_at`, when the STOP's
state was written. Every message Twilio got must have reached it before that; every other send
was refused before anything was stored, or canceled as opted out.
"""

import random
import time

import pytest
import sqlalchemy as sa

from bench.fake_twilio import FakeTwilio, accept
from pawline import consent, delivery
from pawline.consent_models import PhoneConsent
from pawline.db import db
from pawline.inbound import receive_sms
from pawline.models import Message
from pawline.outbound import queue_message
from pawline.providers import TwilioProvider
from tests import factories
from tests.concurrency import race
from tests.conftest import direct_only, make_app

pytestmark = pytest.mark.concurrency

SID, TOKEN = "AC" + "2" * 32, "race-token"
POOL = "+14155550101"
ROUNDS = 40
HANDED_OVER = ("sent", "queued")  # Twilio's 201 says queued: ours until its status callback


@pytest.fixture
def fake():
    with FakeTwilio(SID, TOKEN) as fake:
        fake.always(accept(delay=0.01))  # the provider takes a moment, as Twilio does
        yield fake


def stop(phone: str, n: int):
    time.sleep(random.uniform(0, 0.04))
    return receive_sms(POOL, phone, "STOP", f"SMstop{n:030d}")


def reply_and_hand_over(org_id: int, thread_id: int, provider) -> str:
    time.sleep(random.uniform(0, 0.01))
    try:
        queued = queue_message(org_id, thread_id, "Rex is fed", None, "twilio")
    except consent.OptedOut:
        return "refused"
    return delivery.attempt(queued.message_id, provider)


def hand_over(message_id: int, provider) -> str:
    time.sleep(random.uniform(0, 0.01))
    return delivery.attempt(message_id, provider)


@pytest.mark.parametrize("send", ["reply now", "reply queued earlier"])
def test_no_message_reaches_the_provider_after_the_stop_is_stored(app, fake, send):
    provider = TwilioProvider(SID, TOKEN, api_base_url=fake.base_url, read_timeout=5)
    with app.app_context():
        org = factories.org()
        factories.number(org.id, POOL)
    outcomes = []
    for n in range(ROUNDS):
        phone = factories.phone()
        with app.app_context():
            thread_id = receive_sms(POOL, phone, "Hi", f"SMhi{n:032d}").thread_id
            if send == "reply queued earlier":  # else the phone has no consent row yet either
                earlier = queue_message(org.id, thread_id, "Earlier", None, "twilio").message_id
        calls = [lambda p=phone, n=n: stop(p, n)]
        if send == "reply now":
            calls.append(lambda t=thread_id: reply_and_hand_over(org.id, t, provider))
        else:
            calls.append(lambda m=earlier: hand_over(m, provider))
        stopped, sent = race(app, calls)
        assert not isinstance(stopped, BaseException), stopped
        assert sent in ("refused", "canceled", *HANDED_OVER), sent
        outcomes.append(sent)
        with app.app_context():
            state = db.session.scalar(sa.select(PhoneConsent).where(
                PhoneConsent.org_id == org.id, PhoneConsent.e164 == phone))
            assert state.opted_out
            reached = [c.received_at for c in fake.calls if c.form.get("To") == phone]
            assert all(at < state.stored_at.timestamp() for at in reached), (n, sent)
            assert len(reached) == (sent in HANDED_OVER)
            never_sent = db.session.scalars(sa.select(Message).where(
                Message.to_e164 == phone, Message.direction == "outbound",
                Message.provider_sid.is_(None))).all()
            assert all(m.status == "canceled" and "opted out" in m.error_message
                       for m in never_sent), [(m.status, m.error_message) for m in never_sent]
    print(send, {o: outcomes.count(o) for o in set(outcomes)})  # noqa: T201 - what the races did


@direct_only  # PgBouncer refuses startup options
def test_a_database_failure_between_claim_and_hand_over_puts_the_message_back(app, database_url):
    # A worker whose connections give up on a lock after 100 ms, against a STOP in progress
    impatient = make_app(database_url, SQLALCHEMY_ENGINE_OPTIONS={
        "pool_size": 2, "connect_args": {"options": "-c lock_timeout=100"}})
    with app.app_context():
        org = factories.org()
        factories.number(org.id, POOL)
        thread_id = receive_sms(POOL, "+14155550199", "Hi", "SMhi" + "0" * 30).thread_id
        queued = queue_message(org.id, thread_id, "Rex is fed", None, "twilio").message_id
        blocker = db.engine.connect()
        blocker.execute(sa.text("SELECT 1 FROM phone_consent FOR UPDATE"))
    provider = NoSends()
    try:
        with impatient.app_context():
            assert delivery.attempt(queued, provider) == "queued"
            message = db.session.get(Message, queued)
            assert (message.status, message.attempts) == ("queued", 0)
            assert message.next_attempt_at is not None and provider.sent == []
            assert db.session.scalar(sa.text(
                "SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo' "
                "AND scheduled_at IS NOT NULL")) == 1
            db.session.remove()
            db.engine.dispose()
    finally:
        blocker.rollback()
        blocker.close()


class NoSends:
    name = "twilio"

    def __init__(self):
        self.sent = []

    def send(self, **message):
        self.sent.append(message)
        raise AssertionError("nothing may be sent while the phone's consent is unknown")
