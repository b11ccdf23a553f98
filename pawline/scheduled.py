"""Send later: a reply scheduled for a time in the organization's zone, sent once when due.

Until it is due a scheduled reply can be edited or cancelled. The periodic job (pawline.jobs)
sweeps every minute; each due reply is claimed by a conditional UPDATE ('scheduled' to 'sent')
in the same transaction that stores its message, so of any number of workers exactly one sends
it, and the message's client_token 'scheduled-<id>' (unique per organization) stores it once
even if a claim were ever repeated. The number is chosen by the routing rules at that moment,
not when it was scheduled, and the routing trace says so.

A reply to a phone that has opted out since it was scheduled is cancelled, with the reason the
thread shows: queue_message refuses the send (OptedOut) while it holds the phone's consent row,
so a STOP stored at the same moment waits for the claim's commit and is seen either way.
"""

from datetime import datetime, timedelta

import sqlalchemy as sa

from pawline import consent, outbound
from pawline.accounts import org_zone
from pawline.clock import utcnow
from pawline.db import db
from pawline.desk_models import ScheduledMessage
from pawline.errors import DomainError, NotFound
from pawline.saved_replies import friendly_time

HORIZON = timedelta(days=366)
SWEEP_LIMIT = 200  # per sweep; the next minute's takes the rest


def _check_time(send_at: datetime, now: datetime) -> None:
    if send_at.tzinfo is None:
        raise DomainError("Pick a date and time.", "send_at")
    if send_at <= now:
        raise DomainError("Pick a time in the future.", "send_at")
    if send_at > now + HORIZON:
        raise DomainError("Schedule at most a year ahead.", "send_at")


def schedule_message(org_id: int, thread_id: int, body: str, send_at: datetime,
                     user_id: int | None, now: datetime | None = None) -> int:
    """Keep a reply to send at `send_at`; answers its id."""
    now = now or utcnow()
    text = outbound.clean_body(body)
    _check_time(send_at, now)
    if db.session.scalar(sa.text("SELECT 1 FROM thread WHERE id = :t AND org_id = :o"),
                         {"t": thread_id, "o": org_id}) is None:
        raise NotFound("No such conversation.")
    scheduled_id = db.session.scalar(sa.insert(ScheduledMessage).values(
        org_id=org_id, thread_id=thread_id, body=text, send_at=send_at,
        created_by_user_id=user_id, created_at=now, updated_at=now).returning(ScheduledMessage.id))
    db.session.commit()
    return scheduled_id


def _pending(org_id: int, thread_id: int, scheduled_id: int, now: datetime):
    """The WHERE of a reply that may still change: this thread's, scheduled, not yet due."""
    return sa.and_(ScheduledMessage.id == scheduled_id, ScheduledMessage.org_id == org_id,
                   ScheduledMessage.thread_id == thread_id,
                   ScheduledMessage.status == "scheduled", ScheduledMessage.send_at > now)


def _change(org_id: int, thread_id: int, scheduled_id: int, now: datetime, **values) -> None:
    changed = db.session.scalar(sa.update(ScheduledMessage)
                                .where(_pending(org_id, thread_id, scheduled_id, now))
                                .values(updated_at=now, **values).returning(ScheduledMessage.id))
    if changed is None:
        db.session.rollback()
        exists = db.session.scalar(sa.select(ScheduledMessage.id).where(
            ScheduledMessage.id == scheduled_id, ScheduledMessage.org_id == org_id,
            ScheduledMessage.thread_id == thread_id))
        if exists is None:
            raise NotFound("No such scheduled message.")
        raise DomainError("This message is already sent or cancelled.")
    db.session.commit()


def update_scheduled(org_id: int, thread_id: int, scheduled_id: int, body: str,
                     send_at: datetime, now: datetime | None = None) -> None:
    """Change the words or the time of a reply that is not yet due."""
    now = now or utcnow()
    text = outbound.clean_body(body)
    _check_time(send_at, now)
    _change(org_id, thread_id, scheduled_id, now, body=text, send_at=send_at)


def cancel_scheduled(org_id: int, thread_id: int, scheduled_id: int,
                     now: datetime | None = None) -> None:
    """Cancel a reply that is not yet due."""
    _change(org_id, thread_id, scheduled_id, now or utcnow(), status="canceled")


def for_thread(org_id: int, thread_id: int) -> list[ScheduledMessage]:
    """The thread's replies still to send, and those the system cancelled or could not send."""
    return db.session.scalars(sa.select(ScheduledMessage).where(
        ScheduledMessage.org_id == org_id, ScheduledMessage.thread_id == thread_id,
        sa.or_(ScheduledMessage.status == "scheduled", ScheduledMessage.reason.is_not(None)),
        ScheduledMessage.status != "sent")
        .order_by(ScheduledMessage.send_at, ScheduledMessage.id).limit(20)).all()


def send_due(provider_name: str, now: datetime | None = None,
             status_callback: str | None = None) -> int:
    """Send every reply due at `now` (each exactly once); answers how many this call sent."""
    now = now or utcnow()
    due = db.session.execute(
        sa.select(ScheduledMessage.id).where(ScheduledMessage.status == "scheduled",
                                             ScheduledMessage.send_at <= now)
        .order_by(ScheduledMessage.send_at).limit(SWEEP_LIMIT)).scalars().all()
    db.session.rollback()
    return sum(send_one(i, provider_name, now, status_callback) for i in due)


def send_one(scheduled_id: int, provider_name: str, now: datetime,
             status_callback: str | None = None) -> bool:
    """Claim one due reply and store its message, in one transaction; False if another worker
    had it, or it was refused (cancelled for an opt-out, else failed, with the reason)."""
    claimed = db.session.execute(
        sa.update(ScheduledMessage)
        .where(ScheduledMessage.id == scheduled_id, ScheduledMessage.status == "scheduled",
               ScheduledMessage.send_at <= now)
        .values(status="sent", sent_at=now, updated_at=now).returning(ScheduledMessage)).first()
    if claimed is None:
        db.session.rollback()
        return False
    row = claimed[0]
    zone = org_zone(row.org_id)
    note = (f"Scheduled on {friendly_time(row.created_at, zone)} for "
            f"{friendly_time(row.send_at, zone)}: this number was chosen when it was sent.")
    try:
        outbound.queue_message(row.org_id, row.thread_id, row.body, row.created_by_user_id,
                      provider_name, f"scheduled-{row.id}", now, status_callback=status_callback,
                      route_note=note)
    except consent.OptedOut as refused:  # opted out since it was scheduled
        _stop(row.id, "canceled", refused.message, now)
        return False
    except DomainError as refused:
        _stop(row.id, "failed", refused.message, now)
        return False
    db.session.commit()  # queue_message commits; a repeated claim found its message instead
    return True


def _stop(scheduled_id: int, status: str, reason: str, now: datetime) -> None:
    db.session.rollback()
    db.session.execute(sa.update(ScheduledMessage).where(
        ScheduledMessage.id == scheduled_id, ScheduledMessage.status == "scheduled")
        .values(status=status, reason=reason, updated_at=now))
    db.session.commit()
