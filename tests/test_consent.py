"""Consent per phone within an organization: keywords change it, sends honour it (docs/design.md,
Consent). Everything runs against real PostgreSQL, in the domain layer."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from pawline import consent
from pawline.consent_models import ConsentEvent, PhoneConsent
from pawline.db import db
from pawline.errors import DomainError
from pawline.inbound import receive_sms
from pawline.models import AuditEvent, Client, Message, MessageNumber, Thread, ThreadEvent
from pawline.outbound import message_anyone, queue_message
from tests import factories

NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # 10 AM in New York, the organizations' zone
ADA = "+14155552671"
REFUSED = ("Ada opted out on 3 Dec 2026 (texted STOP). Messages can't be sent until they "
           "text START.")


def count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def jobs() -> int:
    return db.session.scalar(sa.text("SELECT count(*) FROM procrastinate_jobs"))


@pytest.fixture
def org(ctx):
    org = factories.org("Happy Paws")
    org.pool = "+14155550100"
    org.front_desk = "+14155550199"
    factories.number(org.id, org.pool)
    factories.number(org.id, org.front_desk, "front_desk")
    org.client_id = factories.client(org.id, "Ada", ADA)
    org.thread_id = receive_sms(org.pool, ADA, "Hi!", "SMhi", now=NOW - timedelta(days=1)
                                ).thread_id
    return org


def text(org, body: str, sid: str, to: str | None = None, at=NOW):
    return receive_sms(to or org.pool, ADA, body, sid, now=at)


def send(org, body="Rex had a great walk", at=NOW + timedelta(hours=1)):
    return queue_message(org.id, org.thread_id, body, None, "console", now=at)


def state(org_id: int, e164: str = ADA) -> PhoneConsent | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(PhoneConsent).where(
        PhoneConsent.org_id == org_id, PhoneConsent.e164 == e164))


def test_stop_keeps_the_message_and_opts_the_phone_out_for_the_whole_organization(org):
    result = text(org, "Stop.", "SMstop", to=org.front_desk)

    assert db.session.get(Message, result.message_id).body == "Stop."
    assert result.thread_id == org.thread_id
    now = state(org.id)
    assert (now.opted_out, now.changed_at) == (True, NOW)
    event = db.session.scalar(sa.select(ConsentEvent))
    assert (event.e164, event.opted_out, event.source, event.keyword, event.message_id) == (
        ADA, True, "keyword", "STOP", result.message_id)
    assert now.last_event_id == event.id


def test_the_change_is_a_timeline_line_and_an_audit_event_naming_the_client(org):
    text(org, "STOP", "SMstop")

    line = db.session.scalar(sa.select(ThreadEvent).where(ThreadEvent.kind == "opted_out"))
    assert line.thread_id == org.thread_id and line.created_at == NOW
    assert "texted STOP" in line.detail and "until they text START" in line.detail
    audit = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "consent.opted_out"))
    assert audit.actor_user_id is None
    assert audit.data["actor"] == "Client (415) 555-2671 (texted STOP)"
    assert (audit.data["phone"], audit.data["source"]) == (ADA, "keyword")


def test_a_send_to_an_opted_out_phone_is_refused_with_the_date_and_nothing_is_stored(org):
    text(org, "STOP", "SMstop")  # to the pool number; the front desk may not send either
    before = (count(Message), jobs())

    with pytest.raises(consent.OptedOut) as refused:
        send(org)

    assert refused.value.message == REFUSED and refused.value.field == "body"
    assert (count(Message), jobs()) == before


def test_message_anyone_to_an_opted_out_phone_is_refused_and_creates_nothing(org):
    text(org, "unsubscribe", "SMstop")
    before = (count(Message), count(Client), count(Thread), jobs())

    with pytest.raises(DomainError) as refused:
        message_anyone(org.id, "US", "(415) 555-2671", "Hello", None, "console", now=NOW)

    assert refused.value.message == REFUSED.replace("texted STOP", "texted UNSUBSCRIBE")
    assert refused.value.field == "phone"
    assert (count(Message), count(Client), count(Thread), jobs()) == before


def test_start_opts_back_in_and_sending_works_again(org):
    text(org, "STOP", "SMstop")
    text(org, "start", "SMstart", at=NOW + timedelta(minutes=5))

    assert state(org.id).opted_out is False
    assert [e.opted_out for e in db.session.scalars(
        sa.select(ConsentEvent).order_by(ConsentEvent.id))] == [True, False]
    assert send(org).created
    assert count(ThreadEvent, ThreadEvent.kind == "opted_in") == 1


def test_a_repeated_keyword_is_no_new_change(org):
    text(org, "STOP", "SMstop1")
    text(org, "QUIT", "SMstop2", at=NOW + timedelta(hours=2))

    assert count(ConsentEvent) == 1 and state(org.id).changed_at == NOW
    assert count(Message, Message.direction == "inbound") == 3  # every text kept all the same


def test_a_retried_webhook_changes_nothing(org):
    text(org, "STOP", "SMstop")
    again = text(org, "STOP", "SMstop")

    assert again.duplicate and count(ConsentEvent) == 1 and count(AuditEvent) == 1


def test_stop_by_at_five_is_an_ordinary_message(org):
    text(org, "Stop by at 5?", "SMnot")

    assert state(org.id) is None and count(ConsentEvent) == 0
    assert send(org).created


def test_the_same_phone_in_another_organization_is_not_affected(org):
    other = factories.org("Other Paws")
    factories.number(other.id, "+14155550300")
    theirs = receive_sms("+14155550300", ADA, "Hello there", "SMother", now=NOW)

    text(org, "STOP", "SMstop")

    assert state(other.id) is None
    assert queue_message(other.id, theirs.thread_id, "Hi", None, "console").created
    assert state(other.id).opted_out is False  # the send held its own organization's row


def test_a_stop_in_another_organization_does_not_stop_ours(org):
    other = factories.org("Other Paws")
    factories.number(other.id, "+14155550300")
    receive_sms("+14155550300", ADA, "STOP", "SMother", now=NOW)

    assert state(other.id).opted_out is True
    assert send(org).created


def test_a_stop_cancels_the_messages_still_waiting_for_the_worker(org):
    waiting = send(org, at=NOW - timedelta(minutes=1)).message_id

    text(org, "STOP", "SMstop")

    message = db.session.get(Message, waiting)
    db.session.refresh(message)
    assert message.status == "canceled" and "opted out" in message.error_message


def test_the_owner_writes_the_answer_to_help(org):
    assert consent.help_reply(org.id).startswith("Happy Paws: ")

    saved = consent.set_help_reply(org.id, "  Happy Paws pet sitting:\ncall 415-555-0199 ", None)

    assert saved == "Happy Paws pet sitting: call 415-555-0199"
    assert consent.set_help_reply(org.id, "", None).startswith("Happy Paws: this is our")
    with pytest.raises(DomainError):
        consent.set_help_reply(org.id, "x" * 321, None)
    assert count(AuditEvent, AuditEvent.action == "settings.help_reply") == 2


def test_the_default_answer_to_help_names_the_business_and_its_front_desk_in_service(ctx):
    lone = factories.org("Lone Paws")
    assert consent.default_help_reply(lone.id) == (
        "Lone Paws: this is our text line. Reply here and our team will answer. "
        "Reply STOP to opt out, START to opt back in.")
    desk = factories.number(lone.id, "+14155550177", "front_desk")
    assert "or text our front desk at (415) 555-0177." in consent.default_help_reply(lone.id)
    db.session.execute(sa.update(MessageNumber).where(MessageNumber.id == desk)
                       .values(status="quarantined", quarantined_at=NOW,
                               quarantine_release_at=NOW + timedelta(days=9)))
    assert "front desk" not in consent.default_help_reply(lone.id)  # not a number in service
