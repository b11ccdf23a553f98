"""What the client page shows besides phones: the conversation's latest, bookings, notes."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from pawline import media
from pawline.db import db
from pawline.errors import DomainError, NotFound
from pawline.models import Booking, Client, Message, Sitter

NOTES_MAX = 2000
RECENT_MESSAGES = 5
BOOKINGS_SHOWN = 20


@dataclass(frozen=True)
class ClientBooking:
    id: int
    sitter_name: str
    starts_at: datetime
    ends_at: datetime
    status: str


def client_bookings(org_id: int, client_id: int, limit: int = BOOKINGS_SHOWN
                    ) -> list[ClientBooking]:
    """The client's bookings with their sitter, latest start first."""
    rows = db.session.execute(
        sa.select(Booking.id, Sitter.name, Booking.starts_at, Booking.ends_at, Booking.status)
        .join(Sitter, sa.and_(Sitter.id == Booking.sitter_id, Sitter.org_id == Booking.org_id))
        .where(Booking.org_id == org_id, Booking.client_id == client_id)
        .order_by(Booking.starts_at.desc(), Booking.id.desc()).limit(limit)).all()
    return [ClientBooking(*row) for row in rows]


@dataclass(frozen=True)
class RecentMessage:
    direction: str
    created_at: datetime
    text: str  # its words, or with none what it carries ("📷 Photo"), as the inbox says


def recent_messages(org_id: int, thread_id: int | None, limit: int = RECENT_MESSAGES
                    ) -> list[RecentMessage]:
    """The newest messages of the client's thread, oldest of them first."""
    if thread_id is None:
        return []
    found = db.session.scalars(
        sa.select(Message).where(Message.org_id == org_id, Message.thread_id == thread_id)
        .order_by(Message.id.desc()).limit(limit)).all()
    files = media.for_messages(org_id, [m.id for m in found if m.num_media])
    return [RecentMessage(m.direction, m.created_at, media.preview(
        m.body, [a.content_type for a in files.get(m.id, [])])) for m in reversed(found)]


def set_notes(org_id: int, client_id: int, notes: str | None) -> str:
    """Keep what the front desk knows about a client ("pets: Biscuit, beagle, pill at 8")."""
    text = (notes or "").replace("\r\n", "\n").strip()
    if len(text) > NOTES_MAX:
        raise DomainError(f"Notes can have at most {NOTES_MAX:,} characters.", "notes")
    changed = db.session.execute(
        sa.update(Client).where(Client.id == client_id, Client.org_id == org_id)
        .values(notes=text).returning(Client.id)).first()
    if changed is None:
        raise NotFound("No such client.")
    db.session.commit()
    return text
