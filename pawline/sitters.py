"""Sitters: their sign-in, their one masked number (I5), and which client threads they may see.

A sitter sees a client's thread only while one of its confirmed bookings with that client has an
assignment window open now (starts_at <= now < ends_at), and only while the sitter is active.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from pawline.db import db
from pawline.models import AssignmentWindow, Booking, MessageNumber, Sitter


def _active_windows(org_id: int, user_id: int, now: datetime) -> sa.Select:
    return (
        sa.select(AssignmentWindow.thread_id)
        .join(Booking, sa.and_(Booking.id == AssignmentWindow.booking_id,
                               Booking.org_id == AssignmentWindow.org_id))
        .join(Sitter, sa.and_(Sitter.id == AssignmentWindow.sitter_id,
                              Sitter.org_id == AssignmentWindow.org_id))
        .where(
            AssignmentWindow.org_id == org_id,
            Sitter.user_id == user_id,
            Sitter.active.is_(True),
            Booking.status == "confirmed",
            AssignmentWindow.starts_at <= now,
            AssignmentWindow.ends_at > now,
        )
    )


def visible_thread_ids(org_id: int, user_id: int, now: datetime) -> set[int]:
    """Threads the sitter linked to this user covers right now (an active window, confirmed)."""
    return set(db.session.scalars(_active_windows(org_id, user_id, now)))


def sitter_can_see_thread(org_id: int, user_id: int, thread_id: int, now: datetime) -> bool:
    """True while this sitter user has an active window on this thread."""
    query = _active_windows(org_id, user_id, now).where(AssignmentWindow.thread_id == thread_id)
    return db.session.scalar(sa.select(query.exists())) is True


def sitter_for_user(org_id: int, user_id: int) -> Sitter | None:
    """The sitter record linked to this sign-in, if any."""
    return db.session.scalar(
        sa.select(Sitter).where(Sitter.org_id == org_id, Sitter.user_id == user_id)
    )


def sitter_number(org_id: int, sitter_id: int) -> MessageNumber | None:
    """The masked number this sitter holds, if any."""
    return db.session.scalar(
        sa.select(MessageNumber).where(MessageNumber.org_id == org_id,
                                       MessageNumber.assigned_sitter_id == sitter_id)
    )


@dataclass(frozen=True)
class ActivationResult:
    number: str | None
    newly_assigned: bool
