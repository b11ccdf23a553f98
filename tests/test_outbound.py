"""Sending: stored before the provider is called, never lost, never sent twice."""

import json
import logging

import pytest
import sqlalchemy as sa
from twilio.http import HttpClient
from twilio.http.response import Response

from pawline.db import db
from pawline.errors import DomainError
from pawline.models import Client, ClientContact, Message, Thread, User
from pawline.outbound import message_anyone, queue_message
from pawline.providers import ConsoleProvider, ProviderError, Sent, TwilioProvider
from pawline.routing import NoSendingNumber
from pawline.threads import find_or_create_thread
from tests import factories


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
    assert message.routing_trace["rule"] == 4
    thread = db.session.get(Thread, thread_id)
    assert thread.last_message_preview == "Hello!" and thread.last_message_direction == "outbound"


def test_a_message_names_its_author_and_the_thread_remembers_who_wrote_last(org, thread_id):
    staff_id = db.session.scalar(sa.select(User.id).where(User.email == org.staff_email))

    queued = queue_message(org.id, thread_id, "On my way", staff_id, "twilio")

    assert db.session.get(Message, queued.message_id).sent_by_user_id == staff_id
    assert db.session.get(Thread, thread_id).last_message_user_id == staff_id
    queue_message(org.id, thread_id, "Automatic reminder", None, "twilio")
    assert db.session.get(Thread, thread_id).last_message_user_id is None


def test_a_retried_form_with_the_same_token_stores_and_queues_once(org, thread_id):
    first = queue_message(org.id, thread_id, "Hello", None, "twilio", client_token="tok-1")
    again = queue_message(org.id, thread_id, "Hello", None, "twilio", client_token="tok-1")
    assert (first.created, again.created) == (True, False)
    assert first.message_id == again.message_id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1
    assert delivery_jobs() == [first.message_id]


def delivery_jobs() -> list[int]:
    return db.session.scalars(sa.text(
        "SELECT (args->>'message_id')::bigint FROM procrastinate_jobs "
        "WHERE task_name = 'deliver_message' ORDER BY id")).all()


def test_a_message_and_its_delivery_job_commit_together(org, thread_id):
    queued = queue_message(org.id, thread_id, "Hello", None, "twilio")
    assert delivery_jobs() == [queued.message_id]
    job = db.session.execute(sa.text(
        "SELECT status, lock, queue_name FROM procrastinate_jobs")).one()
    assert tuple(job) == ("todo", f"message:{queued.message_id}", "sms")


def test_a_refused_message_queues_no_job(org, thread_id):
    with pytest.raises(DomainError):
        queue_message(org.id, thread_id, "   ", None, "twilio")
    assert delivery_jobs() == []


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
