"""I9 and I10 in the database, for whoever connects, the tables' owner included: the audit trail
refuses TRUNCATE too, and a message keeps its words, direction and phones and is never removed,
while its delivery state and (in a merge) its thread still change as the app needs."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from pawline import audit, clients
from pawline.clock import utcnow
from pawline.db import constraint_name, db
from pawline.inbound import apply_status_callback, receive_sms
from pawline.models import AuditEvent, Message, Thread
from pawline.threads import find_or_create_client_by_phone
from tests import factories

BUSINESS, PHONE = "+14155550101", "+14155552671"


@pytest.fixture
def world(ctx):
    org = factories.org()
    factories.number(org.id, BUSINESS, "pool")
    receive_sms(BUSINESS, PHONE, "Is Rex okay?", "SMappend1")
    org.message_id, org.thread_id = db.session.execute(
        sa.select(Message.id, Message.thread_id).where(Message.org_id == org.id)).one()
    return org


def refused(statement) -> str | None:
    """Run a statement that must be refused by a trigger; answers the name it gave."""
    with pytest.raises(IntegrityError) as caught, db.session.begin_nested():
        db.session.execute(sa.text(statement) if isinstance(statement, str) else statement)
    assert caught.value.orig.sqlstate == "23001"  # restrict_violation
    return constraint_name(caught.value)


def accepted(statement) -> None:
    with db.session.begin_nested():
        db.session.execute(statement)


def body_of(message_id: int) -> str:
    return db.session.scalar(sa.select(Message.body).where(Message.id == message_id)
                             .execution_options(populate_existing=True))


def test_i9_the_audit_trail_refuses_truncate(world):
    audit.record(world.id, None, "test.kept", "test", None, {})

    with pytest.raises(IntegrityError, match="append-only: TRUNCATE refused"), (
            db.session.begin_nested()):
        db.session.execute(sa.text("TRUNCATE audit_event"))

    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) > 0


@pytest.mark.parametrize("column, value", [
    ("body", "'I never said that'"), ("direction", "'outbound'"), ("from_e164", "'+14155550199'"),
    ("to_e164", "'+14155550198'"), ("created_at", "now() - interval '1 day'"),
    ("provider", "'console'"), ("num_media", "3"), ("flag", "'edited'"),
    ("provider_sid", "'SMforged'"),
])
def test_i10_a_messages_words_and_origin_cannot_be_rewritten(world, column, value):
    name = refused(f"UPDATE message SET {column} = {value} WHERE id = {world.message_id}")

    assert name == "message_never_rewritten"
    assert body_of(world.message_id) == "Is Rex okay?"


@pytest.mark.parametrize("statement", [
    "DELETE FROM message", "TRUNCATE message CASCADE", "TRUNCATE thread CASCADE",
])
def test_i10_no_message_is_removed(world, statement):
    assert refused(statement) in ("message_never_rewritten", "message_never_truncated")
    assert body_of(world.message_id) == "Is Rex okay?"


def test_i10_the_delivery_state_still_changes(world):
    sent = Message(org_id=world.id, thread_id=world.thread_id, direction="outbound",
                   body="Rex is fine", from_e164=BUSINESS, to_e164=PHONE, status="queued",
                   provider="twilio", routing_trace={})
    db.session.add(sent)
    db.session.flush()

    accepted(sa.update(Message).where(Message.id == sent.id).values(
        status="sending", attempts=Message.attempts + 1, status_updated_at=utcnow(),
        next_attempt_at=None, queued_at=utcnow() - timedelta(minutes=1)))
    accepted(sa.update(Message).where(Message.id == sent.id).values(
        status="sent", provider_sid="SMdelivered1", error_code=None, error_message=None))
    assert apply_status_callback("SMdelivered1", "undelivered", "30003", "Unreachable")

    row = db.session.get(Message, sent.id, populate_existing=True)
    assert (row.status, row.provider_sid, row.error_code, row.body) == (
        "undelivered", "SMdelivered1", "30003", "Rex is fine")


def test_i10_a_merge_moves_messages_to_the_survivors_thread(world):
    guest_id, _ = find_or_create_client_by_phone(world.id, PHONE)
    survivor = factories.client(world.id, "Ada Lovelace", factories.phone())
    receive_sms(BUSINESS, db.session.scalar(sa.text(
        "SELECT e164 FROM client_contact WHERE client_id = :c"), {"c": survivor}), "Hi", "SMs1")

    clients.merge_client(world.id, guest_id, survivor, None)

    survivor_thread = db.session.scalar(sa.select(Thread.id).where(Thread.client_id == survivor))
    assert db.session.scalar(sa.select(Message.thread_id).where(
        Message.id == world.message_id)) == survivor_thread
    assert body_of(world.message_id) == "Is Rex okay?"
