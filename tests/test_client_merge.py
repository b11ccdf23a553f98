"""Merging a guest into a known client: one thread (I3) with the whole history, nothing lost."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from pawline import clients
from pawline.db import db
from pawline.doctor import run_checks
from pawline.errors import DomainError, NotFound
from pawline.models import (
    AssignmentWindow,
    AuditEvent,
    Booking,
    Client,
    ClientContact,
    Message,
    Sitter,
    Thread,
    ThreadEvent,
)
from pawline.threads import add_event, find_or_create_client_by_phone, find_or_create_thread
from tests import factories
from tests.concurrency import race

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
BUSINESS = "+14155550100"
GUEST_PHONE = "+14155550177"
_sid = itertools.count(1)


def inbound(org_id: int, thread_id: int, body: str, at: datetime, sender: str) -> int:
    """An inbound message row stored as the webhook would; answers its id."""
    row = Message(org_id=org_id, thread_id=thread_id, direction="inbound", status="received",
                  provider="twilio", provider_sid=f"SM{next(_sid):032d}", body=body,
                  from_e164=sender, to_e164=BUSINESS, created_at=at)
    db.session.add(row)
    db.session.flush()
    db.session.execute(sa.update(Thread).where(Thread.id == thread_id).values(
        last_message_at=at, last_activity_at=at, last_message_preview=body,
        last_message_direction="inbound", unread_count=Thread.unread_count + 1))
    return row.id


def booking_with_window(org_id: int, client_id: int, thread_id: int) -> tuple[int, int]:
    """A booking of the client and its assignment window on `thread_id`; answers both ids."""
    sitter = Sitter(org_id=org_id, name="Sam Sitter")
    db.session.add(sitter)
    db.session.flush()
    booking = Booking(org_id=org_id, client_id=client_id, sitter_id=sitter.id,
                      starts_at=T0, ends_at=T0 + timedelta(days=2))
    db.session.add(booking)
    db.session.flush()
    window = AssignmentWindow(org_id=org_id, thread_id=thread_id, booking_id=booking.id,
                              sitter_id=sitter.id, starts_at=T0, ends_at=T0 + timedelta(days=2))
    db.session.add(window)
    db.session.flush()
    return booking.id, window.id


def count(model, **where) -> int:
    stmt = sa.select(sa.func.count()).select_from(model)
    for column, value in where.items():
        stmt = stmt.where(getattr(model, column) == value)
    return db.session.scalar(stmt)


def assert_doctor_holds():
    broken = [r.check.claim for r in run_checks(db.session.connection(), full=True) if not r.holds]
    assert broken == []


@pytest.fixture
def pair(ctx):
    """Ada (known, with a thread of two messages) and a guest (a thread of two messages)."""
    org = factories.org()
    ada = factories.client(org.id, "Ada Lovelace", "+14155550123")
    ada_thread = find_or_create_thread(org.id, ada, now=T0)
    inbound(org.id, ada_thread, "Hi, it's Ada", T0 + timedelta(minutes=1), "+14155550123")
    inbound(org.id, ada_thread, "Rex needs a walk", T0 + timedelta(minutes=5), "+14155550123")
    guest, _ = find_or_create_client_by_phone(org.id, GUEST_PHONE)
    guest_thread = find_or_create_thread(org.id, guest, now=T0)
    inbound(org.id, guest_thread, "Ada here, new phone", T0 + timedelta(minutes=3), GUEST_PHONE)
    inbound(org.id, guest_thread, "Use this one now", T0 + timedelta(minutes=9), GUEST_PHONE)
    add_event(org.id, guest_thread, "closed", "Closed by staff", now=T0 + timedelta(minutes=4))
    booking, window = booking_with_window(org.id, guest, guest_thread)
    db.session.commit()
    owner = db.session.scalar(sa.text("SELECT id FROM app_user WHERE email = :e"),
                              {"e": org.owner_email})
    return type("Pair", (), dict(org=org, ada=ada, ada_thread=ada_thread, guest=guest,
                                 guest_thread=guest_thread, booking=booking, window=window,
                                 owner=owner))


def test_merge_moves_phones_and_the_whole_history_into_the_survivors_one_thread(pair):
    clients.merge_client(pair.org.id, pair.guest, pair.ada, pair.owner, now=T0 + timedelta(hours=1))

    assert db.session.get(Client, pair.guest) is None
    phones = db.session.scalars(sa.select(ClientContact.e164).where(
        ClientContact.client_id == pair.ada).order_by(ClientContact.e164)).all()
    assert phones == ["+14155550123", GUEST_PHONE]
    assert count(Thread, org_id=pair.org.id) == 1
    bodies = db.session.scalars(sa.select(Message.body).where(
        Message.thread_id == pair.ada_thread).order_by(Message.created_at)).all()
    assert bodies == ["Hi, it's Ada", "Ada here, new phone", "Rex needs a walk",
                      "Use this one now"]
    thread = db.session.get(Thread, pair.ada_thread)
    assert thread.last_message_at == T0 + timedelta(minutes=9)
    assert thread.last_message_preview == "Use this one now"
    assert thread.unread_count == 4
    assert_doctor_holds()


def test_merge_moves_events_windows_and_bookings_and_notes_itself(pair):
    clients.merge_client(pair.org.id, pair.guest, pair.ada, pair.owner, now=T0 + timedelta(hours=1))

    events = db.session.execute(sa.select(ThreadEvent.kind, ThreadEvent.detail).where(
        ThreadEvent.thread_id == pair.ada_thread).order_by(ThreadEvent.created_at)).all()
    assert [e.kind for e in events] == ["closed", "merged"]
    assert events[-1].detail == f"Merged Guest ({GUEST_PHONE}) into Ada Lovelace"
    assert db.session.get(AssignmentWindow, pair.window).thread_id == pair.ada_thread
    assert db.session.get(Booking, pair.booking).client_id == pair.ada


def test_merge_writes_an_audit_event_naming_both_clients(pair):
    clients.merge_client(pair.org.id, pair.guest, pair.ada, pair.owner, now=T0 + timedelta(hours=1))

    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "client.merged"))
    assert (event.actor_user_id, event.entity_type, event.entity_id) == (
        pair.owner, "client", pair.ada)
    assert event.data["guest_id"] == pair.guest and event.data["into_id"] == pair.ada
    assert event.data["guest_name"] == f"Guest ({GUEST_PHONE})"
    assert event.data["into_name"] == "Ada Lovelace"
    assert event.data["moved_contacts"] == [GUEST_PHONE]
    assert event.data["moved_messages"] == 2


def test_merge_when_only_the_guest_has_a_thread_hands_that_thread_over(ctx):
    org = factories.org()
    ada = factories.client(org.id, "Ada Lovelace")
    guest, _ = find_or_create_client_by_phone(org.id, GUEST_PHONE)
    guest_thread = find_or_create_thread(org.id, guest, now=T0)
    inbound(org.id, guest_thread, "Hello?", T0 + timedelta(minutes=1), GUEST_PHONE)
    db.session.commit()

    clients.merge_client(org.id, guest, ada, None, now=T0 + timedelta(hours=1))

    thread = db.session.get(Thread, guest_thread)
    assert thread.client_id == ada
    assert count(Message, thread_id=guest_thread) == 1
    assert [e.kind for e in db.session.scalars(sa.select(ThreadEvent).where(
        ThreadEvent.thread_id == guest_thread))] == ["merged"]
    assert count(Client, org_id=org.id) == 1
    assert_doctor_holds()


def test_merge_when_neither_has_a_thread_moves_the_phone_only(ctx):
    org = factories.org()
    ada = factories.client(org.id, "Ada Lovelace")
    guest, _ = find_or_create_client_by_phone(org.id, GUEST_PHONE)
    db.session.commit()
    clients.merge_client(org.id, guest, ada, None)
    assert [c.e164 for c in clients.client_contacts(org.id, ada)] == [GUEST_PHONE]
    assert count(Thread, org_id=org.id) == 0


def test_merging_a_client_into_itself_is_refused(pair):
    with pytest.raises(DomainError, match="into itself"):
        clients.merge_client(pair.org.id, pair.guest, pair.guest, pair.owner)
    assert db.session.get(Client, pair.guest) is not None


def test_merging_across_organizations_is_not_found(pair):
    other = factories.org()
    stranger = factories.client(other.id, "Stranger")
    with pytest.raises(NotFound):
        clients.merge_client(pair.org.id, pair.guest, stranger, pair.owner)
    with pytest.raises(NotFound):
        clients.merge_client(other.id, pair.guest, stranger, None)
    assert db.session.get(Client, pair.guest) is not None


# --- the route ------------------------------------------------------------------------------

def guest_and_ada(app):
    with app.app_context():
        org = factories.org()
        ada = factories.client(org.id, "Ada Lovelace", "+14155550123")
        guest, _ = find_or_create_client_by_phone(org.id, GUEST_PHONE)
        thread = find_or_create_thread(org.id, guest, now=T0)
        inbound(org.id, thread, "Hello?", T0, GUEST_PHONE)
        db.session.commit()
    return org, ada, guest, thread


def test_the_merge_route_redirects_to_the_survivor(app, client, auth):
    org, ada, guest, thread = guest_and_ada(app)
    auth.sign_in(org.staff_email)
    response = client.post(f"/clients/{guest}/merge", data={"into_client_id": ada})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/clients/{ada}"
    page = client.get(f"/clients/{ada}")
    assert "(415) 555-0177" in page.text and f'href="/threads/{thread}"' in page.text
    assert client.get(f"/clients/{guest}").status_code == 404


def test_the_guest_page_finds_merge_candidates_but_not_itself(app, client, auth):
    org, ada, guest, _ = guest_and_ada(app)
    auth.sign_in(org.staff_email)
    page = client.get(f"/clients/{guest}")
    assert "Merge into an existing client" in page.text
    found = client.get(f"/clients/{guest}?merge_q=ada", headers={"HX-Request": "true"})
    assert found.status_code == 200 and "<html" not in found.text
    assert f'value="{ada}"' in found.text and f'value="{guest}"' not in found.text
    assert "Merge into an existing client" not in client.get(f"/clients/{ada}").text


def test_the_merge_route_refuses_itself_and_a_missing_choice_with_400(app, client, auth):
    org, _ada, guest, _ = guest_and_ada(app)
    auth.sign_in(org.staff_email)
    itself = client.post(f"/clients/{guest}/merge", data={"into_client_id": guest})
    assert itself.status_code == 400 and "cannot be merged into itself" in itself.text
    empty = client.post(f"/clients/{guest}/merge", data={})
    assert empty.status_code == 400 and "Choose the client to keep." in empty.text


# --- races ------------------------------------------------------------------------------------

@pytest.mark.concurrency
def test_two_crossing_merges_at_once_leave_one_client_with_one_thread(app):
    with app.app_context():
        org = factories.org()
        a, _ = find_or_create_client_by_phone(org.id, "+14155550181")
        b, _ = find_or_create_client_by_phone(org.id, "+14155550182")
        for client_id, sender in ((a, "+14155550181"), (b, "+14155550182")):
            thread = find_or_create_thread(org.id, client_id, now=T0)
            inbound(org.id, thread, f"from {sender}", T0, sender)
        db.session.commit()

    outcomes = race(app, [
        lambda: clients.merge_client(org.id, a, b, None),
        lambda: clients.merge_client(org.id, b, a, None),
    ])

    assert sorted(type(o).__name__ for o in outcomes) == ["NotFound", "int"]
    with app.app_context():
        survivor = next(o for o in outcomes if isinstance(o, int))
        assert db.session.scalars(sa.select(Client.id).where(Client.org_id == org.id)).all() \
            == [survivor]
        (thread,) = db.session.scalars(sa.select(Thread).where(Thread.org_id == org.id)).all()
        assert thread.client_id == survivor
        assert count(Message, thread_id=thread.id) == 2
        assert len(clients.client_contacts(org.id, survivor)) == 2
        assert_doctor_holds()
