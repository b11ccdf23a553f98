"""Consent at hand-over and in the database: the worker re-checks a phone's consent when it takes
a message, Twilio's 21610 opts the phone out, HELP is answered, and the tables keep their rules."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from bench.fake_twilio import FakeTwilio, twilio_error
from pawline import consent, delivery
from pawline.consent_models import ConsentEvent, PhoneConsent
from pawline.db import constraint_name, db
from pawline.inbound import receive_sms
from pawline.models import AuditEvent, Message, Thread, ThreadEvent
from pawline.outbound import queue_message
from pawline.providers import ProviderError, Sent, TwilioProvider
from tests import factories

NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
ADA = "+14155552671"


class Provider:
    """Answers each send with the next outcome (an exception is raised); records the sends."""

    name = "twilio"

    def __init__(self, *outcomes):
        self.outcomes, self.sent = list(outcomes), []

    def send(self, **message):
        self.sent.append(message)
        outcome = self.outcomes.pop(0) if self.outcomes else "ok"
        if isinstance(outcome, Exception):
            raise outcome
        return Sent(sid=f"SM{len(self.sent):032d}", status="sent")


@pytest.fixture
def org(ctx):
    org = factories.org("Happy Paws")
    org.pool = "+14155550100"
    factories.number(org.id, org.pool)
    factories.client(org.id, "Ada", ADA)
    org.thread_id = receive_sms(org.pool, ADA, "Hi!", "SMhi", now=NOW).thread_id
    return org


def stored(message_id: int) -> Message:
    db.session.expire_all()
    return db.session.get(Message, message_id)


def opt_out_elsewhere(org) -> None:
    """The phone opts out through another thread of the organization: this one's queued
    messages are not canceled at once, so only the worker's own check can stop them."""
    guest = receive_sms(org.pool, "+14155550177", "hello", "SMguest", now=NOW).thread_id
    consent.change(org.id, guest, ADA, True, "keyword", "STOP", now=NOW)
    db.session.commit()


def test_a_queued_message_whose_phone_opted_out_is_canceled_when_the_worker_takes_it(org):
    queued = queue_message(org.id, org.thread_id, "Walk at 5?", None, "twilio").message_id
    opt_out_elsewhere(org)
    provider = Provider()

    assert delivery.attempt(queued, provider) == "canceled"

    message = stored(queued)
    assert provider.sent == [] and message.provider_sid is None
    assert message.error_message == ("Not sent: (415) 555-2671 opted out on 3 Dec 2026 "
                                     "(texted STOP).")
    assert message.attempts == 0  # never handed over


def test_twilio_21610_opts_the_phone_out_with_the_provider_as_source(org):
    queued = queue_message(org.id, org.thread_id, "Walk at 5?", None, "twilio").message_id
    refusal = ProviderError("Attempt to send to unsubscribed recipient", "21610")

    assert delivery.attempt(queued, Provider(refusal)) == "failed"

    event = db.session.scalar(sa.select(ConsentEvent))
    assert (event.e164, event.opted_out, event.source, event.message_id) == (
        ADA, True, "provider", queued)
    assert db.session.scalar(sa.select(ThreadEvent.detail).where(
        ThreadEvent.kind == "opted_out")).startswith("Twilio refused a message")
    audit = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "consent.opted_out"))
    assert audit.data["actor"] == "Twilio (error 21610)"
    with pytest.raises(consent.OptedOut, match=r"Ada opted out on \d+ \w+ 2026 \(Twilio "
                                               r"reported it: error 21610\)"):
        queue_message(org.id, org.thread_id, "Hello?", None, "twilio")


def test_twilios_own_21610_answer_through_the_real_sdk_opts_the_phone_out(org):
    sid, token = "AC" + "3" * 32, "consent-token"
    queued = queue_message(org.id, org.thread_id, "Walk at 5?", None, "twilio").message_id
    with FakeTwilio(sid, token) as fake:
        fake.then(twilio_error(21610))
        twilio = TwilioProvider(sid, token, api_base_url=fake.base_url, read_timeout=5)

        assert delivery.attempt(queued, twilio) == "failed"

    assert len(fake.calls) == 1 and fake.messages == []
    assert stored(queued).error_code == "21610"
    db.session.expire_all()
    event = db.session.scalar(sa.select(ConsentEvent))
    assert (event.opted_out, event.source, event.message_id) == (True, "provider", queued)
    with pytest.raises(consent.OptedOut):
        queue_message(org.id, org.thread_id, "Hello?", None, "twilio")


def test_a_failed_message_to_an_opted_out_phone_cannot_be_retried(org):
    queued = queue_message(org.id, org.thread_id, "Walk at 5?", None, "twilio").message_id
    delivery.attempt(queued, Provider(ProviderError("Invalid number", "21211")))
    opt_out_elsewhere(org)

    with pytest.raises(consent.OptedOut):
        delivery.retry_message(org.id, org.thread_id, queued)
    assert stored(queued).status == "failed"


def help_replies() -> list[Message]:
    return db.session.scalars(sa.select(Message).where(Message.auto_reply == "help")).all()


def test_help_queues_the_owners_answer_through_the_delivery_path(org):
    consent.set_help_reply(org.id, "Happy Paws: call us at 415-555-0199.", None)

    result = receive_sms(org.pool, ADA, "help", "SMhelp", now=NOW + timedelta(minutes=1))

    [reply] = help_replies()
    assert (reply.body, reply.to_e164, reply.from_e164, reply.status) == (
        "Happy Paws: call us at 415-555-0199.", ADA, org.pool, "queued")
    assert db.session.scalar(sa.text(
        "SELECT count(*) FROM procrastinate_jobs WHERE args->>'message_id' = :id"),
        {"id": str(reply.id)}) == 1
    thread = db.session.get(Thread, result.thread_id)
    assert (thread.last_message_preview, thread.unread_count) == ("help", 2)  # still to read
    assert delivery.attempt(reply.id, Provider()) == "sent"


def test_help_from_an_opted_out_phone_is_still_answered(org):
    receive_sms(org.pool, ADA, "STOP", "SMstop", now=NOW)
    receive_sms(org.pool, ADA, "INFO", "SMinfo", now=NOW + timedelta(minutes=1))

    [reply] = help_replies()
    assert reply.body.startswith("Happy Paws: ") and reply.status == "queued"
    provider = Provider()
    assert delivery.attempt(reply.id, provider) == "sent" and len(provider.sent) == 1


def test_help_with_no_number_to_send_from_keeps_the_message_and_says_so(ctx):
    org = factories.org()
    number_id = factories.number(org.id, "+14155550100")
    db.session.execute(sa.text(
        "UPDATE message_number SET status = 'quarantined', quarantine_release_at = now() "
        "WHERE id = :id"), {"id": number_id})
    db.session.commit()

    result = receive_sms("+14155550100", ADA, "HELP", "SMhelp", now=NOW)

    assert db.session.get(Message, result.message_id).body == "HELP"
    assert help_replies() == []
    assert db.session.scalar(sa.select(ThreadEvent.kind)) == "help_unanswered"


# --- What the database holds --------------------------------------------------------------

def raw(statement: str, **values):
    with db.session.begin_nested():
        return db.session.execute(sa.text(statement), values)


def refused(statement: str, **values) -> str | None:
    with pytest.raises((IntegrityError, DBAPIError)) as caught:
        raw(statement, **values)
    return constraint_name(caught.value)


def new_event(org_id: int, opted_out: bool = True, e164: str = ADA) -> int:
    return raw("INSERT INTO consent_event (org_id, e164, opted_out, source, keyword) "
               "VALUES (:org, :e164, :out, 'keyword', 'STOP') RETURNING id",
               org=org_id, e164=e164, out=opted_out).scalar()


def test_an_event_sets_the_phones_state_and_events_are_only_ever_added(org):
    first, second = new_event(org.id), new_event(org.id, opted_out=False)
    row = db.session.scalar(sa.select(PhoneConsent).execution_options(populate_existing=True))
    assert (row.last_event_id, row.opted_out) == (second, False)

    assert refused("UPDATE consent_event SET opted_out = false WHERE id = :id",
                   id=first) == "consent_event_append_only"
    assert refused("DELETE FROM consent_event WHERE id = :id",
                   id=first) == "consent_event_append_only"
    assert refused("TRUNCATE consent_event") == "consent_event_append_only"


def test_a_state_its_latest_event_does_not_say_is_refused(org):
    event = new_event(org.id)
    where = "WHERE org_id = :org AND e164 = :e164"

    assert refused(f"UPDATE phone_consent SET opted_out = false {where}",
                   org=org.id, e164=ADA) == "phone_consent_follows_events"
    assert refused(f"UPDATE phone_consent SET last_event_id = NULL, changed_at = NULL {where}",
                   org=org.id, e164=ADA) == "phone_consent_follows_events"
    assert refused("INSERT INTO phone_consent (org_id, e164, opted_out) "
                   "VALUES (:org, '+14155550123', true)", org=org.id) == \
        "phone_consent_follows_events"
    later = new_event(org.id, opted_out=False)
    assert refused(f"UPDATE phone_consent SET last_event_id = :id, opted_out = true {where}",
                   id=event, org=org.id, e164=ADA) == "phone_consent_follows_events"
    assert later > event


def test_one_consent_row_per_phone_per_organization(org):
    other = factories.org()
    insert = "INSERT INTO phone_consent (org_id, e164) VALUES (:org, '+14155550123')"
    raw(insert, org=org.id)

    assert refused(insert, org=org.id) == "uq_phone_consent_org_id_e164"
    raw(insert, org=other.id)  # the same phone, another organization
