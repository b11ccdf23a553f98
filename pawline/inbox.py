"""Read models of the inbox: the thread list (keyset-paginated) and a thread's timeline."""

import base64
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from pawline import channel_routes, media
from pawline.channel_models import PHONE_CHANNELS
from pawline.consent_models import PhoneConsent
from pawline.db import db
from pawline.desk_models import ScheduledMessage, ThreadNote
from pawline.inputs import db_id
from pawline.media_models import Attachment
from pawline.models import Client, ClientContact, Message, Thread, ThreadEvent, User
from pawline.notes import note_lines, notes_query
from pawline.routing import NEW_DEFAULT_RULE
from pawline.search import thread_filter

TABS = ("open", "snoozed", "closed", "all")
PAGE_SIZE = 30
TIMELINE_PAGE = 50


@dataclass(frozen=True)
class ThreadPage:
    rows: list
    next_cursor: str | None


def encode_cursor(at: datetime, thread_id: int) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{thread_id}".encode()).decode()


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """The (activity time, id) a page continues after; None for a missing or garbled cursor."""
    if not cursor:
        return None
    try:
        at, thread_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(at), db_id(thread_id)
    except (ValueError, UnicodeDecodeError):
        return None


def _opted_out():
    """Whether a phone of the thread's client opted out (a column of the list: no N+1)."""
    return sa.exists().where(
        ClientContact.org_id == Thread.org_id, ClientContact.client_id == Thread.client_id,
        PhoneConsent.org_id == ClientContact.org_id, PhoneConsent.e164 == ClientContact.e164,
        PhoneConsent.opted_out).label("opted_out")


def _who(who: str, user_id: int | None) -> list:
    """The Mine / Unassigned condition: ix_thread_assignee_{inbox,activity} serve Mine,
    ix_thread_unassigned_{inbox,activity} (partial) Unassigned, with a tab and without."""
    if who == "mine":
        return [Thread.assignee_user_id == user_id]
    if who == "unassigned":
        return [Thread.assignee_user_id.is_(None)]
    return []


def _filtered(org_id: int, tab: str, query: str, region: str, who: str = "all",
              user_id: int | None = None):
    assignee = sa.func.coalesce(sa.func.nullif(User.name, ""), User.email)
    author = aliased(User)  # the last message's author, beside the assignee
    statement = (
        sa.select(Thread.id, Thread.status, Thread.last_activity_at, Thread.last_message_at,
                  Thread.last_message_preview, Thread.last_message_direction,
                  Thread.unread_count, Thread.snoozed_until, Client.name.label("client_name"),
                  Client.is_guest, _opted_out(), Thread.last_message_user_id,
                  author.name.label("author_name"), Thread.assignee_user_id,
                  assignee.label("assignee_name"))
        .join(Client, Client.id == Thread.client_id)
        .outerjoin(author, sa.and_(author.id == Thread.last_message_user_id,
                                   author.org_id == Thread.org_id))
        .outerjoin(User, sa.and_(User.id == Thread.assignee_user_id,
                                 User.org_id == Thread.org_id))
        .where(Thread.org_id == org_id)
    )
    if tab != "all":
        statement = statement.where(Thread.status == tab)
    statement = statement.where(*_who(who, user_id))
    if query.strip():
        statement = statement.where(thread_filter(org_id, query.strip(), region))
    return statement


def list_threads(org_id: int, tab: str = "open", query: str = "", cursor: str | None = None,
                 region: str = "US", limit: int = PAGE_SIZE, who: str = "all",
                 user_id: int | None = None) -> ThreadPage:
    """Threads newest activity first; `cursor` continues after the last row of a page; `who`
    narrows to the threads assigned to `user_id` ('mine') or to nobody ('unassigned')."""
    statement = _filtered(org_id, tab if tab in TABS else "open", query, region, who, user_id)
    after = decode_cursor(cursor)
    if after:
        statement = statement.where(
            sa.tuple_(Thread.last_activity_at, Thread.id) < sa.tuple_(*after))
    rows = db.session.execute(
        statement.order_by(Thread.last_activity_at.desc(), Thread.id.desc()).limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].last_activity_at, rows[-1].id) if more else None
    return ThreadPage(rows, next_cursor)


def next_open_thread(org_id: int, after_id: int) -> int | None:
    """The conversation to move on to after closing or snoozing one: the next open thread
    below it in the Open list, else the newest open one (None when none is open)."""
    at = db.session.scalar(sa.select(Thread.last_activity_at).where(
        Thread.id == after_id, Thread.org_id == org_id))
    open_threads = (sa.select(Thread.id).where(Thread.org_id == org_id, Thread.status == "open",
                                               Thread.id != after_id)
                    .order_by(Thread.last_activity_at.desc(), Thread.id.desc()).limit(1))
    if at is not None:
        below = db.session.scalar(open_threads.where(
            sa.tuple_(Thread.last_activity_at, Thread.id) < sa.tuple_(at, after_id)))
        if below is not None:
            return below
    return db.session.scalar(open_threads)


def changed_since(org_id: int, tab: str, query: str, since: datetime, region: str = "US",
                  who: str = "all", user_id: int | None = None) -> bool:
    """Whether any thread of this list had activity after `since` (the live refresh's poll)."""
    statement = _filtered(org_id, tab if tab in TABS else "open", query, region, who, user_id)
    return db.session.scalar(
        sa.select(sa.exists(statement.where(Thread.last_activity_at > since).subquery())))


COUNT_CAP = 100  # a tab shows "99+" from here on: a count reads at most this many index entries


def tab_counts(org_id: int, who: str = "all", user_id: int | None = None) -> dict[str, int]:
    """How many threads each tab holds under the Mine / Unassigned filter `who`, each capped at
    COUNT_CAP, in one statement: every count is a bounded read of one index (ix_thread_inbox or
    ix_thread_activity; for Mine ix_thread_assignee_*, for Unassigned the partial
    ix_thread_unassigned_*), so its cost does not grow with the organization."""
    return db.session.execute(tab_counts_statement(org_id, who, user_id)).one()._asdict()


def tab_counts_statement(org_id: int, who: str = "all", user_id: int | None = None):
    """The one statement of tab_counts (its plan is tested)."""

    def capped(*where):
        # ordered as the index is: a LIMIT alone let the planner pick a sequential scan
        rows = sa.select(sa.literal(1)).select_from(Thread).where(
            Thread.org_id == org_id, *where, *_who(who, user_id)).order_by(
            Thread.last_activity_at.desc(), Thread.id.desc()).limit(COUNT_CAP).subquery()
        return sa.select(sa.func.count()).select_from(rows).scalar_subquery()

    counts = {tab: capped(Thread.status == tab) for tab in TABS if tab != "all"}
    counts["all"] = capped()
    return sa.select(*(c.label(tab) for tab, c in counts.items()))


@dataclass(frozen=True)
class Timeline:
    items: list  # Message and ThreadEvent rows and NoteLines, oldest first
    earlier_before: int | None  # a message id to load earlier items before, if any
    attachments: dict = field(default_factory=dict)  # message id -> its Attachment rows


def timeline(org_id: int, thread_id: int, before_id: int | None = None,
             limit: int = TIMELINE_PAGE) -> Timeline:
    """The newest `limit` messages (before `before_id`) with the events of the same span."""
    statement = (sa.select(Message)
                 .where(Message.org_id == org_id, Message.thread_id == thread_id))
    if before_id:
        statement = statement.where(Message.id < before_id)
    messages = db.session.scalars(statement.order_by(Message.id.desc()).limit(limit + 1)).all()
    more = len(messages) > limit
    messages = list(reversed(messages[:limit]))
    events = sa.select(ThreadEvent).where(ThreadEvent.org_id == org_id,
                                          ThreadEvent.thread_id == thread_id)
    notes = notes_query(org_id, thread_id)
    if more:
        events = events.where(ThreadEvent.created_at >= messages[0].created_at)
        notes = notes.where(ThreadNote.created_at >= messages[0].created_at)
    if before_id and messages:
        upper = db.session.scalar(sa.select(Message.created_at).where(
            Message.id == before_id, Message.org_id == org_id, Message.thread_id == thread_id))
        if upper is not None:  # else `before` named no message of this thread: no upper bound
            events = events.where(ThreadEvent.created_at < upper)
            notes = notes.where(ThreadNote.created_at < upper)
    elif before_id:
        return Timeline([], None)
    items = sorted([*messages, *db.session.scalars(events).all(), *note_lines(notes)],
                   key=lambda item: (item.created_at, not isinstance(item, Message)))
    # one more query, only when some message carries media
    attachments = media.for_messages(org_id, [m.id for m in messages if m.num_media])
    return Timeline(items, messages[0].id if more else None, attachments)


def timeline_changed(org_id: int, thread_id: int, first_id: int, after_id: int,
                     since: datetime) -> bool:
    """Whether a timeline shown from message `first_id` to `after_id` changed after `since`:
    a new message, a status of a shown message (sent, delivered, failed), a new event or
    note, a photo that was fetched (or failed) meanwhile, or a scheduled reply that changed
    (the thread shows those beside its timeline)."""
    messages = sa.select(Message.id).where(
        Message.org_id == org_id, Message.thread_id == thread_id, Message.id >= first_id,
        sa.or_(Message.id > after_id, Message.status_updated_at > since))
    events = sa.select(ThreadEvent.id).where(
        ThreadEvent.org_id == org_id, ThreadEvent.thread_id == thread_id,
        ThreadEvent.created_at > since)
    files = sa.select(Attachment.id).join(Message, sa.and_(
        Message.id == Attachment.message_id, Message.org_id == Attachment.org_id)).where(
        Message.org_id == org_id, Message.thread_id == thread_id, Message.id >= first_id,
        Attachment.updated_at > since)
    notes = sa.select(ThreadNote.id).where(
        ThreadNote.org_id == org_id, ThreadNote.thread_id == thread_id,
        ThreadNote.created_at > since)
    later = sa.select(ScheduledMessage.id).where(  # scheduled, edited, sent or stopped
        ScheduledMessage.org_id == org_id, ScheduledMessage.thread_id == thread_id,
        ScheduledMessage.updated_at > since)
    return db.session.scalar(sa.select(sa.or_(sa.exists(messages), sa.exists(events),
                                              sa.exists(files), sa.exists(notes),
                                              sa.exists(later))))


@dataclass(frozen=True)
class Appended:
    """A reply a page can show by adding it at the end of the timeline it shows."""
    message: Message
    line_changed: bool  # it went on another line than the message before it
    timeline: Timeline  # the reply alone, with its photos


def appended_reply(org_id: int, queued, was_open: bool, channel: str | None) -> Appended | None:
    """The reply just queued (pawline.outbound.Queued), when a page that showed its thread's
    newest items is right again with only the reply added at their end; None when more of the
    page changes with it: the same form sent again (its reply is shown already), a thread that
    was not open (the reply starts a conversation), a number that became the thread's default
    (the reply box says which line answers, and why), or a channel other than the one the reply
    box picks by itself."""
    if not queued.created or not was_open:
        return None
    message = db.session.scalar(sa.select(Message).where(
        Message.org_id == org_id, Message.thread_id == queued.thread_id,
        Message.id == queued.message_id))
    if message is None or (message.routing_trace or {}).get("rule") == NEW_DEFAULT_RULE:
        return None
    if channel is not None and channel != channel_routes.reply_channel(message.thread_id):
        return None
    before = db.session.execute(sa.select(Message.channel, Message.number_id).where(
        Message.org_id == org_id, Message.thread_id == message.thread_id, Message.id < message.id)
        .order_by(Message.id.desc()).limit(1)).first()
    files = media.for_messages(org_id, [message.id]) if message.num_media else {}
    return Appended(message, before is None or line_key(*before) != line_key(
        message.channel, message.number_id), Timeline([message], None, files))


def line_key(channel: str, number_id: int | None):
    """What the timeline says a message went on: the number by SMS and WhatsApp, else the
    channel. The timeline (templates/inbox/thread.html, filter `line_key`) says so again when
    it changes: "Sent from" a number, or "Sent on" a channel."""
    return number_id if by_phone(channel) else channel


def by_phone(channel: str) -> bool:
    """A channel whose messages go on one of our numbers (SMS, WhatsApp)."""
    return channel in PHONE_CHANNELS
