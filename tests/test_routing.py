"""Send-time routing: each rule of docs/design.md, in order, and the refusal."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from pawline.db import db
from pawline.inbound import receive_sms
from pawline.models import (
    AssignmentWindow,
    Booking,
    ClientContact,
    MessageNumber,
    Sitter,
    Thread,
)
from pawline.routing import NoSendingNumber, choose_sending_number, plan_route
from pawline.threads import find_or_create_thread
from tests import factories

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
SIDS = itertools.count(1)


@pytest.fixture
def org(ctx):
    return factories.org()


@pytest.fixture
def thread_id(org):
    client_id = factories.client(org.id, "Ada", factories.phone())
    thread_id = find_or_create_thread(org.id, client_id)
    db.session.commit()
    return thread_id


def sitter_with_number(org_id: int, name: str, e164: str, status: str = "active") -> int:
    sitter = Sitter(org_id=org_id, name=name, active=True)
    db.session.add(sitter)
    db.session.flush()
    fields = {"assigned_sitter_id": sitter.id} if status == "active" else {
        "status": "quarantined", "quarantine_release_at": NOW + timedelta(days=90)}
    factories.number(org_id, e164, "sitter", **fields)
    return sitter.id


def window(org_id: int, thread_id: int, sitter_id: int, starts: datetime, ends: datetime):
    client_id = db.session.get(Thread, thread_id).client_id
    booking = Booking(org_id=org_id, client_id=client_id, sitter_id=sitter_id, starts_at=starts,
                      ends_at=ends, status="confirmed")
    db.session.add(booking)
    db.session.flush()
    db.session.add(AssignmentWindow(org_id=org_id, thread_id=thread_id, booking_id=booking.id,
                                    sitter_id=sitter_id, starts_at=starts, ends_at=ends))
    db.session.commit()


def test_inside_an_active_window_the_sitters_number_sends(org, thread_id):
    sam = sitter_with_number(org.id, "Sam", "+14155550110")
    factories.number(org.id, "+14155550101", "pool")
    window(org.id, thread_id, sam, NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    route = plan_route(org.id, thread_id, NOW)
    assert (route.rule, route.e164) == (1, "+14155550110")
    assert "Sam" in route.reason


def test_after_the_window_ends_the_fallback_sends(org, thread_id):
    sam = sitter_with_number(org.id, "Sam", "+14155550110")
    factories.number(org.id, "+14155550101", "pool")
    window(org.id, thread_id, sam, NOW - timedelta(hours=2), NOW)  # ends_at is exclusive
    route = plan_route(org.id, thread_id, NOW)
    assert (route.rule, route.e164) == (4, "+14155550101")


def test_overlapping_windows_choose_the_one_that_started_last_and_say_so(org, thread_id):
    sam = sitter_with_number(org.id, "Sam", "+14155550110")
    kim = sitter_with_number(org.id, "Kim", "+14155550111")
    window(org.id, thread_id, sam, NOW - timedelta(days=1), NOW + timedelta(days=1))
    window(org.id, thread_id, kim, NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    route = plan_route(org.id, thread_id, NOW)
    assert (route.rule, route.e164) == (1, "+14155550111")
    assert "Several windows" in route.reason and "Sam" in route.reason


def test_a_sitter_whose_number_was_quarantined_falls_back(org, thread_id):
    sam = sitter_with_number(org.id, "Sam", "+14155550110", status="quarantined")
    front = factories.number(org.id, "+14155550100", "front_desk")
    window(org.id, thread_id, sam, NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    route = plan_route(org.id, thread_id, NOW)
    assert (route.rule, route.number_id) == (5, front)
    assert any("Sam holds no number" in step for step in route.steps)


def test_the_threads_default_pool_number_is_kept(org, thread_id):
    factories.number(org.id, "+14155550101", "pool")
    second = factories.number(org.id, "+14155550102", "pool")
    db.session.execute(sa.update(Thread).values(default_number_id=second))
    route = plan_route(org.id, thread_id, NOW)
    assert (route.rule, route.number_id) == (3, second)


def test_a_free_pool_number_becomes_the_threads_default(org, thread_id):
    pool = factories.number(org.id, "+14155550101", "pool")
    route = choose_sending_number(org.id, thread_id, NOW)
    assert (route.rule, route.number_id) == (4, pool)
    assert db.session.get(Thread, thread_id).default_number_id == pool
    assert plan_route(org.id, thread_id, NOW).rule == 3


def test_a_quarantined_default_number_is_never_used(org, thread_id):
    default = factories.number(org.id, "+14155550101", "pool", status="quarantined",
                               quarantine_release_at=NOW + timedelta(days=3))
    other = factories.number(org.id, "+14155550102", "pool")
    db.session.execute(sa.update(Thread).values(default_number_id=default))
    route = plan_route(org.id, thread_id, NOW)
    assert (route.rule, route.number_id) == (4, other)
    assert any("quarantined" in step for step in route.steps)


def test_a_pool_number_held_by_a_sitter_is_not_anyones_default(org, thread_id):
    sitter_with_number(org.id, "Sam", "+14155550110")
    db.session.execute(sa.update(MessageNumber).values(number_class="pool"))
    front = factories.number(org.id, "+14155550100", "front_desk")
    assert plan_route(org.id, thread_id, NOW).number_id == front


def test_the_front_desk_sends_when_no_pool_number_is_free(org, thread_id):
    front = factories.number(org.id, "+14155550100", "front_desk")
    assert plan_route(org.id, thread_id, NOW).number_id == front


def test_no_number_at_all_refuses_to_send(org, thread_id):
    with pytest.raises(NoSendingNumber) as refused:
        plan_route(org.id, thread_id, NOW)
    assert "No front-desk number." in refused.value.steps


def test_a_quarantined_front_desk_refuses_to_send(org, thread_id):
    factories.number(org.id, "+14155550100", "front_desk", status="quarantined",
                     quarantine_release_at=NOW + timedelta(days=1))
    with pytest.raises(NoSendingNumber) as refused:
        plan_route(org.id, thread_id, NOW)
    assert "The front-desk number is quarantined." in refused.value.steps


def client_texts(org_id: int, thread_id: int, to_e164: str, at: datetime = NOW) -> None:
    """The thread's client texts one of the organization's lines."""
    client_id = db.session.get(Thread, thread_id).client_id
    phone = db.session.scalar(sa.select(ClientContact.e164).where(
        ClientContact.client_id == client_id))
    receive_sms(to_e164, phone, "Hi!", f"SM{next(SIDS):032x}", now=at - timedelta(minutes=5))


def test_a_client_who_texts_the_front_desk_is_answered_from_the_front_desk(org, thread_id):
    front = factories.number(org.id, "+14155550100", "front_desk")
    pool = factories.number(org.id, "+14155550101", "pool")
    db.session.execute(sa.update(Thread).values(default_number_id=pool))
    client_texts(org.id, thread_id, "+14155550100")

    route = choose_sending_number(org.id, thread_id, NOW)

    assert (route.rule, route.number_id, route.label) == (2, front, "Front desk")
    assert not route.differs_from_last_texted
    assert route.sentence == ("Replying from Front desk: Ada texted this line last, "
                              "so they hear back on it.")


def test_answering_the_front_desk_does_not_make_a_pool_number_the_default(org, thread_id):
    factories.number(org.id, "+14155550100", "front_desk")
    factories.number(org.id, "+14155550101", "pool")
    client_texts(org.id, thread_id, "+14155550100")

    choose_sending_number(org.id, thread_id, NOW)

    assert db.session.get(Thread, thread_id).default_number_id is None


def test_a_sitters_window_still_wins_over_the_line_the_client_texted(org, thread_id):
    factories.number(org.id, "+14155550100", "front_desk")
    sam = sitter_with_number(org.id, "Sam", "+14155550110")
    window(org.id, thread_id, sam, NOW - timedelta(hours=1), NOW + timedelta(hours=3))
    client_texts(org.id, thread_id, "+14155550100")

    route = plan_route(org.id, thread_id, NOW)

    assert (route.rule, route.label) == (1, "Sam's line")
    assert route.differs_from_last_texted and route.last_texted.label == "Front desk"
    assert route.sentence == "Replying from Sam's line: Sam is with Ada until Mon 1:00 PM."


def test_a_quarantined_line_the_client_texted_falls_back_and_says_why(org, thread_id):
    factories.number(org.id, "+14155550100", "front_desk")
    texted = factories.number(org.id, "+14155550101", "pool", label="Pool 2")
    client_texts(org.id, thread_id, "+14155550101")
    db.session.execute(sa.update(MessageNumber).where(MessageNumber.id == texted).values(
        status="quarantined", quarantine_release_at=NOW + timedelta(days=90)))

    route = plan_route(org.id, thread_id, NOW)

    assert route.rule == 5 and route.differs_from_last_texted
    assert "Ada last texted Pool 2, which is quarantined." in route.steps


def test_a_sitters_line_outside_their_window_is_not_the_clients_line(org, thread_id):
    front = factories.number(org.id, "+14155550100", "front_desk")
    sitter_with_number(org.id, "Sam", "+14155550110")
    client_texts(org.id, thread_id, "+14155550110")

    route = plan_route(org.id, thread_id, NOW)

    assert (route.rule, route.number_id) == (5, front)
    assert any("answers only while its sitter is booked" in step for step in route.steps)
