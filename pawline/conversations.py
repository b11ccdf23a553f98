"""Conversations: a thread's close-and-reopen cycles, derived from the messages and events
already stored (no row of their own, so nothing can be duplicated or drift).

The rule (docs/design.md, "Conversations inside a thread"): walk a thread's messages and its
'closed' and 'reopened' events in time order (a message before an event at the same instant).
While no conversation is open, a message or a 'reopened' event opens one; a 'closed' event
closes the open one. Snoozing neither opens nor closes. A conversation is therefore named by the
'closed' event that ended it (or is the thread's current one), and one SQL statement finds
every conversation of a set of closes.
"""

import base64
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from pawline.db import db
from pawline.inputs import db_id
from pawline.models import Message, ThreadEvent
from pawline.sentences import SYSTEM

PAGE_SIZE = 30
CURRENT = 9223372036854775807  # the key of the thread's still-open conversation: after any close

# One row per 'closed' event of `closes` that ended an open conversation, and its figures. The
# laterals each read a range of one thread through ix_thread_event_thread_id_created_at and
# ix_message_thread_id_created_at, so the cost follows the rows asked for, not the organization
# nor the thread's length.
CONVERSATIONS = """
SELECT c.close_id, c.thread_id, nullif(c.closed_at, 'infinity') AS closed_at, c.closed_by,
       c.closed_at = 'infinity' AS still_open,
       CASE WHEN re.id IS NULL OR (fm.id IS NOT NULL AND fm.created_at <= re.created_at)
            THEN fm.created_at ELSE re.created_at END AS opened_at,
       CASE WHEN re.id IS NULL OR (fm.id IS NOT NULL AND fm.created_at <= re.created_at)
            THEN fm.id ELSE re.id END AS opened_by_id,
       (re.id IS NOT NULL AND (fm.id IS NULL OR re.created_at < fm.created_at)) AS by_reopen,
       re.detail AS reopen_detail, re.actor_user_id AS reopen_user_id,
       fm.direction AS first_direction, fm.sent_by_user_id AS first_user_id,
       left(fm.body, 120) AS first_body,
       coalesce(fi.number_id, fm.number_id) AS number_id,
       coalesce(fi.to_e164, CASE WHEN fm.direction = 'inbound' THEN fm.to_e164
                                 ELSE fm.from_e164 END) AS number_e164,
       fi.created_at AS client_wrote_at, fr.created_at AS answered_at,
       coalesce(nullif(closer.name, ''), closer.email) AS closer_name,
       coalesce(nullif(reopener.name, ''), reopener.email) AS reopener_name,
       coalesce(nullif(writer.name, ''), writer.email) AS writer_name
FROM closes c
LEFT JOIN LATERAL (
    SELECT p.created_at, p.id FROM thread_event p
    WHERE p.org_id = c.org_id AND p.thread_id = c.thread_id AND p.kind = 'closed'
      AND (p.created_at, p.id) < (c.closed_at, c.close_id)
    ORDER BY p.created_at DESC, p.id DESC LIMIT 1) prev ON true
LEFT JOIN LATERAL (
    SELECT m.id, m.created_at, m.direction, m.sent_by_user_id, m.body, m.number_id,
           m.to_e164, m.from_e164 FROM message m
    WHERE m.org_id = c.org_id AND m.thread_id = c.thread_id
      AND m.created_at > coalesce(prev.created_at, '-infinity')  -- a range: no OR
      AND m.created_at <= c.closed_at
    ORDER BY m.created_at, m.id LIMIT 1) fm ON true
LEFT JOIN LATERAL (
    SELECT e.id, e.created_at, e.detail, e.actor_user_id FROM thread_event e
    WHERE e.org_id = c.org_id AND e.thread_id = c.thread_id AND e.kind = 'reopened'
      AND (e.created_at, e.id) > (coalesce(prev.created_at, '-infinity'), coalesce(prev.id, 0))
      AND (e.created_at, e.id) < (c.closed_at, c.close_id)
    ORDER BY e.created_at, e.id LIMIT 1) re ON true
LEFT JOIN LATERAL (
    SELECT m.id, m.created_at, m.number_id, m.to_e164 FROM message m
    WHERE m.org_id = c.org_id AND m.thread_id = c.thread_id AND m.direction = 'inbound'
      AND m.created_at >= fm.created_at AND m.created_at <= c.closed_at
    ORDER BY m.created_at, m.id LIMIT 1) fi ON true
LEFT JOIN LATERAL (
    SELECT m.created_at FROM message m
    WHERE m.org_id = c.org_id AND m.thread_id = c.thread_id AND m.direction = 'outbound'
      AND m.sent_by_user_id IS NOT NULL
      AND (m.created_at, m.id) > (fi.created_at, fi.id) AND m.created_at <= c.closed_at
    ORDER BY m.created_at, m.id LIMIT 1) fr ON true
LEFT JOIN app_user closer ON closer.id = c.closed_by AND closer.org_id = c.org_id
LEFT JOIN app_user reopener ON reopener.id = re.actor_user_id AND reopener.org_id = c.org_id
LEFT JOIN app_user writer ON writer.id = fm.sent_by_user_id AND writer.org_id = c.org_id
WHERE fm.id IS NOT NULL OR re.id IS NOT NULL
"""

THREAD_CLOSES = """
WITH closes AS (
    SELECT id AS close_id, org_id, thread_id, created_at AS closed_at, actor_user_id AS closed_by
    FROM thread_event WHERE org_id = :org AND thread_id = :thread AND kind = 'closed'
    UNION ALL SELECT :current, :org, :thread, 'infinity'::timestamptz, NULL)
"""

# Inlined into the statement: ix_thread_event_closed (org_id, created_at, id) WHERE kind =
# 'closed' is read backwards and the nested loops stop at the page's LIMIT.
ORG_CLOSES = """
WITH closes AS (
    SELECT id AS close_id, org_id, thread_id, created_at AS closed_at, actor_user_id AS closed_by
    FROM thread_event WHERE org_id = :org AND kind = 'closed' {after})
"""


def words(span: timedelta | None) -> str:
    """A duration as a person says it: 'under a minute', '4 min', '2 h 5 min', '3 days 2 h'."""
    if span is None:
        return "—"
    minutes = int(span.total_seconds() // 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    day_word = "day" if days == 1 else "days"
    return f"{days} {day_word} {hours} h" if hours else f"{days} {day_word}"


@dataclass
class Conversation:
    """One close-and-reopen cycle of a thread and its header's figures."""

    row: object
    items: list = field(default_factory=list)
    unfolded: bool = False  # shown open (group decides)

    @property
    def key(self) -> int:
        return self.row.close_id

    @property
    def anchor(self) -> str:
        return "conversation-current" if self.row.still_open else f"conversation-{self.key}"

    @property
    def open_key(self) -> tuple:
        return (self.row.opened_at, 1 if self.row.by_reopen else 0, self.row.opened_by_id)

    @property
    def opened_by(self) -> str:
        """Who or what opened it: the client, a teammate by name, the end of a snooze."""
        row = self.row
        if row.by_reopen:
            if row.reopen_user_id:
                return f"Reopened by {row.reopener_name}"
            return "Snooze ended" if row.reopen_detail == "Snooze ended" else "Client wrote"
        if row.first_direction == "inbound":
            return "Client wrote"
        if row.first_user_id:
            return f"{row.writer_name} wrote first"
        return "Automatic message"

    @property
    def closed_by(self) -> str:
        if self.row.still_open:
            return "Still open"
        return f"Closed by {self.row.closer_name or SYSTEM}"

    @property
    def first_response(self) -> timedelta | None:
        """From the client's first message in it to the first reply a person sent."""
        if self.row.client_wrote_at is None or self.row.answered_at is None:
            return None
        return self.row.answered_at - self.row.client_wrote_at

    @property
    def to_close(self) -> timedelta | None:
        return None if self.row.still_open else self.row.closed_at - self.row.opened_at

    @property
    def first_response_words(self) -> str:
        if self.row.client_wrote_at is not None and self.row.answered_at is None:
            return "not answered" if not self.row.still_open else "waiting"
        return words(self.first_response)

    @property
    def to_close_words(self) -> str:
        return "open" if self.row.still_open else words(self.to_close)


def of_thread(org_id: int, thread_id: int) -> list[Conversation]:
    """Every conversation of the thread, oldest first (the last may be still open)."""
    sql = THREAD_CLOSES + CONVERSATIONS + " ORDER BY c.closed_at, c.close_id"
    rows = db.session.execute(sa.text(sql), {"org": org_id, "thread": thread_id,
                                             "current": CURRENT}).all()
    return [Conversation(row) for row in rows]


def _item_key(item) -> tuple:
    if isinstance(item, Message):
        return (item.created_at, 0, item.id)
    if isinstance(item, ThreadEvent):
        return (item.created_at, 1, item.id)
    return (item.created_at, 2, item.id)  # a note: after the message or event of its instant


def group(conversations: list[Conversation], items: list) -> list[Conversation]:
    """The timeline's items in their conversations; only those with an item shown. An item
    before the first opening (an event of a merged thread) joins the first, and one after a
    close (a note, a stray close) the conversation before it."""
    if not conversations:
        return []
    for conversation in conversations:
        conversation.items = []
    keys = [c.open_key for c in conversations]
    for item in items:
        at = max(bisect_right(keys, _item_key(item)) - 1, 0)
        conversations[at].items.append(item)
    shown = [c for c in conversations if c.items]
    # Unfolded: the latest, and the one before it while the latest holds no message yet (a
    # close just undone, a reopen nobody wrote in): what the reader was looking at stays open.
    for at, conversation in enumerate(shown):
        conversation.unfolded = at == len(shown) - 1
    if len(shown) > 1 and not any(_is_message(item) for item in shown[-1].items):
        shown[-2].unfolded = True
    return shown


def _is_message(item) -> bool:
    return getattr(item, "direction", None) is not None


@dataclass(frozen=True)
class ConversationPage:
    rows: list  # Conversation, with .client_name, .is_guest on the row
    next_cursor: str | None


def _cursor(at: datetime, close_id: int) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{close_id}".encode()).decode()


def _after(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    try:
        at, close_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(at), db_id(close_id)
    except (ValueError, UnicodeDecodeError):
        return None


def closed_statement(after: bool) -> str:
    """The Closed list's page: the organization's closes (after a cursor) with their client."""
    where = "AND (created_at, id) < (:at, :id)" if after else ""
    return (ORG_CLOSES.format(after=where) + CONVERSATIONS.replace(
        "FROM closes c", "FROM closes c JOIN thread t ON t.id = c.thread_id "
        "AND t.org_id = c.org_id JOIN client cl ON cl.id = t.client_id AND cl.org_id = t.org_id")
        .replace("SELECT c.close_id,", "SELECT cl.name AS client_name, cl.is_guest, c.close_id,")
        + " ORDER BY c.closed_at DESC, c.close_id DESC LIMIT :limit")


def closed(org_id: int, cursor: str | None = None, limit: int = PAGE_SIZE) -> ConversationPage:
    """The organization's closed conversations, newest close first, keyset on (closed, id).
    A close that ended no open conversation (a second close in a row) is not one."""
    after = _after(cursor)
    params = {"org": org_id, "limit": limit + 1}
    if after:
        params.update(at=after[0], id=after[1])
    rows = db.session.execute(sa.text(closed_statement(bool(after))), params).all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = _cursor(rows[-1].closed_at, rows[-1].close_id) if more else None
    return ConversationPage([Conversation(r) for r in rows], next_cursor)


def window_before(org_id: int, thread_id: int, close_id: int, page: int) -> int | None:
    """Where a timeline page must end to show the conversation `close_id` closed: the first
    message after that close, when `page` or more messages follow it (else the newest page
    shows it already, and None). None too for a close of another thread or organization."""
    return db.session.scalar(sa.text("""
        WITH closing AS (
            SELECT created_at FROM thread_event
            WHERE id = :close AND org_id = :org AND thread_id = :thread AND kind = 'closed'),
        later AS (
            SELECT m.id, m.created_at FROM message m, closing
            WHERE m.org_id = :org AND m.thread_id = :thread AND m.created_at > closing.created_at
            ORDER BY m.created_at, m.id LIMIT :page)
        SELECT (SELECT id FROM later ORDER BY created_at, id LIMIT 1)
        WHERE (SELECT count(*) FROM later) >= :page"""),
        {"close": close_id, "org": org_id, "thread": thread_id, "page": page})
