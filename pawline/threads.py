"""Clients by phone and their one thread (I1, I3): atomic find-or-create, never look-then-create.

Each function runs inside the caller's transaction and does not commit; under any number of
concurrent callers the result is the same rows as one caller.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from pawline.clock import utcnow
from pawline.db import db
from pawline.errors import DomainError, NotFound
from pawline.models import Client, ClientContact, Thread, ThreadEvent


def guest_name(e164: str) -> str:
    return f"Guest ({e164})"


def find_or_create_client_by_phone(org_id: int, e164: str) -> tuple[int, bool]:
    """The client whose contact is `e164` in this organization, made a guest if new.

    Answers (client_id, created). A new client and its contact are inserted together; when a
    concurrent caller wins the contact's unique index (I1), our client row is removed again in
    this transaction and the winner's client is answered.
    """
    session = db.session
    contacts, clients = ClientContact.__table__, Client.__table__  # Core: every inbound SMS
    owner = sa.select(contacts.c.client_id).where(contacts.c.org_id == org_id,
                                                  contacts.c.e164 == e164)
    existing = session.scalar(owner)
    if existing is not None:
        return existing, False
    client_id = session.scalar(
        insert(clients).values(org_id=org_id, name=guest_name(e164), is_guest=True)
        .returning(clients.c.id)
    )
    won = session.scalar(
        insert(contacts)
        .values(org_id=org_id, client_id=client_id, e164=e164, label="mobile")
        .on_conflict_do_nothing(index_elements=["org_id", "e164"])
        .returning(contacts.c.client_id)
    )
    if won is not None:
        return won, True
    session.execute(sa.delete(clients).where(clients.c.id == client_id))
    return session.scalar(owner), False


def find_or_create_thread(org_id: int, client_id: int, now: datetime | None = None) -> int:
    """The client's one thread (I3), created open if it has none; answers its id.

    One statement: insert, or else read the thread already committed. Only when a concurrent
    insert commits during the statement does it answer nothing, and a second read finds it.
    """
    threads = Thread.__table__
    existing = sa.select(threads.c.id).where(threads.c.org_id == org_id,
                                             threads.c.client_id == client_id)
    inserted = (
        insert(threads)
        .values(org_id=org_id, client_id=client_id, status="open",
                last_activity_at=now or utcnow())
        .on_conflict_do_nothing(index_elements=["org_id", "client_id"])
        .returning(threads.c.id)
        .cte("inserted")
    )
    found = db.session.scalar(sa.select(inserted.c.id).union_all(existing).limit(1))
    return found if found is not None else db.session.scalar(existing)


def add_event(org_id: int, thread_id: int, kind: str, detail: str = "",
              actor_user_id: int | None = None, now: datetime | None = None) -> None:
    """Append a line (closed, reopened, snoozed, merged...) to a thread's timeline."""
    db.session.add(ThreadEvent(org_id=org_id, thread_id=thread_id, kind=kind, detail=detail,
                               actor_user_id=actor_user_id, created_at=now or utcnow()))


def _set_status(org_id: int, thread_id: int, status: str, snoozed_until, kind: str, detail: str,
                actor_user_id: int | None, now: datetime | None) -> None:
    now = now or utcnow()
    changed = db.session.execute(
        sa.update(Thread)
        .where(Thread.id == thread_id, Thread.org_id == org_id)
        .values(status=status, snoozed_until=snoozed_until)
        .returning(Thread.id)
    ).first()
    if changed is None:
        raise NotFound("No such conversation.")
    add_event(org_id, thread_id, kind, detail, actor_user_id, now)
    db.session.commit()


def close_thread(org_id: int, thread_id: int, actor_user_id: int | None,
                 now: datetime | None = None) -> None:
    """Hide the thread from Open until the client writes again (I3: it stays their thread)."""
    _set_status(org_id, thread_id, "closed", None, "closed", "Closed", actor_user_id, now)


def reopen_thread(org_id: int, thread_id: int, actor_user_id: int | None,
                  now: datetime | None = None) -> None:
    """Put the thread back under Open."""
    _set_status(org_id, thread_id, "open", None, "reopened", "Reopened", actor_user_id, now)


def snooze_thread(org_id: int, thread_id: int, until: datetime, actor_user_id: int | None,
                  now: datetime | None = None) -> None:
    """Hide the thread until `until` or the client's next message, whichever comes first."""
    now = now or utcnow()
    if until <= now:
        raise DomainError("Snooze until a time in the future.", "until")
    _set_status(org_id, thread_id, "snoozed", until, "snoozed",
                f"Snoozed until {until.isoformat()}", actor_user_id, now)


def wake_snoozed(org_id: int, now: datetime | None = None) -> int:
    """Reopen the organization's threads whose snooze has ended; answer how many woke."""
    now = now or utcnow()
    woke = db.session.execute(
        sa.text("""
            WITH woke AS (
                UPDATE thread SET status = 'open', snoozed_until = NULL
                WHERE org_id = :org AND status = 'snoozed' AND snoozed_until <= :now
                RETURNING id, org_id
            )
            INSERT INTO thread_event (org_id, thread_id, kind, detail, created_at)
            SELECT org_id, id, 'reopened', 'Snooze ended', :now FROM woke
        """),
        {"org": org_id, "now": now},
    ).rowcount
    if woke:
        db.session.commit()
    return woke


def mark_read(org_id: int, thread_id: int) -> None:
    """Staff opened the thread: nothing in it is unread any more."""
    db.session.execute(
        sa.update(Thread)
        .where(Thread.id == thread_id, Thread.org_id == org_id, Thread.unread_count > 0)
        .values(unread_count=0)
    )
    db.session.commit()


def snooze_until(choice: str, custom: str | None, zone: ZoneInfo, now: datetime) -> datetime:
    """When a snooze ends: '1h', 'tomorrow' (9 AM local), or a local date-time (or 'custom')."""
    if choice == "1h":
        return now + timedelta(hours=1)
    if choice == "tomorrow":
        tomorrow = now.astimezone(zone).date() + timedelta(days=1)
        return datetime.combine(tomorrow, time(9, 0), zone)
    value = custom if choice == "custom" else choice
    try:
        until = datetime.fromisoformat(value or "")
    except ValueError:
        raise DomainError("Pick the time the snooze ends.", "until") from None
    return until if until.tzinfo else until.replace(tzinfo=zone)
