"""Delivery status callbacks move an outbound message forward only, in whatever order."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from pawline.db import db
from pawline.inbound import apply_status_callback, receive_sms
from pawline.models import Message
from pawline.threads import find_or_create_thread
from tests import factories
from tests.twilio_signing import post_signed

STATUS = "/webhooks/twilio/status"
SID = "SM" + "a" * 32
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def outbound_message(status: str = "sent", sid: str = SID) -> int:
    """An outbound message as the sender stores it; answers its id (call in an app context)."""
    org = factories.org()
    client_id = factories.client(org.id, phone=factories.phone())
    thread_id = find_or_create_thread(org.id, client_id)
    message = Message(org_id=org.id, thread_id=thread_id, direction="outbound", body="On my way",
                      from_e164="+14155550100", to_e164="+14155550123", status=status,
                      provider="twilio", provider_sid=sid, routing_trace={})
    db.session.add(message)
    db.session.commit()
    return message.id


def stored(app, message_id: int) -> Message:
    with app.app_context():
        return db.session.get(Message, message_id)


@pytest.fixture
def message_id(app):
    with app.app_context():
        return outbound_message("sent")


def post_status(client, status: str, sid: str = SID, **extra):
    return post_signed(client, STATUS, {"MessageSid": sid, "MessageStatus": status,
                                        "AccountSid": "AC" + "0" * 32, **extra})


def test_a_forward_status_is_applied(app, client, message_id):
    response = post_status(client, "delivered")
    assert response.status_code == 200
    message = stored(app, message_id)
    assert message.status == "delivered"
    assert message.status_updated_at is not None


def test_a_late_sent_after_delivered_is_ignored(app, client, message_id):
    post_status(client, "delivered")
    response = post_status(client, "sent")
    assert response.status_code == 200
    assert stored(app, message_id).status == "delivered"


def test_a_failure_stores_its_error_code_and_message(app, client, message_id):
    post_status(client, "failed", ErrorCode="30003", ErrorMessage="Unreachable destination")
    message = stored(app, message_id)
    assert (message.status, message.error_code, message.error_message) == (
        "failed", "30003", "Unreachable destination")


def test_an_unknown_sid_is_answered_200_and_changes_nothing(app, client, message_id):
    response = post_status(client, "delivered", sid="SM" + "f" * 32)
    assert response.status_code == 200
    assert stored(app, message_id).status == "sent"


def test_a_status_callback_needs_a_valid_signature(app, client, message_id):
    response = client.post(STATUS, data={"MessageSid": SID, "MessageStatus": "delivered"},
                           headers={"X-Twilio-Signature": "forged"})
    assert response.status_code == 403
    assert stored(app, message_id).status == "sent"


@pytest.mark.parametrize("start, reports, final", [
    ("queued", ["sending", "sent", "delivered"], "delivered"),
    ("queued", ["delivered", "sending", "sent"], "delivered"),
    ("sending", ["accepted", "queued"], "sending"),
    ("sent", ["undelivered", "delivered"], "undelivered"),
    ("sent", ["read"], "delivered"),
    ("delivered", ["failed"], "delivered"),
    ("sent", ["receiving", "nonsense"], "sent"),
])
def test_statuses_only_move_forward(ctx, start, reports, final):
    message_id = outbound_message(start)
    for status in reports:
        apply_status_callback(SID, status, now=NOW)
    message = db.session.get(Message, message_id)
    db.session.refresh(message)
    assert message.status == final


def test_apply_answers_whether_anything_changed(ctx):
    outbound_message("sent")
    assert apply_status_callback(SID, "delivered", now=NOW) is True
    assert apply_status_callback(SID, "delivered", now=NOW) is False
    assert apply_status_callback("SM" + "0" * 32, "delivered", now=NOW) is False


def test_a_status_never_touches_an_inbound_message_with_the_same_sid(ctx):
    org = factories.org()
    factories.number(org.id, "+14155550100")
    result = receive_sms("+14155550100", "+14155550123", "hi", SID, now=NOW)
    assert apply_status_callback(SID, "delivered", now=NOW) is False
    status = db.session.scalar(sa.select(Message.status).where(Message.id == result.message_id))
    assert status == "received"
