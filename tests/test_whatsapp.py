"""WhatsApp through Twilio: the same webhook, `whatsapp:` addresses, the phone's one client."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from bench.fake_twilio import FakeTwilio
from pawline import delivery
from pawline.consent import OptedOut
from pawline.consent_models import PhoneConsent
from pawline.db import db
from pawline.errors import DomainError
from pawline.inbound import apply_status_callback, receive_sms
from pawline.models import Client, ClientContact, Message, Thread
from pawline.outbound import queue_message
from pawline.providers import TwilioProvider
from tests import factories
from tests.twilio_signing import message_sid, post_signed, sms_params

POOL = "+14155550100"
PHONE = "+14155552671"
SID, TOKEN = "AC" + "4" * 32, "fake-auth-token"


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def org(ctx):
    org = factories.org()
    factories.number(org.id, POOL)
    return org


def whatsapp(body="Hi on WhatsApp", sid=None, now=None):
    return receive_sms(f"whatsapp:{POOL}", f"whatsapp:{PHONE}", body, sid or message_sid(),
                       now=now or datetime.now(UTC))


def test_a_whatsapp_message_joins_the_thread_of_the_clients_sms_phone(org):
    sms = receive_sms(POOL, PHONE, "by text", "SMtext1")
    got = whatsapp()

    assert (got.client_id, got.thread_id) == (sms.client_id, sms.thread_id)
    message = db.session.get(Message, got.message_id)
    assert (message.channel, message.from_e164, message.to_e164) == ("whatsapp", PHONE, POOL)
    assert message.number_id is not None
    assert (count(Client), count(ClientContact), count(Thread)) == (1, 1, 1)


def test_a_repeated_message_sid_on_whatsapp_changes_nothing(org):
    first = whatsapp(sid="SMwa0000000001")
    again = whatsapp(sid="SMwa0000000001")
    assert again.duplicate and count(Message) == 1 and first.message_id


def test_the_webhook_takes_whatsapp_addresses(app, client):
    with app.app_context():
        org = factories.org()
        factories.number(org.id, POOL)

    form = sms_params(f"whatsapp:{POOL}", f"whatsapp:{PHONE}", "Hello from WhatsApp")
    assert post_signed(client, "/webhooks/twilio/sms", form).status_code == 200
    assert post_signed(client, "/webhooks/twilio/sms", form).status_code == 200

    with app.app_context():
        message = db.session.scalar(sa.select(Message))
        assert (message.channel, message.from_e164) == ("whatsapp", PHONE)
        assert db.session.scalar(sa.select(ClientContact.e164)) == PHONE
        assert count(Message) == 1


def test_a_reply_goes_out_on_whatsapp_through_twilio_with_whatsapp_addresses(org):
    got = whatsapp()
    queued = queue_message(org.id, got.thread_id, "Rex is fine!", None, "twilio")
    message = db.session.get(Message, queued.message_id)
    assert (message.channel, message.from_e164, message.to_e164, message.provider) == (
        "whatsapp", POOL, PHONE, "twilio")
    assert message.routing_trace["rule_name"] == "WhatsApp"

    with FakeTwilio(SID, TOKEN) as fake:
        twilio = TwilioProvider(SID, TOKEN, api_base_url=fake.base_url, read_timeout=5)
        assert delivery.attempt(queued.message_id, twilio) == "queued"
        [sent] = fake.messages

    assert (sent.from_, sent.to, sent.body) == (f"whatsapp:{POOL}", f"whatsapp:{PHONE}",
                                               "Rex is fine!")
    assert apply_status_callback(sent.sid, "delivered")
    assert db.session.get(Message, queued.message_id).status == "delivered"


def test_staff_can_still_pick_sms_for_a_client_writing_on_whatsapp(org):
    got = whatsapp()
    queued = queue_message(org.id, got.thread_id, "By text", None, "twilio", channel="sms")
    message = db.session.get(Message, queued.message_id)
    assert (message.channel, message.from_e164, message.to_e164) == ("sms", POOL, PHONE)


def test_a_whatsapp_reply_after_24_hours_is_refused_suggesting_sms(org):
    got = whatsapp(now=datetime.now(UTC) - timedelta(hours=24, minutes=1))

    with pytest.raises(DomainError) as caught:
        queue_message(org.id, got.thread_id, "Late", None, "twilio")

    assert caught.value.message == ("WhatsApp replies are only allowed within 24 hours of the "
                                    "client's last message; send an SMS instead.")
    assert count(Message) == 1


def test_stop_on_whatsapp_ends_whatsapp_replies_but_leaves_sms_consent_alone(org):
    got = whatsapp("STOP")

    assert count(PhoneConsent) == 0 or not db.session.scalar(sa.select(PhoneConsent.opted_out))
    with pytest.raises(DomainError) as caught:
        queue_message(org.id, got.thread_id, "Sorry to see you go", None, "twilio")
    assert "wrote STOP on WhatsApp" in caught.value.message
    queue_message(org.id, got.thread_id, "By text still", None, "twilio", channel="sms")

    whatsapp("Actually, one more question")
    queue_message(org.id, got.thread_id, "Sure!", None, "twilio")


def test_help_on_whatsapp_is_not_answered_by_sms(org):
    whatsapp("HELP")
    assert count(Message) == 1


def test_an_sms_opt_out_does_not_stop_a_reply_to_their_whatsapp_message(org):
    receive_sms(POOL, PHONE, "STOP", "SMstop1")
    got = whatsapp("Can you walk Rex today?")

    queued = queue_message(org.id, got.thread_id, "Yes!", None, "twilio")
    with FakeTwilio(SID, TOKEN) as fake:
        twilio = TwilioProvider(SID, TOKEN, api_base_url=fake.base_url, read_timeout=5)
        assert delivery.attempt(queued.message_id, twilio) == "queued"
    with pytest.raises(OptedOut):
        queue_message(org.id, got.thread_id, "By text", None, "twilio", channel="sms")


def test_an_sms_stop_cancels_waiting_texts_but_not_a_waiting_whatsapp_reply(org):
    got = whatsapp("Walk at 3?")
    on_whatsapp = queue_message(org.id, got.thread_id, "Yes", None, "twilio")
    by_text = queue_message(org.id, got.thread_id, "Yes (text)", None, "twilio", channel="sms")

    receive_sms(POOL, PHONE, "STOP", message_sid())

    assert db.session.get(Message, by_text.message_id).status == "canceled"
    assert db.session.get(Message, on_whatsapp.message_id).status == "queued"
