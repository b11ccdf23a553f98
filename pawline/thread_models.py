"""Threads and what they hold: each client's one thread (I3), its messages (I6, I10) and the
other lines of its timeline. Imported by pawline.models, which re-exports these classes."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from pawline.db import db
from pawline.model_base import UNFILLED_VARIABLE_SQL, TenantScoped, _created, _in, _pk, _tenant_fk

THREAD_STATUSES = ("open", "snoozed", "closed")
DIRECTIONS = ("inbound", "outbound")
MESSAGE_STATUSES = (
    "received", "queued", "sending", "sent", "delivered", "undelivered", "failed",
    "unconfirmed", "canceled",
)


class Thread(TenantScoped, db.Model):
    __tablename__ = "thread"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "client_id"),  # I3
        sa.UniqueConstraint("id", "org_id"),
        _tenant_fk("client_id", "client"),
        _tenant_fk("default_number_id", "message_number"),
        _tenant_fk("last_message_user_id", "app_user"),
        sa.CheckConstraint(_in("status", THREAD_STATUSES), name="status_known"),
        sa.CheckConstraint(
            "(status = 'snoozed') = (snoozed_until IS NOT NULL)", name="snooze_has_time"
        ),
        sa.CheckConstraint("unread_count >= 0", name="unread_not_negative"),
        # The inbox reads these backwards: newest activity first, keyset on (activity, id).
        sa.Index("ix_thread_inbox", "org_id", "status", "last_activity_at", "id"),
        sa.Index("ix_thread_activity", "org_id", "last_activity_at", "id"),
        # every list view first wakes the threads whose snooze ended (threads.wake_snoozed)
        sa.Index("ix_thread_snoozed", "org_id", "snoozed_until",
                 postgresql_where=sa.text("status = 'snoozed'")),
        # who the thread is assigned to (pawline.assignment): a user of the same organization
        _tenant_fk("assignee_user_id", "app_user"),
        # the inbox's Mine filter, with and without a status tab
        sa.Index("ix_thread_assignee_inbox", "org_id", "assignee_user_id", "status",
                 "last_activity_at", "id"),
        sa.Index("ix_thread_assignee_activity", "org_id", "assignee_user_id", "last_activity_at",
                 "id"),
        # and Unassigned: partial, as an IS NULL column cannot lead an ordered index scan
        sa.Index("ix_thread_unassigned_inbox", "org_id", "status", "last_activity_at", "id",
                 postgresql_where=sa.text("assignee_user_id IS NULL")),
        sa.Index("ix_thread_unassigned_activity", "org_id", "last_activity_at", "id",
                 postgresql_where=sa.text("assignee_user_id IS NULL")),
    )

    id: Mapped[int] = _pk()
    client_id: Mapped[int] = mapped_column(sa.BigInteger)
    status: Mapped[str] = mapped_column(sa.Text, server_default="open")
    snoozed_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    default_number_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    last_message_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # The inbox sorts on this: the last message, or the thread's creation before any message.
    last_activity_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    last_message_preview: Mapped[str | None] = mapped_column(sa.Text)
    last_message_direction: Mapped[str | None] = mapped_column(sa.Text)
    last_message_user_id: Mapped[int | None] = mapped_column(sa.BigInteger)  # its author
    unread_count: Mapped[int] = mapped_column(server_default="0")
    assignee_user_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    # when the after-hours reply last went out: claimed by one conditional UPDATE per 12 hours
    after_hours_replied_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = _created()


class Message(TenantScoped, db.Model):
    """Kept as stored (I10): the trigger message_never_rewritten refuses a DELETE, and an UPDATE
    of anything but thread_id and the delivery state (status, status_updated_at, provider_sid
    once, error_code, error_message, attempts, next_attempt_at, queued_at); a column added here
    is protected unless a migration adds it to message_refuse_rewrite()'s list."""

    __tablename__ = "message"
    __table_args__ = (
        sa.UniqueConstraint("provider", "provider_sid"),  # I6
        sa.UniqueConstraint("org_id", "client_token"),
        sa.UniqueConstraint("id", "org_id"),  # for attachments' foreign key (I4)
        _tenant_fk("thread_id", "thread"),
        _tenant_fk("number_id", "message_number"),
        _tenant_fk("sent_by_user_id", "app_user"),
        sa.CheckConstraint(_in("direction", DIRECTIONS), name="direction_known"),
        sa.CheckConstraint(_in("status", MESSAGE_STATUSES), name="status_known"),
        sa.CheckConstraint(
            "direction = 'inbound' OR routing_trace IS NOT NULL", name="outbound_has_trace"
        ),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # a saved reply's variable left unfilled ({booking_start}) never goes to a client
        sa.CheckConstraint(
            f"direction = 'inbound' OR body !~ '{UNFILLED_VARIABLE_SQL}'",
            name="no_unfilled_variable"),
        sa.CheckConstraint("auto_reply IS NULL OR (auto_reply IN ('help', 'after_hours', "
                           "'booking_confirmation', 'booking_reminder') "
                           "AND direction = 'outbound')", name="auto_reply_known"),
        sa.Index("ix_message_thread_id_id", "thread_id", "id"),
        # a conversation's first message, first inbound and first reply (pawline/conversations)
        sa.Index("ix_message_thread_id_created_at", "thread_id", "created_at", "id"),
        sa.CheckConstraint("channel IN ('sms', 'whatsapp', 'webchat', 'telegram', 'messenger', "
                           "'instagram')", name="channel_known"),
    )

    id: Mapped[int] = _pk()
    thread_id: Mapped[int] = mapped_column(sa.BigInteger)
    direction: Mapped[str] = mapped_column(sa.Text)
    body: Mapped[str] = mapped_column(sa.Text)
    from_e164: Mapped[str] = mapped_column(sa.Text)
    to_e164: Mapped[str] = mapped_column(sa.Text)
    number_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    status: Mapped[str] = mapped_column(sa.Text)
    provider: Mapped[str] = mapped_column(sa.Text)
    provider_sid: Mapped[str | None] = mapped_column(sa.Text)
    routing_trace: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error_code: Mapped[str | None] = mapped_column(sa.Text)
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    flag: Mapped[str | None] = mapped_column(sa.Text)
    num_media: Mapped[int] = mapped_column(server_default="0")
    sent_by_user_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    client_token: Mapped[str | None] = mapped_column(sa.Text)
    # 'help': the automatic answer to HELP, which a phone gets even when opted out.
    auto_reply: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = _created()
    status_updated_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(server_default="0")  # times handed to the provider
    next_attempt_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    queued_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))  # by a person
    # where it was written or goes (pawline.channels); from_e164 and to_e164 then hold that
    # channel's addresses (a phone, a chat id, a page-scoped id, a widget key)
    channel: Mapped[str] = mapped_column(sa.Text, server_default="sms")


class ThreadEvent(TenantScoped, db.Model):
    """A line in a thread's timeline that is not a message: closed, reopened, snoozed, merged."""

    __tablename__ = "thread_event"
    __table_args__ = (
        _tenant_fk("thread_id", "thread"),
        _tenant_fk("actor_user_id", "app_user"),
        sa.Index("ix_thread_event_thread_id_created_at", "thread_id", "created_at"),
        # the Closed tab's Conversations: an organization's closes, newest first, keyset
        sa.Index("ix_thread_event_closed", "org_id", "created_at", "id",
                 postgresql_where=sa.text("kind = 'closed'")),
    )

    id: Mapped[int] = _pk()
    thread_id: Mapped[int] = mapped_column(sa.BigInteger)
    kind: Mapped[str] = mapped_column(sa.Text)
    detail: Mapped[str] = mapped_column(sa.Text, server_default="")
    actor_user_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = _created()
