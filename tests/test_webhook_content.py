"""Signed Twilio webhooks never fail on content: odd bytes are replaced, sizes are bounded."""

import pytest
import sqlalchemy as sa

from pawline.db import db
from pawline.inbound import BODY_KEPT, QUARANTINE_FLAG
from pawline.models import Message, MessageNumber
from pawline.outbound import queue_message
from tests import factories
from tests.twilio_signing import post_signed, sms_params

SMS, STATUS = "/webhooks/twilio/sms", "/webhooks/twilio/status"
POOL, PHONE = "+14155550100", "+14155550123"


@pytest.fixture
def org(app):
    with app.app_context():
        org = factories.org()
        factories.number(org.id, POOL)
    return org


def stored(app) -> list[Message]:
    with app.app_context():
        return db.session.scalars(sa.select(Message).order_by(Message.id)).all()


@pytest.mark.parametrize("sent, kept", [("\x00", "\ufffd"), ("\x07", "\ufffd"),
                                        ("\x1b[0m", "\ufffd[0m"), ("\x7f\x00", "\x7f\ufffd")])
def test_a_control_character_in_the_body_is_replaced_and_the_message_kept(app, client, org,
                                                                          sent, kept):
    response = post_signed(client, SMS, sms_params(POOL, PHONE, f"Rex{sent}ok\tthanks\n"))

    assert response.status_code == 200
    [message] = stored(app)
    assert message.body == f"Rex{kept}ok\tthanks\n"


def test_a_nul_in_the_sender_is_a_400_not_a_500(app, client, org):
    response = post_signed(client, SMS, sms_params(POOL, "+1415555\x000123"))
    assert response.status_code == 400
    assert stored(app) == []


def test_a_body_of_twilios_longest_is_kept_as_sent(app, client, org):
    body = "🐾" * 1600
    assert post_signed(client, SMS, sms_params(POOL, PHONE, body)).status_code == 200
    [message] = stored(app)
    assert (message.body, message.flag) == (body, None)


def test_a_longer_signed_body_is_kept_whole_up_to_the_cap(app, client, org):
    body = "w" * BODY_KEPT
    assert post_signed(client, SMS, sms_params(POOL, PHONE, body)).status_code == 200
    assert stored(app)[0].body == body


def test_a_body_past_the_cap_is_cut_flagged_and_logged_not_refused(app, client, org, caplog):
    params = sms_params(POOL, PHONE, "x" * (BODY_KEPT + 2345))

    assert post_signed(client, SMS, params).status_code == 200

    [message] = stored(app)
    assert len(message.body) == BODY_KEPT
    assert message.flag == f"cut to {BODY_KEPT:,} of {BODY_KEPT + 2345:,} characters"
    assert params["MessageSid"] in caplog.text


def test_a_cut_message_to_a_quarantined_number_carries_both_flags(app, client, org):
    with app.app_context():
        number = db.session.scalar(sa.select(MessageNumber))
        number.status, number.quarantined_at = "quarantined", sa.func.now()
        number.quarantine_release_at = sa.func.now() + sa.text("interval '90 days'")
        db.session.commit()

    post_signed(client, SMS, sms_params(POOL, PHONE, "x" * (BODY_KEPT + 1)))

    assert stored(app)[0].flag == f"{QUARANTINE_FLAG}; cut to 10,000 of 10,001 characters"


@pytest.mark.parametrize("media", ["99999999999", "101", "-1", "1e3", "٣", "+3"])
def test_a_media_count_no_message_can_have_is_a_400_with_nothing_stored(app, client, org, media):
    response = post_signed(client, SMS, sms_params(POOL, PHONE, NumMedia=media))
    assert response.status_code == 400
    assert response.get_data(as_text=True).startswith("Malformed NumMedia.")
    assert stored(app) == []


def test_ten_media_are_stored(app, client, org):
    assert post_signed(client, SMS, sms_params(POOL, PHONE, NumMedia="10")).status_code == 200
    assert stored(app)[0].num_media == 10


def queued_sid(app, org) -> str:
    with app.app_context():
        inbound = post_signed(app.test_client(), SMS, sms_params(POOL, PHONE))
        assert inbound.status_code == 200
        thread_id = db.session.scalar(sa.select(Message.thread_id))
        queued = queue_message(org.id, thread_id, "On my way", None, "twilio")
        message = db.session.get(Message, queued.message_id)
        message.provider_sid, message.status = "SMout1", "sent"
        db.session.commit()
        return "SMout1"


def test_a_status_callback_with_control_characters_is_applied_cleaned(app, client, org):
    sid = queued_sid(app, org)
    params = {"MessageSid": sid, "MessageStatus": "failed", "ErrorCode": "30\x0003",
              "ErrorMessage": "Unreachable\x00 handset" + "!" * 5000}

    assert post_signed(client, STATUS, params).status_code == 200

    message = [m for m in stored(app) if m.direction == "outbound"][0]
    assert (message.status, message.error_code) == ("failed", "30\ufffd03")
    assert message.error_message.startswith("Unreachable\ufffd handset!")
    assert len(message.error_message) == 1000


def test_a_status_callback_for_a_sid_with_a_nul_changes_nothing(app, client, org):
    queued_sid(app, org)
    params = {"MessageSid": "SMout1\x00", "MessageStatus": "delivered"}
    assert post_signed(client, STATUS, params).status_code == 200
    assert [m.status for m in stored(app) if m.direction == "outbound"] == ["sent"]
