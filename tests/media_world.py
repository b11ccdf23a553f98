"""Inbound files in the tests: the attachment rows, their fetch jobs, time moved on for a retry,
and everything the database holds, as text, to look for a secret in."""

import sqlalchemy as sa
from sqlalchemy.orm import undefer

from pawline.db import db
from pawline.media_models import Attachment


def attachments() -> list[Attachment]:
    """Every attachment, with its bytes, in the order stored."""
    return db.session.scalars(sa.select(Attachment).order_by(Attachment.id).options(
        undefer(Attachment.data), undefer(Attachment.thumbnail))).all()


def fetch_jobs() -> list:
    return db.session.execute(sa.text(
        "SELECT (args->>'attachment_id')::bigint AS id, status, scheduled_at "
        "FROM procrastinate_jobs WHERE task_name = 'fetch_attachment' ORDER BY id")).all()


def retries_due_now() -> None:
    """The waits before retries have passed: every scheduled job is due."""
    db.session.execute(sa.text("UPDATE procrastinate_jobs SET scheduled_at = now() "
                               "WHERE status = 'todo' AND scheduled_at > now()"))
    db.session.commit()


def whole_database_as_text() -> str:
    """Every row of every table of the schema (the job queue's included), as PostgreSQL
    prints it: bytea as hex, so a secret's bytes show as its hex too."""
    tables = db.session.scalars(sa.text(
        "SELECT quote_ident(table_name) FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")).all()
    return "\n".join(row for table in tables for row in db.session.scalars(
        sa.text(f"SELECT t::text FROM {table} t")))
