"""Sending: stored before the provider is called, never lost, never sent twice."""

import json
import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa
from twilio.http import HttpClient
from twilio.http.response import Response

from pawline.clock import utcnow
from pawline.db import db
from pawline.errors import DomainError
from pawline.models import Client, ClientContact, Message, Thread
from pawline.outbound import deliver, message_anyone, queue_message, retry_message
from pawline.providers import ConsoleProvider, ProviderError, Sent, TwilioProvider
from pawline.routing import NoSendingNumber
from pawline.threads import find_or_create_thread
from tests import factories


class Outage:
    name = "twilio"
    calls = 0

    def send(self, **message):
        self.calls += 1
        raise ProviderError("Service unavailable", "503")


class Counting:
    name = "twilio"

    def __init__(self):
        self.sent = []

    def send(self, **message):
        self.sent.append(message)
        return Sent(sid=f"SM{len(self.sent):032d}", status="queued")


@pytest.fixture
def org(ctx):
    org = factories.org()
    factories.number(org.id, "+14155550101", "pool")
    return org


@pytest.fixture
def thread_id(org):
    client_id = factories.client(org.id, "Ada", "+14155552671")
    thread_id = find_or_create_thread(org.id, client_id)
    db.session.commit()
    return thread_id


def test_a_message_is_stored_with_its_route_before_the_provider_is_called(org, thread_id):
    queued = queue_message(org.id, thread_id, " Hello! ", None, "twilio")
    message = db.session.get(Message, queued.message_id)
    assert (message.status, message.body, message.provider_sid) == ("queued", "Hello!", None)
    assert (message.from_e164, message.to_e164) == ("+14155550101", "+14155552671")
    assert message.routing_trace["rule"] == 3
    thread = db.session.get(Thread, thread_id)
    assert thread.last_message_preview == "Hello!" and thread.last_message_direction == "outbound"


def test_a_provider_outage_leaves_the_message_failed_with_its_error_and_retry_sends_it(
        org, thread_id):
    queued = queue_message(org.id, thread_id, "Hello", None, "twilio")
    assert deliver(queued.message_id, Outage()) == "failed"
    message = db.session.get(Message, queued.message_id)
    assert (message.error_code, message.error_message) == ("503", "Service unavailable")
    provider = Counting()
    assert retry_message(org.id, queued.message_id, provider) == "queued"
    assert len(provider.sent) == 1
    db.session.refresh(message)
    assert message.provider_sid == "SM" + "1".zfill(32) and message.error_message is None


def test_a_sent_message_is_never_sent_again(org, thread_id):
    queued = queue_message(org.id, thread_id, "Hello", None, "twilio")
    provider = Counting()
    deliver(queued.message_id, provider)
    deliver(queued.message_id, provider)
    with pytest.raises(DomainError):
        retry_message(org.id, queued.message_id, provider)
    assert len(provider.sent) == 1


def test_a_retried_form_with_the_same_token_stores_and_sends_once(org, thread_id):
    first = queue_message(org.id, thread_id, "Hello", None, "twilio", client_token="tok-1")
    again = queue_message(org.id, thread_id, "Hello", None, "twilio", client_token="tok-1")
    assert (first.created, again.created) == (True, False)
    assert first.message_id == again.message_id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1


def test_no_sending_number_stores_nothing(ctx):
    org = factories.org()
    client_id = factories.client(org.id, "Ada", "+14155552671")
    thread_id = find_or_create_thread(org.id, client_id)
    with pytest.raises(NoSendingNumber):
        queue_message(org.id, thread_id, "Hello", None, "twilio")
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0


def test_an_empty_or_too_long_message_is_refused(org, thread_id):
    for body in ("   ", "x" * 1601):
        with pytest.raises(DomainError) as refused:
            queue_message(org.id, thread_id, body, None, "twilio")
        assert refused.value.field == "body"


def test_a_client_without_a_phone_cannot_be_texted(org):
    thread_id = find_or_create_thread(org.id, factories.client(org.id, "No Phone"))
    with pytest.raises(DomainError, match="no phone number"):
        queue_message(org.id, thread_id, "Hello", None, "twilio")


def _wrote_from(org_id: int, thread_id: int, e164: str, sid: str) -> None:
    db.session.add(Message(org_id=org_id, thread_id=thread_id, direction="inbound", body="hi",
                           from_e164=e164, to_e164="+14155550101", status="received",
                           provider="twilio", provider_sid=sid))


def test_a_reply_goes_to_the_phone_the_client_last_wrote_from(org, thread_id):
    client_id = db.session.get(Thread, thread_id).client_id
    db.session.add(ClientContact(org_id=org.id, client_id=client_id, e164="+14155559999"))
    _wrote_from(org.id, thread_id, "+14155552671", "SMin1")
    _wrote_from(org.id, thread_id, "+14155559999", "SMin2")
    db.session.commit()
    queued = queue_message(org.id, thread_id, "Hello", None, "twilio")
    assert db.session.get(Message, queued.message_id).to_e164 == "+14155559999"


def test_a_reply_goes_to_the_first_phone_when_the_last_one_written_from_is_no_longer_theirs(
        org, thread_id):
    client_id = db.session.get(Thread, thread_id).client_id
    db.session.add(ClientContact(org_id=org.id, client_id=client_id, e164="+14155559999"))
    _wrote_from(org.id, thread_id, "+14155558888", "SMin1")  # a phone since removed
    db.session.commit()
    queued = queue_message(org.id, thread_id, "Hello", None, "twilio")
    assert db.session.get(Message, queued.message_id).to_e164 == "+14155552671"


def test_message_anyone_finds_or_creates_the_client_and_thread(org):
    first = message_anyone(org.id, "US", "(415) 555-0123", "Hi!", None, "console")
    again = message_anyone(org.id, "US", "+1 415 555 0123", "Again", None, "console")
    assert first.thread_id == again.thread_id
    assert db.session.scalar(sa.select(Client.name)) == "Guest (+14155550123)"


def test_message_anyone_refuses_an_invalid_number(org):
    with pytest.raises(DomainError) as refused:
        message_anyone(org.id, "US", "12345", "Hi!", None, "console")
    assert refused.value.field == "phone"


def test_a_queued_message_never_handed_over_can_be_retried_after_a_while(org, thread_id):
    queued = queue_message(org.id, thread_id, "Hello", None, "twilio")
    provider = Counting()
    with pytest.raises(DomainError):
        retry_message(org.id, queued.message_id, provider)
    later = utcnow() + timedelta(minutes=5)
    retry_message(org.id, queued.message_id, provider, now=later)
    assert len(provider.sent) == 1


class FakeTwilioHttp(HttpClient):
    """Twilio's SDK builds and parses real requests; this stands in for the network only."""

    def __init__(self, status=201, payload=None):
        super().__init__(logging.getLogger("twilio.test"), False)
        self.requests = []
        self.status = status
        self.payload = payload

    def request(self, method, url, params=None, data=None, headers=None, auth=None,
                timeout=None, allow_redirects=False):
        self.requests.append({"method": method, "url": url, "data": data})
        body = self.payload or {"sid": "SM" + "a" * 32, "status": "queued"}
        return Response(self.status, json.dumps(body))


def test_the_twilio_provider_sends_through_the_sdk_with_a_status_callback():
    from twilio.rest import Client as TwilioClient

    http = FakeTwilioHttp()
    provider = TwilioProvider("AC" + "1" * 32, "token",
                              client=TwilioClient("AC" + "1" * 32, "token", http_client=http))
    sent = provider.send(from_e164="+14155550101", to_e164="+14155552671", body="Hello",
                         status_callback="https://paw.example.com/webhooks/twilio/status")
    assert sent == Sent("SM" + "a" * 32, "queued")
    request = http.requests[0]
    assert request["url"].endswith("/Messages.json") and request["method"] == "POST"
    assert request["data"]["To"] == "+14155552671"
    assert request["data"]["StatusCallback"].endswith("/webhooks/twilio/status")


def test_a_twilio_refusal_becomes_a_provider_error_with_its_code():
    from twilio.rest import Client as TwilioClient

    http = FakeTwilioHttp(400, {"code": 21211, "message": "Invalid 'To' Phone Number",
                                "status": 400})
    provider = TwilioProvider("AC" + "1" * 32, "token",
                              client=TwilioClient("AC" + "1" * 32, "token", http_client=http))
    with pytest.raises(ProviderError) as refused:
        provider.send(from_e164="+14155550101", to_e164="+1415", body="x", status_callback=None)
    assert refused.value.code == "21211"


def test_the_console_provider_reports_sent():
    assert ConsoleProvider().send(from_e164="+1", to_e164="+2", body="x").status == "sent"
