"""Webhooks get a generous per-sender limit (issue 15 item 4): past it, 429 with Retry-After,
nothing stored, a warning logged; other senders and staff pages carry on."""

import hashlib
import hmac
import json
import logging
import time

import pytest
import sqlalchemy as sa

from pawline.config import ConfigError, from_environment
from pawline.db import db
from pawline.models import Message
from tests import factories
from tests.concurrency import race_ok
from tests.conftest import Auth, make_app
from tests.twilio_signing import post_signed, sms_params

SMS, STATUS, BOOKINGS = "/webhooks/twilio/sms", "/webhooks/twilio/status", "/webhooks/bookings"
POOL = "+14155550100"
LIMIT = 3


@pytest.fixture
def org(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_REQUESTS_PER_MINUTE", LIMIT)
    with app.app_context():
        org = factories.org()
        factories.number(org.id, POOL)
    return org


def stored(app, sender: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
            Message.from_e164 == sender))


def test_a_sender_past_the_limit_gets_429_and_nothing_is_stored(app, client, org, caplog):
    flood, other = factories.phone(), factories.phone()

    statuses = [post_signed(client, SMS, sms_params(POOL, flood)).status_code
                for _ in range(LIMIT)]
    with caplog.at_level(logging.WARNING, logger="pawline.webhooks"):
        refused = post_signed(client, SMS, sms_params(POOL, flood))

    assert statuses == [200] * LIMIT
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert stored(app, flood) == LIMIT
    [warning] = [r.getMessage() for r in caplog.records if r.name == "pawline.webhooks"]
    assert "429" in warning and flood in warning and "twilio sms" in warning
    assert post_signed(client, SMS, sms_params(POOL, other)).status_code == 200


def test_the_count_commits_with_the_message_and_a_stored_nothing_counts_nothing(app, client,
                                                                               org):
    """Twilio's webhooks count in the message's own transaction (with_the_view): a retried
    delivery that stores nothing spends none of the sender's allowance, and a dead letter
    (kept, so committed) spends one."""
    sender = factories.phone()
    first = sms_params(POOL, sender)
    assert post_signed(client, SMS, first).status_code == 200
    assert [post_signed(client, SMS, first).status_code for _ in range(LIMIT + 2)] == [200] * (
        LIMIT + 2)  # retries of one MessageSid: answered, nothing stored, nothing counted
    assert post_signed(client, SMS, {**sms_params(POOL, sender), "NumMedia": "x"}
                       ).status_code == 400  # a dead letter: counted
    assert post_signed(client, SMS, sms_params(POOL, sender)).status_code == 200
    assert post_signed(client, SMS, sms_params(POOL, sender)).status_code == 429
    assert stored(app, sender) == 2


def test_unsigned_requests_cannot_spend_a_clients_allowance(app, client, org):
    victim = factories.phone()
    for _ in range(2 * LIMIT):
        forged = client.post(SMS, data=sms_params(POOL, victim),
                             headers={"X-Twilio-Signature": "forged"})
        assert forged.status_code == 403

    assert post_signed(client, SMS, sms_params(POOL, victim)).status_code == 200


def test_status_callbacks_count_per_client_they_are_about(client, org):
    def status(to: str):
        return post_signed(client, STATUS, {"MessageSid": "SM" + "a" * 32, "To": to,
                                            "From": POOL, "MessageStatus": "delivered"})

    busy = factories.phone()
    assert [status(busy).status_code for _ in range(LIMIT + 1)] == [200] * LIMIT + [429]
    assert status(factories.phone()).status_code == 200


def test_the_booking_webhook_counts_per_client_address(client, org):
    body = json.dumps({"org": org.slug}).encode()
    signature = hmac.new(b"wrong secret", body, hashlib.sha256).hexdigest()

    def post(address: str):
        return client.post(f"{BOOKINGS}/{org.slug}", data=body, content_type="application/json",
                           headers={"X-Signature": signature,
                                    "X-Pawline-Timestamp": str(int(time.time()))},
                           environ_base={"REMOTE_ADDR": address})

    assert [post("192.0.2.1").status_code for _ in range(LIMIT + 1)] == [403] * LIMIT + [429]
    assert post("192.0.2.2").status_code == 403  # refused on its merits, not by the limit


def test_the_limit_is_a_setting(tmp_path):
    assert from_environment(tmp_path, env={})["WEBHOOK_REQUESTS_PER_MINUTE"] == 120
    with pytest.raises(ConfigError, match="WEBHOOK_REQUESTS_PER_MINUTE"):
        from_environment(tmp_path, env={"WEBHOOK_REQUESTS_PER_MINUTE": "lots"})


@pytest.mark.concurrency
def test_a_racing_flood_is_cut_at_the_limit_while_others_and_staff_pages_carry_on(
        database_url):
    limit = 10
    app = make_app(database_url, WEBHOOK_REQUESTS_PER_MINUTE=limit, SQLALCHEMY_ENGINE_OPTIONS={
        "pool_size": 10, "max_overflow": 10, "pool_timeout": 90})
    try:
        with app.app_context():
            org = factories.org()
            factories.number(org.id, POOL)
        staff = app.test_client()
        Auth(staff).sign_in(org.staff_email)
        flood, calm = factories.phone(), factories.phone()

        def sms(sender: str):
            return lambda: post_signed(app.test_client(), SMS,
                                       sms_params(POOL, sender)).status_code

        results = race_ok(None, [sms(flood)] * (3 * limit) + [sms(calm)] * 3
                          + [lambda: staff.get("/inbox").status_code])

        assert sorted(results[:3 * limit]) == [200] * limit + [429] * (2 * limit)
        assert results[3 * limit:] == [200, 200, 200, 200]
        assert stored(app, flood) == limit and stored(app, calm) == 3
    finally:
        with app.app_context():
            db.engine.dispose()
