"""Merging a guest into a known client: one person, one thread (I3), whatever channels they
wrote on. Both client rows are locked in id order; contacts, identities, messages, events,
notes, bookings and windows move to the survivor; the guest and its thread go. One transaction.
"""

from datetime import datetime

import sqlalchemy as sa

from pawline import audit
from pawline.channel_models import ClientIdentity
from pawline.clock import utcnow
from pawline.db import db
from pawline.desk_models import ThreadNote
from pawline.errors import DomainError, NotFound
from pawline.models import (
    AssignmentWindow,
    Booking,
    Client,
    ClientContact,
    Message,
    Thread,
    ThreadEvent,
)
from pawline.threads import add_event

PREVIEW_LENGTH = 160


def _lock_pair(org_id: int, guest_id: int, into_id: int) -> tuple[Client, Client]:
    """Lock both client rows in id order (no deadlock between crossing merges)."""
    if guest_id == into_id:
        raise DomainError("A client cannot be merged into itself.", field="into_client_id")
    locked = {c.id: c for c in db.session.scalars(
        sa.select(Client).where(Client.org_id == org_id, Client.id.in_((guest_id, into_id)))
        .order_by(Client.id).with_for_update()
        .execution_options(populate_existing=True))}
    if guest_id not in locked or into_id not in locked:
        raise NotFound("That client does not exist.")
    return locked[guest_id], locked[into_id]


def _move_contacts(org_id: int, guest_id: int, into_id: int) -> list[str]:
    """Give the guest's phones to the survivor, skipping any it already lists."""
    kept = sa.select(ClientContact.e164).where(ClientContact.client_id == into_id)
    db.session.execute(sa.delete(ClientContact).where(
        ClientContact.org_id == org_id, ClientContact.client_id == guest_id,
        ClientContact.e164.in_(kept)))
    moved = db.session.scalars(
        sa.update(ClientContact)
        .where(ClientContact.org_id == org_id, ClientContact.client_id == guest_id)
        .values(client_id=into_id).returning(ClientContact.e164))
    return sorted(moved)


def _move_identities(org_id: int, guest_id: int, into_id: int) -> list[str]:
    """Give the guest's other channels (web chat, Telegram, Meta) to the survivor. An address is
    one client's only (I15), so none can clash; deleting the guest would cascade them away."""
    moved = db.session.execute(
        sa.update(ClientIdentity)
        .where(ClientIdentity.org_id == org_id, ClientIdentity.client_id == guest_id)
        .values(client_id=into_id).returning(ClientIdentity.channel, ClientIdentity.address))
    return sorted(f"{channel}:{address}" for channel, address in moved)


def _refresh_summary(org_id: int, thread_id: int, extra_unread: int) -> None:
    """Recompute a thread's last message, activity and preview from its messages."""
    last = db.session.execute(
        sa.select(Message.created_at, Message.body, Message.direction, Message.sent_by_user_id)
        .where(Message.org_id == org_id, Message.thread_id == thread_id)
        .order_by(Message.created_at.desc(), Message.id.desc()).limit(1)).first()
    values = {"unread_count": Thread.unread_count + extra_unread}
    if last is not None:
        values.update(last_message_at=last.created_at,
                      last_activity_at=sa.func.greatest(Thread.last_activity_at, last.created_at),
                      last_message_preview=sa.func.left(last.body, PREVIEW_LENGTH),
                      last_message_direction=last.direction,
                      last_message_user_id=last.sent_by_user_id)
    db.session.execute(sa.update(Thread).where(Thread.id == thread_id).values(**values))


def _fold_thread(org_id: int, guest_thread: Thread, into_thread: Thread) -> int:
    """Move a thread's messages, events, notes and windows into another, then delete it."""
    moved = 0
    for model in (Message, ThreadEvent, ThreadNote, AssignmentWindow):
        result = db.session.execute(
            sa.update(model).where(model.org_id == org_id, model.thread_id == guest_thread.id)
            .values(thread_id=into_thread.id))
        if model is Message:
            moved = result.rowcount
    if into_thread.default_number_id is None and guest_thread.default_number_id is not None:
        into_thread.default_number_id = guest_thread.default_number_id
    if guest_thread.status == "open" and guest_thread.unread_count:
        into_thread.status, into_thread.snoozed_until = "open", None  # new words wake it up
    unread = guest_thread.unread_count
    db.session.delete(guest_thread)
    db.session.flush()
    _refresh_summary(org_id, into_thread.id, unread)
    return moved


def _merge_threads(org_id: int, guest_id: int, into_id: int) -> tuple[int | None, int]:
    """Leave the survivor with one thread (I3) holding both histories; answers (id, moved)."""
    threads = {t.client_id: t for t in db.session.scalars(
        sa.select(Thread).where(Thread.org_id == org_id,
                                Thread.client_id.in_((guest_id, into_id)))
        .with_for_update())}
    guest_thread, into_thread = threads.get(guest_id), threads.get(into_id)
    if guest_thread is None:
        return (into_thread.id if into_thread else None), 0
    if into_thread is None:
        guest_thread.client_id = into_id
        db.session.flush()
        moved = db.session.scalar(sa.select(sa.func.count()).select_from(Message)
                                  .where(Message.thread_id == guest_thread.id))
        return guest_thread.id, moved
    return into_thread.id, _fold_thread(org_id, guest_thread, into_thread)


def merge_client(org_id: int, guest_id: int, into_id: int, actor_user_id: int | None,
                 now: datetime | None = None) -> int:
    """Fold a client (typically a guest) into another: phones, thread, bookings, in one commit."""
    now = now or utcnow()
    guest, into = _lock_pair(org_id, guest_id, into_id)
    guest_name, into_name = guest.name, into.name
    contacts = _move_contacts(org_id, guest_id, into_id)
    identities = _move_identities(org_id, guest_id, into_id)
    thread_id, moved_messages = _merge_threads(org_id, guest_id, into_id)
    db.session.execute(sa.update(Booking).where(Booking.org_id == org_id,
                                                Booking.client_id == guest_id)
                       .values(client_id=into_id))
    db.session.delete(guest)
    db.session.flush()
    if thread_id is not None:
        add_event(org_id, thread_id, "merged", f"Merged {guest_name} into {into_name}",
                  actor_user_id=actor_user_id, now=now)
    audit.record(org_id, actor_user_id, "client.merged", "client", into_id, {
        "guest_id": guest_id, "guest_name": guest_name, "into_id": into_id,
        "into_name": into_name, "moved_contacts": contacts,
        "moved_identities": identities, "moved_messages": moved_messages,
        "thread_id": thread_id}, now=now)
    db.session.commit()
    return into_id
