"""Conversations derived from a thread's messages and close/reopen events (docs/conversations.md):
what opens and closes one, a merge, and the figures of each header."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from pawline import clients, conversations, inbox, threads
from pawline.db import db
from pawline.inbound import receive_sms
from pawline.models import Message
from pawline.outbound import queue_message
from tests import factories

POOL, ADA, BOB = "+14155550101", "+14155552671", "+14155552672"
T0 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
_sid = iter(range(10_000))


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def inbound(minutes: float, body: str = "Hi", phone: str = ADA) -> int:
    return receive_sms(POOL, phone, body, f"SMconv{next(_sid)}", now=at(minutes)).thread_id


def reply(org, thread_id: int, minutes: float, user_id: int | None = None) -> None:
    queue_message(org.id, thread_id, "On it", user_id or org.staff_user_id, "twilio",
                  now=at(minutes))


@pytest.fixture
def org(ctx):
    made = factories.org()
    factories.number(made.id, POOL, "pool", label="Front desk line")
    return made


def shown(org_id: int, thread_id: int) -> list:
    return conversations.of_thread(org_id, thread_id)


def test_a_thread_never_closed_is_one_open_conversation(org):
    thread_id = inbound(0, "Is Rex okay?")
    reply(org, thread_id, 3)
    inbound(10, "Thanks")
    [only] = shown(org.id, thread_id)
    assert only.row.still_open and only.anchor == "conversation-current"
    assert only.opened_by == "Client wrote" and only.closed_by == "Still open"
    assert only.first_response == timedelta(minutes=3)
    assert only.first_response_words == "3 min" and only.to_close_words == "open"
    assert only.row.number_e164 == POOL


def test_the_first_message_opens_and_a_close_closes(org):
    thread_id = inbound(0)
    reply(org, thread_id, 90)
    threads.close_thread(org.id, thread_id, org.owner_user_id, now=at(125))
    [first] = shown(org.id, thread_id)
    assert not first.row.still_open
    assert first.closed_by.startswith("Closed by owner")
    assert first.to_close == timedelta(minutes=125)
    assert (first.first_response_words, first.to_close_words) == ("1 h 30 min", "2 h 5 min")


def test_an_inbound_message_and_a_staff_reopen_each_open_a_new_conversation(org):
    thread_id = inbound(0)
    threads.close_thread(org.id, thread_id, org.staff_user_id, now=at(5))
    inbound(60, "Me again")  # reopens the thread: "Reopened by an inbound message"
    threads.close_thread(org.id, thread_id, org.staff_user_id, now=at(70))
    threads.reopen_thread(org.id, thread_id, org.owner_user_id, now=at(24 * 60))
    found = shown(org.id, thread_id)
    assert [c.opened_by for c in found[:2]] == ["Client wrote", "Client wrote"]
    assert found[2].opened_by.startswith("Reopened by owner")  # the owner's name (its email)
    assert [c.row.still_open for c in found] == [False, False, True]
    assert found[1].first_response_words == "not answered"
    assert found[2].first_response_words == "—"  # the client has not written in it
    assert found[1].to_close == timedelta(minutes=10)


def test_a_snooze_neither_opens_nor_closes_but_its_end_reopens_a_closed_thread(org):
    thread_id = inbound(0)
    threads.snooze_thread(org.id, thread_id, at(60), org.staff_user_id, now=at(1))
    threads.wake_snoozed(org.id, now=at(61))  # "Snooze ended" inside the open conversation
    assert len(shown(org.id, thread_id)) == 1
    threads.close_thread(org.id, thread_id, org.staff_user_id, now=at(62))
    threads.snooze_thread(org.id, thread_id, at(120), org.staff_user_id, now=at(63))
    threads.wake_snoozed(org.id, now=at(121))
    first, second = shown(org.id, thread_id)
    assert first.to_close == timedelta(minutes=62)
    assert second.opened_by == "Snooze ended" and second.row.still_open


def test_a_second_close_in_a_row_is_no_conversation(org):
    thread_id = inbound(0)
    threads.close_thread(org.id, thread_id, org.staff_user_id, now=at(5))
    threads.close_thread(org.id, thread_id, org.owner_user_id, now=at(6))
    [only] = shown(org.id, thread_id)
    assert only.to_close == timedelta(minutes=5) and "staff" in only.closed_by
    assert [c.key for c in conversations.closed(org.id).rows] == [only.key]


def test_staff_writing_first_opens_it_and_a_reply_after_a_close_opens_the_next(org):
    thread_id = receive_sms(POOL, BOB, "x", "SMconvbob", now=at(0)).thread_id
    threads.close_thread(org.id, thread_id, org.staff_user_id, now=at(1))
    reply(org, thread_id, 30)  # stays closed, yet someone wrote: a new conversation
    first, second = shown(org.id, thread_id)
    assert second.opened_by.startswith("staff") and second.opened_by.endswith("wrote first")


def test_the_timeline_items_go_into_their_conversations(org):
    thread_id = inbound(0, "one")
    threads.close_thread(org.id, thread_id, org.staff_user_id, now=at(5))
    inbound(60, "two")
    threads.close_thread(org.id, thread_id, org.staff_user_id, now=at(70))
    inbound(80, "three")
    items = inbox.timeline(org.id, thread_id).items
    groups = conversations.group(shown(org.id, thread_id), items)
    bodies = [[i.body for i in g.items if isinstance(i, Message)] for g in groups]
    assert bodies == [["one"], ["two"], ["three"]]
    kinds = [[getattr(i, "kind", None) for i in g.items] for g in groups]
    assert kinds[0] == [None, "closed"] and kinds[1] == [None, "reopened", "closed"]
    # only the conversations with an item on the page shown: the newest two messages
    later = conversations.group(shown(org.id, thread_id), inbox.timeline(org.id, thread_id,
                                                                          limit=2).items)
    assert [g.row.still_open for g in later] == [False, True]


def test_the_latest_conversation_is_unfolded_and_the_one_before_while_it_has_no_message(org):
    thread_id = inbound(0, "one")
    threads.close_thread(org.id, thread_id, org.staff_user_id, now=at(5))
    threads.reopen_thread(org.id, thread_id, org.staff_user_id, now=at(6))  # Undo of the close

    def unfolded():
        groups = conversations.group(shown(org.id, thread_id), inbox.timeline(org.id,
                                                                               thread_id).items)
        return [g.unfolded for g in groups]

    assert unfolded() == [True, True]  # "one" stays in sight: the reopen holds no message yet
    inbound(60, "two")
    assert unfolded() == [False, True]


def test_a_merge_folds_both_histories_into_one_stream_of_conversations(org):
    """A guest's thread merged into a client's: the survivor's timeline holds both, in time
    order, and the rule runs over it as one thread; nothing is duplicated."""
    ada = factories.client(org.id, "Ada Lovelace", ADA)
    ada_thread = inbound(0, "ada one")
    threads.close_thread(org.id, ada_thread, org.staff_user_id, now=at(10))
    guest_thread = inbound(20, "guest one", phone=BOB)
    threads.close_thread(org.id, guest_thread, org.staff_user_id, now=at(30))
    inbound(40, "ada two")
    clients.merge_client(org.id, db.session.scalar(sa.text(
        "SELECT client_id FROM thread WHERE id = :t"), {"t": guest_thread}), ada, None,
        now=at(50))
    found = shown(org.id, ada_thread)
    assert [c.to_close for c in found] == [timedelta(minutes=10), timedelta(minutes=10), None]
    firsts = [c.row.first_body for c in found]
    assert firsts == ["ada one", "guest one", "ada two"]
    assert len(conversations.closed(org.id).rows) == 2


def test_another_organizations_closes_are_never_listed(org):
    thread_id = inbound(0)
    threads.close_thread(org.id, thread_id, org.staff_user_id, now=at(5))
    other = factories.org()
    factories.number(other.id, "+14155550199", "pool")
    theirs = receive_sms("+14155550199", ADA, "x", "SMconvother", now=at(1)).thread_id
    threads.close_thread(other.id, theirs, other.staff_user_id, now=at(6))
    assert [c.row.thread_id for c in conversations.closed(org.id).rows] == [thread_id]
    assert conversations.of_thread(org.id, theirs) == []


def test_the_closed_list_pages_by_keyset_without_gaps_or_repeats(org):
    thread_id = inbound(0)
    for n in range(7):
        threads.close_thread(org.id, thread_id, org.staff_user_id, now=at(10 * n + 5))
        inbound(10 * n + 9, f"again {n}")
    seen, cursor = [], None
    while True:
        page = conversations.closed(org.id, cursor, limit=3)
        seen += [c.key for c in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == 7 == len(set(seen))
    assert seen == sorted(seen, reverse=True)
    assert conversations.closed(org.id, "garbage").rows  # a garbled cursor: the first page


@pytest.mark.parametrize(("span", "said"), [
    (timedelta(seconds=30), "under a minute"), (timedelta(minutes=59), "59 min"),
    (timedelta(hours=2), "2 h"), (timedelta(days=1), "1 day"),
    (timedelta(days=3, hours=2, minutes=9), "3 days 2 h"), (None, "—")])
def test_durations_in_words(span, said):
    assert conversations.words(span) == said


def test_the_statements_read_their_indexes_not_every_row(org):
    """The Closed list walks ix_thread_event_closed; a thread's conversations read ranges of
    ix_message_thread_id_created_at (the figures: bench/closed_conversations.py)."""
    thread_id = inbound(0)
    db.session.execute(sa.text(
        "INSERT INTO client (org_id, name) SELECT :org, 'c' || g FROM generate_series(1, 3000) g"),
        {"org": org.id})
    db.session.execute(sa.text("""
        INSERT INTO thread (org_id, client_id, status, last_activity_at)
        SELECT :org, c.id, 'closed', now() - c.id * interval '1 s' FROM client c
        WHERE c.org_id = :org AND NOT EXISTS (SELECT 1 FROM thread t WHERE t.client_id = c.id)
        """), {"org": org.id})
    db.session.execute(sa.text("""
        INSERT INTO thread_event (org_id, thread_id, kind, detail, created_at)
        SELECT org_id, id, k.kind, k.kind, last_activity_at FROM thread,
               (VALUES ('closed'), ('assigned'), ('assigned'), ('snoozed')) k(kind)
        WHERE org_id = :org"""), {"org": org.id})
    db.session.execute(sa.text("""
        INSERT INTO message (org_id, thread_id, direction, body, from_e164, to_e164, status,
                             provider, created_at)
        SELECT :org, :thread, 'inbound', 'm' || g, :ada, :pool, 'received', 'twilio',
               now() - g * interval '1 minute' FROM generate_series(1, 3000) g"""),
        {"org": org.id, "thread": thread_id, "ada": ADA, "pool": POOL})
    for table in ("client", "thread", "thread_event", "message"):  # the planner sees them all
        db.session.execute(sa.text(f"ANALYZE {table}"))

    def plan(sql: str, **params) -> str:
        return "\n".join(db.session.scalars(sa.text("EXPLAIN " + sql), params))

    listed = plan(conversations.closed_statement(after=False), org=org.id, limit=31)
    assert "ix_thread_event_closed" in listed, listed
    one = plan(conversations.THREAD_CLOSES + conversations.CONVERSATIONS, org=org.id,
               thread=thread_id, current=conversations.CURRENT)
    assert "ix_message_thread_id_created_at" in one, one
    assert "ix_message_thread_id_id" not in one and "Seq Scan on message" not in one, one
