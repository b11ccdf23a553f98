"""Internal notes: what staff write on a thread for each other, never sent to the client.

Notes are append-only (the trigger thread_note_append_only): a note is what a colleague said
at that moment, which others may already have acted on, so it is never edited or removed
behind their backs; a correction is a new note, and the timeline keeps both. Only a client
merge moves a note, with the messages, to the surviving thread.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from pawline.clock import utcnow
from pawline.db import db
from pawline.desk_models import NOTE_MAX, ThreadNote
from pawline.errors import DomainError, NotFound
from pawline.models import Thread, User


@dataclass(frozen=True)
class NoteLine:
    """A note as the timeline shows it."""

    id: int
    body: str
    author: str
    created_at: datetime


def add_note(org_id: int, thread_id: int, author_user_id: int, body: str | None,
             now: datetime | None = None) -> int:
    """Add a note to the thread's timeline; answers its id."""
    text = (body or "").strip()
    if not text:
        raise DomainError("Write the note first.", "body")
    if len(text) > NOTE_MAX:
        raise DomainError(f"A note has at most {NOTE_MAX} characters.", "body")
    thread = db.session.scalar(sa.select(Thread.id).where(Thread.id == thread_id,
                                                          Thread.org_id == org_id))
    if thread is None:
        raise NotFound("No such conversation.")
    note_id = db.session.scalar(sa.insert(ThreadNote).values(
        org_id=org_id, thread_id=thread_id, author_user_id=author_user_id, body=text,
        created_at=now or utcnow()).returning(ThreadNote.id))
    db.session.commit()
    return note_id


def notes_query(org_id: int, thread_id: int) -> sa.Select:
    """The thread's notes with their authors' names (one query; narrow it with created_at)."""
    author = sa.func.coalesce(sa.func.nullif(User.name, ""), User.email)
    return (sa.select(ThreadNote.id, ThreadNote.body, author.label("author"),
                      ThreadNote.created_at)
            .join(User, sa.and_(User.id == ThreadNote.author_user_id,
                                User.org_id == ThreadNote.org_id))
            .where(ThreadNote.org_id == org_id, ThreadNote.thread_id == thread_id))


def note_lines(statement: sa.Select) -> list[NoteLine]:
    """Run a notes_query() and answer its lines."""
    return [NoteLine(*row) for row in db.session.execute(statement)]
