"""Replies on the client's channel: where they go, the channel rules before storing, and the
sender each channel's delivery goes through."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from pawline import channel_accounts, channels, delivery
from pawline.db import db
from pawline.errors import DomainError
from pawline.inbound import receive_sms
from pawline.models import ClientContact, Message
from pawline.outbound import queue_message
from pawline.providers import ConsoleProvider, ProviderError, Sent
from tests import factories

POOL = "+14155550101"
BOT = "777000111"


@pytest.fixture
def org(ctx):
    org = factories.org()
    factories.number(org.id, POOL, "pool")
    return org


def telegram(org_id, chat="5550001", body="hi", update=1, now=None):
    return channels.receive(org_id, "telegram", chat, body, provider="telegram",
                            provider_sid=f"{BOT}:{update}", to_address=BOT,
                            now=now or datetime.now(UTC))


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# --- replies on the client's channel --------------------------------------------------------

class Recorder:
    """A sender as a channel module registers one: it answers like a provider."""

    sent: list = []

    def __init__(self, config, account):
        self.account = account

    def send(self, *, from_e164, to_e164, body, status_callback=None, media_urls=()):
        Recorder.sent.append((self.account.secret, from_e164, to_e164, body))
        return Sent(sid=f"rec-{len(Recorder.sent)}", status="sent")


@pytest.fixture
def recorder():
    Recorder.sent = []
    channels.register_sender("telegram", Recorder)
    yield Recorder
    channels._factories.pop("telegram", None)


def test_a_reply_goes_on_the_channel_the_client_last_wrote_on(org, recorder):
    channel_accounts.save(org.id, "telegram", BOT, "Paws bot", secret="123:ABC")
    got = telegram(org.id, now=datetime.now(UTC))

    queued = queue_message(org.id, got.thread_id, "Hello there", None, "console")

    message = db.session.get(Message, queued.message_id)
    assert (message.channel, message.from_e164, message.to_e164, message.number_id,
            message.provider) == ("telegram", BOT, "5550001", None, "telegram")
    assert message.routing_trace["reason"].startswith("Telegram: from the organization's bot")
    assert delivery.attempt(queued.message_id, ConsoleProvider()) == "sent"
    assert recorder.sent == [("123:ABC", BOT, "5550001", "Hello there")]


def test_a_channel_with_no_account_is_refused_before_storing(org, recorder):
    got = telegram(org.id)
    with pytest.raises(DomainError) as caught:
        queue_message(org.id, got.thread_id, "Hello", None, "console")
    assert "Settings" in caught.value.message
    assert count(Message) == 1


def test_staff_can_pick_sms_for_a_client_who_wrote_on_telegram_and_has_a_phone(org):
    got = telegram(org.id)
    db.session.add(ClientContact(org_id=org.id, client_id=got.client_id, e164="+14155552671"))
    db.session.commit()

    queued = queue_message(org.id, got.thread_id, "By text", None, "console", channel="sms")

    message = db.session.get(Message, queued.message_id)
    assert (message.channel, message.from_e164, message.to_e164) == (
        "sms", POOL, "+14155552671")


def test_a_message_on_a_channel_without_a_registered_sender_fails_for_good(org):
    channel_accounts.save(org.id, "messenger", "1234", "Page", secret="tok")
    got = channels.receive(org.id, "messenger", "99", "hi", provider="meta",
                           provider_sid="m_1", to_address="1234", now=datetime.now(UTC))
    queued = queue_message(org.id, got.thread_id, "Hello", None, "console")

    assert delivery.attempt(queued.message_id, ConsoleProvider()) == "failed"


def test_whatsapp_and_meta_replies_are_refused_after_24_hours_with_an_sms_hint(org):
    now = datetime.now(UTC)
    channel_accounts.save(org.id, "messenger", "1234", "Page", secret="tok")
    got = channels.receive(org.id, "messenger", "99", "hi", provider="meta",
                           provider_sid="m_1", to_address="1234", now=now - timedelta(hours=25))
    with pytest.raises(DomainError) as caught:
        queue_message(org.id, got.thread_id, "Late", None, "console")
    assert caught.value.message == ("Messenger replies are only allowed within 24 hours of the "
                                    "client's last message.")

    db.session.add(ClientContact(org_id=org.id, client_id=got.client_id, e164="+14155552671"))
    db.session.commit()
    with pytest.raises(DomainError) as caught:
        queue_message(org.id, got.thread_id, "Late", None, "console", channel="messenger")
    assert caught.value.message.endswith("; send an SMS instead.")
    assert count(Message) == 1


class Provider:
    """An SMS provider that keeps what it was given (the WhatsApp sender wraps it)."""

    name = "twilio"

    def __init__(self):
        self.sent = []

    def send(self, *, from_e164, to_e164, body, status_callback=None, media_urls=()):
        self.sent.append((from_e164, to_e164))
        return Sent(sid="SM1", status="queued")


def test_a_whatsapp_reply_goes_from_the_number_they_wrote_to_with_whatsapp_addresses(org):
    phone = "+14155552671"
    got = receive_sms(POOL, phone, "hello", "SMwa1", now=datetime.now(UTC))
    db.session.add(Message(org_id=org.id, thread_id=got.thread_id, direction="inbound",
                           body="on whatsapp", from_e164=phone, to_e164=POOL,
                           number_id=None, status="received", provider="twilio",
                           provider_sid="SMwa2", channel="whatsapp",
                           created_at=datetime.now(UTC)))
    db.session.commit()
    provider = Provider()

    queued = queue_message(org.id, got.thread_id, "Hi on WhatsApp", None, "twilio")
    message = db.session.get(Message, queued.message_id)
    assert (message.channel, message.from_e164, message.to_e164, message.provider) == (
        "whatsapp", POOL, phone, "twilio")
    delivery.attempt(queued.message_id, provider)
    assert provider.sent == [(f"whatsapp:{POOL}", f"whatsapp:{phone}")]


def test_whatsapp_needs_a_message_from_the_client_there_first(org):
    got = receive_sms(POOL, "+14155552671", "hello", "SMwa1")
    with pytest.raises(DomainError):
        queue_message(org.id, got.thread_id, "Hi", None, "twilio", channel="whatsapp")


def test_a_sender_cannot_be_registered_for_a_phone_channel():
    with pytest.raises(ValueError):
        channels.register_sender("sms", Recorder)


def test_an_unknown_channel_sender_answers_a_permanent_error(org):
    with pytest.raises(ProviderError) as caught:
        channels.sender_for("instagram", org.id, ConsoleProvider())
    assert caught.value.kind == "permanent"


def test_an_automatic_message_goes_by_sms_when_the_client_has_a_phone(org, recorder):
    channel_accounts.save(org.id, "telegram", BOT, "Paws bot", secret="123:ABC")
    got = telegram(org.id, now=datetime.now(UTC))
    queued = queue_message(org.id, got.thread_id, "Booked!", None, "console",
                           auto_reply="booking_confirmation")
    assert db.session.get(Message, queued.message_id).channel == "telegram"  # no phone yet

    db.session.add(ClientContact(org_id=org.id, client_id=got.client_id, e164="+14155552671"))
    db.session.commit()
    queued = queue_message(org.id, got.thread_id, "Reminder", None, "console",
                           auto_reply="booking_reminder")
    assert db.session.get(Message, queued.message_id).channel == "sms"


def test_a_failed_messenger_message_can_be_sent_again(org):
    channel_accounts.save(org.id, "messenger", "1234", "Page", secret="tok")
    got = channels.receive(org.id, "messenger", "99", "hi", provider="meta",
                           provider_sid="m_1", to_address="1234", now=datetime.now(UTC))
    queued = queue_message(org.id, got.thread_id, "Hello", None, "console")
    assert delivery.attempt(queued.message_id, ConsoleProvider()) == "failed"  # no sender

    delivery.retry_message(org.id, got.thread_id, queued.message_id)

    assert db.session.get(Message, queued.message_id).status == "queued"


def test_the_audit_trail_says_who_set_up_a_channel_without_its_token(org):
    from pawline.audit_log import audit_page
    from pawline.sentences import audit_sentences

    channel_accounts.save(org.id, "telegram", BOT, "Paws bot", secret="123:SECRET",
                          actor_user_id=org.owner_user_id)
    [line] = audit_page(org.id, action="channel_account.saved").lines

    [sentence] = audit_sentences(org.id, [line], UTC).values()

    assert sentence == f"{line.actor_name} set up Telegram (account {BOT}) and its token."
    assert "SECRET" not in str(line.data)
