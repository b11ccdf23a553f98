"""Delivery attempts: claimed once, retried on a schedule, never resent when the outcome is unknown.

These drive `pawline.delivery` with small providers that answer as told; the real Twilio SDK
against a local Messages API is in test_twilio_provider.py, and real workers in
test_concurrency_jobs.py.
"""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from pawline import delivery
from pawline.clock import utcnow
from pawline.db import db
from pawline.errors import DomainError, NotFound
from pawline.models import Message
from pawline.outbound import queue_message
from pawline.providers import ProviderError, Sent
from pawline.threads import find_or_create_thread
from tests import factories


class Answers:
    """A provider that answers each send with the next of `outcomes` (an exception is raised)."""

    name = "twilio"

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.sent = []

    def send(self, **message):
        self.sent.append(message)
        outcome = self.outcomes.pop(0) if self.outcomes else "ok"
        if isinstance(outcome, Exception):
            raise outcome
        return Sent(sid=f"SM{len(self.sent):032d}", status="queued")


def transient(retry_after=None):
    return ProviderError("Service unavailable", "503", kind="transient", retry_after=retry_after)


@pytest.fixture
def message_id(ctx):
    org = factories.org()
    factories.number(org.id, "+14155550101", "pool")
    thread_id = find_or_create_thread(org.id, factories.client(org.id, "Ada", "+14155552671"))
    db.session.commit()
    return queue_message(org.id, thread_id, "Hello", None, "twilio").message_id


def stored(message_id) -> Message:
    db.session.expire_all()
    return db.session.get(Message, message_id)


def jobs_for(message_id) -> list:
    return db.session.execute(sa.text(
        "SELECT status, scheduled_at FROM procrastinate_jobs WHERE args->>'message_id' = :id "
        "ORDER BY id"), {"id": str(message_id)}).all()


def test_an_accepted_message_stores_the_provider_id_and_counts_one_try(message_id):
    provider = Answers("ok")
    assert delivery.attempt(message_id, provider) == "queued"  # until the status callback
    message = stored(message_id)
    assert (message.provider_sid, message.attempts) == ("SM" + "1".zfill(32), 1)
    assert provider.sent[0]["to_e164"] == "+14155552671"


def test_a_message_with_a_provider_id_is_never_handed_over_again(message_id):
    provider = Answers("ok")
    delivery.attempt(message_id, provider)
    delivery.attempt(message_id, provider)
    assert len(provider.sent) == 1 and stored(message_id).attempts == 1


def test_a_transient_failure_requeues_with_a_next_try_and_a_job_due_then(message_id):
    before = utcnow()
    assert delivery.attempt(message_id, Answers(transient())) == "queued"
    message = stored(message_id)
    assert message.attempts == 1 and message.error_code == "503"
    wait = message.next_attempt_at - before
    assert delivery.FIRST_BACKOFF / 2 <= wait <= delivery.FIRST_BACKOFF + timedelta(seconds=2)
    retry_job = jobs_for(message_id)[-1]
    assert retry_job.status == "todo" and retry_job.scheduled_at == message.next_attempt_at


def test_a_retry_after_from_the_provider_is_honoured(message_id):
    delivery.attempt(message_id, Answers(transient(retry_after=120)))
    assert stored(message_id).next_attempt_at - utcnow() > timedelta(seconds=115)


def test_the_next_try_after_transient_failures_succeeds(message_id):
    provider = Answers(transient(), transient(), "ok")
    for _ in range(3):
        delivery.attempt(message_id, provider)
    message = stored(message_id)
    assert message.attempts == 3 and message.provider_sid is not None
    assert message.error_message is None and message.next_attempt_at is None


def test_transient_failures_give_up_after_the_retry_window(message_id):
    db.session.execute(sa.update(Message).where(Message.id == message_id).values(
        queued_at=utcnow() - delivery.RETRY_FOR - timedelta(seconds=1)))
    db.session.commit()
    assert delivery.attempt(message_id, Answers(transient())) == "failed"
    assert stored(message_id).error_message.startswith("Gave up after 1 tries")


def test_a_permanent_refusal_fails_at_once_in_the_providers_words(message_id):
    refusal = ProviderError("The 'To' number is not a valid phone number.", "21211")
    assert delivery.attempt(message_id, Answers(refusal)) == "failed"
    message = stored(message_id)
    assert (message.error_code, message.next_attempt_at) == ("21211", None)
    assert "not a valid phone number" in message.error_message
    assert len(jobs_for(message_id)) == 1  # only the first job: no retry queued


def a_second_message(message_id) -> int:
    message = stored(message_id)
    return queue_message(message.org_id, message.thread_id, "Hello again", None,
                         "twilio").message_id


def test_a_send_through_after_failures_brings_the_other_waiting_retries_forward(message_id):
    waiting = a_second_message(message_id)
    delivery.attempt(message_id, Answers(transient()))
    delivery.attempt(waiting, Answers(transient(retry_after=600)))  # next try in 10 minutes
    before = utcnow()

    delivery.attempt(message_id, Answers("ok"))  # the provider is back

    message = stored(waiting)
    assert message.status == "queued" and message.attempts == 1
    assert before <= message.next_attempt_at <= before + delivery.RESUME_SPREAD + \
        timedelta(seconds=2)
    assert jobs_for(waiting)[-1] == ("todo", message.next_attempt_at)


def test_a_send_through_at_the_first_try_leaves_waiting_retries_alone(message_id):
    waiting = a_second_message(message_id)
    delivery.attempt(waiting, Answers(transient(retry_after=600)))
    due = stored(waiting).next_attempt_at

    delivery.attempt(message_id, Answers("ok"))

    assert stored(waiting).next_attempt_at == due and jobs_for(waiting)[-1].scheduled_at == due


def test_no_answer_after_the_request_left_is_unconfirmed_and_never_resent(message_id):
    cut_off = ProviderError("Read timed out", kind="unknown")
    provider = Answers(cut_off)
    assert delivery.attempt(message_id, provider) == "unconfirmed"
    assert delivery.attempt(message_id, provider) == "unconfirmed"
    assert len(provider.sent) == 1
    assert "Check with the client" in stored(message_id).error_message


def test_a_message_left_sending_by_a_dead_worker_becomes_unconfirmed(message_id):
    db.session.execute(sa.update(Message).where(Message.id == message_id)
                       .values(status="sending", attempts=1))
    db.session.commit()
    provider = Answers()
    assert delivery.attempt(message_id, provider) == "unconfirmed"
    assert provider.sent == [] and "worker stopped" in stored(message_id).error_message


@pytest.mark.concurrency  # real commits: the claim's must really be cut off
def test_a_claim_whose_commit_is_cut_off_is_queued_again_never_unconfirmed(message_id):
    """The database connection dies as the claim commits (a restart): this run knows it has
    sent nothing, so the message is queued again with a job, and that job sends it once."""
    session = db.session()

    killed = []

    def kill_the_backend(_session):
        if killed:
            return
        killed.append(True)
        # this transaction's server process (through a PgBouncer, not the one first connected)
        pid = session.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        with db.engine.connect() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    sa.event.listen(session, "before_commit", kill_the_backend)
    provider = Answers()
    try:
        assert delivery.attempt(message_id, provider) == "queued"
    finally:
        sa.event.remove(session, "before_commit", kill_the_backend)
    message = stored(message_id)
    assert (message.status, message.attempts, provider.sent) == ("queued", 0, [])
    assert [job.status for job in jobs_for(message_id)] == ["todo", "todo"]
    assert delivery.attempt(message_id, provider) == "queued"  # the next job: sent, once
    assert len(provider.sent) == 1 and stored(message_id).provider_sid is not None


def test_a_person_can_send_a_failed_message_again(message_id):
    delivery.attempt(message_id, Answers(ProviderError("Nope", "21211")))
    message = stored(message_id)
    delivery.retry_message(message.org_id, message.thread_id, message_id)
    assert stored(message_id).status == "queued" and len(jobs_for(message_id)) == 2
    delivery.attempt(message_id, Answers("ok"))
    assert stored(message_id).provider_sid is not None


def test_a_sent_message_cannot_be_retried_or_canceled(message_id):
    delivery.attempt(message_id, Answers("ok"))
    message = stored(message_id)
    with pytest.raises(DomainError):
        delivery.retry_message(message.org_id, message.thread_id, message_id)
    with pytest.raises(DomainError):
        delivery.cancel_message(message.org_id, message.thread_id, message_id)


def test_a_canceled_message_is_skipped_by_its_job(message_id):
    message = stored(message_id)
    delivery.cancel_message(message.org_id, message.thread_id, message_id)
    provider = Answers()
    assert delivery.attempt(message_id, provider) == "canceled"
    assert provider.sent == []


def test_retry_and_cancel_answer_not_found_for_another_threads_message(message_id):
    message = stored(message_id)
    other = find_or_create_thread(message.org_id,
                                  factories.client(message.org_id, "Bo", "+14155552672"))
    for action in (delivery.retry_message, delivery.cancel_message):
        with pytest.raises(NotFound):
            action(message.org_id, other, message_id)


def test_backoff_doubles_up_to_its_ceiling_with_jitter():
    waits = [delivery.backoff(n) for n in range(1, 12)]
    for n, wait in enumerate(waits, start=1):
        ceiling = min(delivery.MAX_BACKOFF, delivery.FIRST_BACKOFF * 2 ** (n - 1))
        assert ceiling / 2 <= wait <= ceiling
    assert len({delivery.backoff(3) for _ in range(20)}) > 1  # jittered
