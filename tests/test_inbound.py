"""Inbound SMS in the domain layer: one transaction per message, a retry changes nothing (I6)."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from pawline.db import db
from pawline.errors import InvalidPhone
from pawline.inbound import UnknownNumber, receive_sms
from pawline.models import Client, ClientContact, Message, Thread, ThreadEvent
from tests import factories

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def org(ctx):
    org = factories.org()
    org.pool = "+14155550100"
    org.number_id = factories.number(org.id, org.pool)
    return org


def test_a_new_phone_becomes_a_guest_with_a_contact_a_thread_and_the_message(org):
    result = receive_sms(org.pool, "+14155550123", "Hi, is Rex ok?", "SM1", now=NOW)

    assert not result.duplicate and not result.flagged and result.org_id == org.id
    client = db.session.get(Client, result.client_id)
    assert (client.name, client.is_guest) == ("Guest (+14155550123)", True)
    contact = db.session.scalar(sa.select(ClientContact))
    assert (contact.client_id, contact.e164) == (client.id, "+14155550123")
    thread = db.session.get(Thread, result.thread_id)
    assert thread.client_id == client.id
    message = db.session.get(Message, result.message_id)
    assert (message.direction, message.status, message.body) == ("inbound", "received",
                                                                 "Hi, is Rex ok?")
    assert (message.from_e164, message.to_e164, message.number_id) == (
        "+14155550123", org.pool, org.number_id)
    assert (message.provider, message.provider_sid, message.flag) == ("twilio", "SM1", None)


def test_a_known_phone_lands_in_its_clients_existing_thread(org):
    client_id = factories.client(org.id, "Ada Lovelace", phone="+14155550123")
    first = receive_sms(org.pool, "+14155550123", "one", "SM1", now=NOW)
    second = receive_sms(org.pool, "+14155550123", "two", "SM2", now=NOW)

    assert first.client_id == second.client_id == client_id
    assert first.thread_id == second.thread_id
    assert (count(Client), count(Thread), count(Message)) == (1, 1, 2)


def test_a_national_format_from_is_read_in_the_organizations_region(org):
    result = receive_sms(org.pool, "(415) 555-0123", "hello", "SM1", now=NOW)
    assert db.session.get(Message, result.message_id).from_e164 == "+14155550123"


def test_the_organizations_default_region_decides_a_national_from(ctx):
    org = factories.org()
    db.session.execute(sa.text("UPDATE organization SET default_region = 'GB' WHERE id = :id"),
                       {"id": org.id})
    factories.number(org.id, "+447700900100")
    result = receive_sms("+447700900100", "07911 123456", "hello", "SM1", now=NOW)
    assert db.session.get(Message, result.message_id).from_e164 == "+447911123456"


def test_a_retried_message_sid_changes_nothing(org):
    first = receive_sms(org.pool, "+14155550123", "hello", "SM1", now=NOW)
    again = receive_sms(org.pool, "+14155550123", "hello", "SM1", now=NOW + timedelta(minutes=1))

    assert again.duplicate and again.message_id is None
    assert (again.thread_id, again.client_id) == (first.thread_id, first.client_id)
    assert count(Message) == 1
    thread = db.session.get(Thread, first.thread_id)
    assert (thread.unread_count, thread.last_message_at) == (1, NOW)


@pytest.mark.parametrize("status, snoozed_until", [
    ("closed", None), ("snoozed", NOW + timedelta(days=1)),
])
def test_an_inbound_message_reopens_a_closed_or_snoozed_thread(org, status, snoozed_until):
    first = receive_sms(org.pool, "+14155550123", "one", "SM1", now=NOW)
    db.session.execute(sa.update(Thread).where(Thread.id == first.thread_id)
                       .values(status=status, snoozed_until=snoozed_until))
    db.session.commit()

    receive_sms(org.pool, "+14155550123", "two", "SM2", now=NOW + timedelta(hours=1))

    thread = db.session.get(Thread, first.thread_id)
    db.session.refresh(thread)
    assert (thread.status, thread.snoozed_until) == ("open", None)
    events = db.session.scalars(sa.select(ThreadEvent)).all()
    assert [(e.kind, e.detail) for e in events] == [("reopened", "Reopened by an inbound message")]


def test_an_open_thread_gets_no_reopened_event(org):
    receive_sms(org.pool, "+14155550123", "one", "SM1", now=NOW)
    receive_sms(org.pool, "+14155550123", "two", "SM2", now=NOW)
    assert count(ThreadEvent) == 0


def test_a_message_to_a_quarantined_number_is_stored_and_flagged(ctx):
    org = factories.org()
    factories.number(org.id, "+14155550199", status="quarantined",
                     quarantined_at=NOW, quarantine_release_at=NOW + timedelta(days=90))
    result = receive_sms("+14155550199", "+14155550123", "still there?", "SM1", now=NOW)

    assert result.flagged
    assert db.session.get(Message, result.message_id).flag == "sent to a quarantined number"


def test_a_message_bumps_unread_count_last_message_at_and_preview(org):
    long_body = "x" * 300
    receive_sms(org.pool, "+14155550123", "first", "SM1", now=NOW)
    result = receive_sms(org.pool, "+14155550123", long_body, "SM2", now=NOW + timedelta(hours=1))

    thread = db.session.get(Thread, result.thread_id)
    db.session.refresh(thread)
    assert thread.unread_count == 2
    assert thread.last_message_at == thread.last_activity_at == NOW + timedelta(hours=1)
    assert thread.last_message_preview == "x" * 160
    assert thread.last_message_direction == "inbound"


def test_a_late_delivered_older_message_moves_neither_the_time_nor_the_preview_back(org):
    receive_sms(org.pool, "+14155550123", "newer", "SM2", now=NOW)
    result = receive_sms(org.pool, "+14155550123", "older", "SM1", now=NOW - timedelta(hours=1))
    thread = db.session.get(Thread, result.thread_id)
    db.session.refresh(thread)
    assert thread.last_message_at == NOW
    assert thread.last_message_preview == "newer"
    assert thread.unread_count == 2  # it still arrived unread


def test_a_to_outside_every_pool_is_refused_by_name(org):
    with pytest.raises(UnknownNumber):
        receive_sms("+14155550999", "+14155550123", "hello", "SM1", now=NOW)
    assert count(Message) == 0


def test_a_malformed_from_is_refused_as_an_invalid_phone(org):
    with pytest.raises(InvalidPhone) as raised:
        receive_sms(org.pool, "not a phone", "hello", "SM1", now=NOW)
    assert raised.value.field == "from"
    assert count(Message) == 0


def test_the_same_phone_texting_two_organizations_makes_two_clients(ctx):
    a, b = factories.org(), factories.org()
    factories.number(a.id, "+14155550101")
    factories.number(b.id, "+14155550102")
    in_a = receive_sms("+14155550101", "+14155550123", "hi a", "SM1", now=NOW)
    in_b = receive_sms("+14155550102", "+14155550123", "hi b", "SM2", now=NOW)
    assert (in_a.org_id, in_b.org_id) == (a.id, b.id)
    assert in_a.client_id != in_b.client_id
