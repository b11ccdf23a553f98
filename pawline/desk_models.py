"""The front desk's tables: saved replies, internal notes and replies to send later (thread
assignment is a column of thread). Imported at the end of pawline.models, so db.metadata holds
them too."""

from datetime import datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pawline.db import db
from pawline.model_base import BODY_MAX, UNKNOWN_VARIABLE_SQL
from pawline.models import (
    UNFILLED_VARIABLE_SQL,
    TenantScoped,
    _created,
    _pk,
    _tenant_fk,
)

NAME_MAX, NOTE_MAX = 80, 2000


class SavedReply(TenantScoped, db.Model):
    """A reply the organization keeps, with variables filled in for each thread it is used on."""

    __tablename__ = "saved_reply"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "name"),
        sa.CheckConstraint(f"length(btrim(name)) > 0 AND length(name) <= {NAME_MAX}",
                           name="name_length"),
        sa.CheckConstraint(f"length(btrim(body)) > 0 AND length(body) <= {BODY_MAX}",
                           name="body_length"),
        sa.CheckConstraint(f"body !~ '{UNKNOWN_VARIABLE_SQL}'", name="variables_known"),
    )

    id: Mapped[int] = _pk()
    name: Mapped[str] = mapped_column(sa.Text)
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _created()


class ThreadNote(TenantScoped, db.Model):
    """A line staff write in a thread's timeline for each other; never sent to the client.

    Append-only: the trigger thread_note_append_only refuses a DELETE and an UPDATE of anything
    but thread_id (a client merge moves notes with the messages). A correction is a new note."""

    __tablename__ = "thread_note"
    __table_args__ = (
        _tenant_fk("thread_id", "thread"),
        _tenant_fk("author_user_id", "app_user"),
        sa.CheckConstraint(f"length(btrim(body)) > 0 AND length(body) <= {NOTE_MAX}",
                           name="body_length"),
        sa.Index("ix_thread_note_thread_id_created_at", "thread_id", "created_at"),
        # the words of a note, for the inbox search by word prefix (pawline.search)
        sa.Index("ix_thread_note_body_words", sa.text("to_tsvector('simple'::regconfig, body)"),
                 postgresql_using="gin"),
    )

    id: Mapped[int] = _pk()
    thread_id: Mapped[int] = mapped_column(sa.BigInteger)
    author_user_id: Mapped[int] = mapped_column(sa.BigInteger)
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = _created()


SCHEDULED_STATUSES = ("scheduled", "sent", "canceled", "failed")


class ScheduledMessage(TenantScoped, db.Model):
    """A reply to send later (pawline.scheduled). Sent once: a worker claims it with a conditional
    UPDATE (status 'scheduled' to 'sent') in the transaction that stores its message, whose
    client_token 'scheduled-<id>' is unique in the organization (uq_message_org_id_client_token).
    """

    __tablename__ = "scheduled_message"
    __table_args__ = (
        sa.UniqueConstraint("id", "org_id"),  # for its photos' foreign key (I4)
        _tenant_fk("thread_id", "thread"),
        _tenant_fk("created_by_user_id", "app_user"),
        sa.CheckConstraint(f"status IN ({', '.join(repr(s) for s in SCHEDULED_STATUSES)})",
                           name="status_known"),
        # words or photos, or both, while still to send: the deferred constraint trigger
        # scheduled_message_words_or_photos (and its twin on scheduled_photo) refuses neither
        sa.CheckConstraint(f"length(body) <= {BODY_MAX}", name="body_length"),
        sa.CheckConstraint(f"body !~ '{UNFILLED_VARIABLE_SQL}'", name="no_unfilled_variable"),
        sa.CheckConstraint("status <> 'failed' OR reason IS NOT NULL", name="failed_has_reason"),
        sa.CheckConstraint("(status = 'sent') = (sent_at IS NOT NULL)", name="sent_has_time"),
        # the minute's sweep reads only what is due
        sa.Index("ix_scheduled_message_due", "send_at",
                 postgresql_where=sa.text("status = 'scheduled'")),
        sa.Index("ix_scheduled_message_thread_id_send_at", "thread_id", "send_at"),
    )

    id: Mapped[int] = _pk()
    thread_id: Mapped[int] = mapped_column(sa.BigInteger)
    body: Mapped[str] = mapped_column(sa.Text)
    send_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    status: Mapped[str] = mapped_column(sa.Text, server_default="scheduled")
    reason: Mapped[str | None] = mapped_column(sa.Text)
    created_by_user_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _created()
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


SCHEDULED_PHOTO_TYPES = ("image/jpeg", "image/png", "image/gif")  # what pawline.images makes
MAX_SCHEDULED_PHOTOS, MAX_SCHEDULED_PHOTO_BYTES = 5, 5 * 1024 * 1024


class ScheduledPhoto(TenantScoped, db.Model):
    """A photo of a scheduled reply, already re-encoded (pawline.images: no EXIF, resized) when
    it was scheduled, so the sweep sends exactly these bytes as the message's attachments.
    Kept only while its reply is still to send: sending (its message's attachments are then the
    photos) and cancelling delete it, and the deferred constraint trigger
    scheduled_photo_only_while_scheduled refuses a sent or stopped reply that keeps one."""

    __tablename__ = "scheduled_photo"
    __table_args__ = (
        _tenant_fk("scheduled_id", "scheduled_message"),
        sa.UniqueConstraint("scheduled_id", "position"),
        sa.CheckConstraint(f"position >= 0 AND position < {MAX_SCHEDULED_PHOTOS}",
                           name="position_range"),
        sa.CheckConstraint(f"content_type IN ({', '.join(repr(t) for t in SCHEDULED_PHOTO_TYPES)})",
                           name="content_type_known"),
        sa.CheckConstraint("length(filename) BETWEEN 1 AND 255", name="filename_length"),
        sa.CheckConstraint(f"octet_length(data) BETWEEN 1 AND {MAX_SCHEDULED_PHOTO_BYTES}",
                           name="size_limit"),
    )

    id: Mapped[int] = _pk()
    scheduled_id: Mapped[int] = mapped_column(sa.BigInteger)
    position: Mapped[int] = mapped_column(sa.SmallInteger)
    content_type: Mapped[str] = mapped_column(sa.Text)
    filename: Mapped[str] = mapped_column(sa.Text)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)


class BusinessHours(TenantScoped, db.Model):
    """When the organization answers, per weekday (Monday 0) in its zone: one row a day at most,
    opening before closing. A weekday without a row is closed all day (pawline.after_hours)."""

    __tablename__ = "business_hours"
    __table_args__ = (
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        sa.CheckConstraint("opens < closes", name="opens_before_closes"),
    )

    org_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("organization.id"), primary_key=True)
    weekday: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    opens: Mapped[time] = mapped_column(sa.Time)
    closes: Mapped[time] = mapped_column(sa.Time)
