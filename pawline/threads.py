"""Clients by phone and their one thread (I1, I3): atomic find-or-create, never look-then-create.

Each function runs inside the caller's transaction and does not commit; under any number of
concurrent callers the result is the same rows as one caller.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from pawline.clock import utcnow
from pawline.db import db, run_sql
from pawline.errors import DomainError, NotFound
from pawline.models import Thread, ThreadEvent


def guest_name(e164: str) -> str:
    return f"Guest ({e164})"


# Plain SQL through run_sql: these run for every inbound SMS (pawline.inbound).
OWNER_OF_PHONE = "SELECT client_id FROM client_contact WHERE org_id = %(org)s AND e164 = %(e164)s"
INSERT_GUEST = ("INSERT INTO client (org_id, name, is_guest) VALUES (%(org)s, %(name)s, true) "
                "RETURNING id")
INSERT_CONTACT = """
    INSERT INTO client_contact (org_id, client_id, e164, label)
    VALUES (%(org)s, %(client)s, %(e164)s, 'mobile')
    ON CONFLICT (org_id, e164) DO NOTHING RETURNING client_id"""
THREAD_OF_CLIENT = "SELECT id FROM thread WHERE org_id = %(org)s AND client_id = %(client)s"
INSERT_OR_FIND_THREAD = f"""
    WITH inserted AS (
        INSERT INTO thread (org_id, client_id, status, last_activity_at)
        VALUES (%(org)s, %(client)s, 'open', %(now)s)
        ON CONFLICT (org_id, client_id) DO NOTHING RETURNING id)
    SELECT id FROM inserted UNION ALL ({THREAD_OF_CLIENT}) LIMIT 1"""


def find_or_create_client_by_phone(org_id: int, e164: str) -> tuple[int, bool]:
    """The client whose contact is `e164` in this organization, made a guest if new.

    Answers (client_id, created). A new client and its contact are inserted together; when a
    concurrent caller wins the contact's unique index (I1), our client row is removed again in
    this transaction and the winner's client is answered.
    """
    key = {"org": org_id, "e164": e164}
    existing = run_sql(OWNER_OF_PHONE, key).fetchone()
    if existing is not None:
        return existing[0], False
    client_id = run_sql(INSERT_GUEST, {**key, "name": guest_name(e164)}).fetchone()[0]
    won = run_sql(INSERT_CONTACT, {**key, "client": client_id}).fetchone()
    if won is not None:
        return won[0], True
    run_sql("DELETE FROM client WHERE id = %(client)s", {"client": client_id})
    return run_sql(OWNER_OF_PHONE, key).fetchone()[0], False


def find_or_create_thread(org_id: int, client_id: int, now: datetime | None = None) -> int:
    """The client's one thread (I3), created open if it has none; answers its id.

    One statement: insert, or else read the thread already committed. Only when a concurrent
    insert commits during the statement does it answer nothing, and a second read finds it.
    """
    key = {"org": org_id, "client": client_id}
    found = run_sql(INSERT_OR_FIND_THREAD, {**key, "now": now or utcnow()}).fetchone()
    return found[0] if found is not None else run_sql(THREAD_OF_CLIENT, key).fetchone()[0]


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


SNOOZE_MAX = timedelta(days=366)


def snooze_thread(org_id: int, thread_id: int, until: datetime, actor_user_id: int | None,
                  now: datetime | None = None) -> None:
    """Hide the thread until `until` or the client's next message, whichever comes first."""
    now = now or utcnow()
    if until <= now:
        raise DomainError("Snooze until a time in the future.", "until")
    if until > now + SNOOZE_MAX:  # year 9999 was saved, then every read of the thread failed
        raise DomainError("Snooze for a year at most.", "until")
    _set_status(org_id, thread_id, "snoozed", until, "snoozed",
                f"Snoozed until {until.isoformat()}", actor_user_id, now)


def wake_snoozed(org_id: int | None, now: datetime | None = None) -> int:
    """Reopen the threads whose snooze has ended (one organization's, or with None every one's).

    The periodic job runs it every minute; list views run it for their organization too, so a
    list is right even between runs. It is idempotent: a woken thread is no longer snoozed.
    """
    now = now or utcnow()
    which = "org_id = :org AND" if org_id is not None else ""  # ix_thread_snoozed either way
    woke = db.session.execute(
        sa.text(f"""
            WITH woke AS (
                UPDATE thread SET status = 'open', snoozed_until = NULL
                WHERE {which} status = 'snoozed' AND snoozed_until <= :now
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
