"""The data model. Each invariant of docs/design.md (I1-I11) is a constraint here or in migrations.

Tenancy (I4): every row that points at a client, thread, number, sitter, booking or user points
with a composite foreign key `(x_id, org_id) -> x (id, org_id)`, so it cannot name a row of another
organization. Those targets carry `UNIQUE (id, org_id)` for the foreign keys to reference.
"""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from pawline.db import db

# The variables of a saved reply (pawline.saved_replies), here for message's check: a known
# variable left as typed ({booking_start}) is never sent to a client.
VARIABLES = ("client_first_name", "client_name", "sitter_name", "booking_start", "booking_end",
             "business_name")
UNFILLED_VARIABLE_SQL = rf"\{{({'|'.join(VARIABLES)})\}}"

ROLES = ("owner", "staff", "sitter")
NUMBER_CLASSES = ("front_desk", "sitter", "pool")
NUMBER_STATUSES = ("active", "quarantined")
THREAD_STATUSES = ("open", "snoozed", "closed")
DIRECTIONS = ("inbound", "outbound")
MESSAGE_STATUSES = (
    "received", "queued", "sending", "sent", "delivered", "undelivered", "failed",
    "unconfirmed", "canceled",
)
BOOKING_STATUSES = ("pending", "confirmed", "cancelled")
E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _pk() -> Mapped[int]:
    return mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)


def _created() -> Mapped[datetime]:
    return mapped_column(sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _tenant_fk(column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column, "org_id"], [f"{target}.id", f"{target}.org_id"])


class TenantScoped:
    """A row that belongs to one organization (pawline.tenancy filters queries on it)."""

    org_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("organization.id"), nullable=False
    )


class Organization(db.Model):
    __tablename__ = "organization"
    __table_args__ = (
        sa.CheckConstraint(r"slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name="slug_format"),
        sa.CheckConstraint("length(btrim(name)) > 0", name="name_present"),
        sa.CheckConstraint("help_reply IS NULL OR length(btrim(help_reply)) BETWEEN 1 AND 320",
                           name="help_reply_length"),
        sa.CheckConstraint("after_hours_reply IS NULL OR length(btrim(after_hours_reply)) "
                           "BETWEEN 1 AND 320", name="after_hours_reply_length"),
    )

    id: Mapped[int] = _pk()
    name: Mapped[str] = mapped_column(sa.Text)
    slug: Mapped[str] = mapped_column(sa.Text, unique=True)
    timezone: Mapped[str] = mapped_column(sa.Text, server_default="America/New_York")
    default_region: Mapped[str] = mapped_column(sa.String(2), server_default="US")
    webhook_secret: Mapped[str] = mapped_column(sa.Text)
    # The answer to HELP or INFO, as the owner wrote it; empty for the default (pawline.consent).
    help_reply: Mapped[str | None] = mapped_column(sa.Text)
    # What a client texting outside business hours is told; empty: no reply (pawline.after_hours).
    after_hours_reply: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = _created()


class User(TenantScoped, UserMixin, db.Model):
    __tablename__ = "app_user"
    __table_args__ = (
        sa.UniqueConstraint("id", "org_id"),
        sa.CheckConstraint(_in("role", ROLES), name="role_known"),
        sa.CheckConstraint("email = lower(email) AND email LIKE '%_@_%'", name="email_format"),
        sa.CheckConstraint("length(name) <= 100", name="name_length"),
    )

    id: Mapped[int] = _pk()
    email: Mapped[str] = mapped_column(sa.Text, unique=True)
    name: Mapped[str] = mapped_column(sa.Text, server_default="")
    password_hash: Mapped[str] = mapped_column(sa.Text)
    role: Mapped[str] = mapped_column(sa.Text)
    active: Mapped[bool] = mapped_column(server_default=sa.true())
    created_at: Mapped[datetime] = _created()

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active


class SignInThrottle(db.Model):
    """Failed sign-ins per email in the current window (pawline.accounts.authenticate).

    Not an organization's row: it is keyed by whatever email was typed, known or not, so the
    throttle answers the same for every email and tells nobody which ones have accounts.
    """

    __tablename__ = "sign_in_throttle"
    __table_args__ = (
        sa.CheckConstraint("failures > 0", name="failures_positive"),
        sa.Index("ix_sign_in_throttle_window_started_at", "window_started_at"),
    )

    email: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    failures: Mapped[int]
    window_started_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class Client(TenantScoped, db.Model):
    __tablename__ = "client"
    __table_args__ = (
        sa.UniqueConstraint("id", "org_id"),
        sa.CheckConstraint("length(btrim(name)) > 0", name="name_present"),
        sa.CheckConstraint("length(notes) <= 2000", name="notes_length"),
        sa.Index("ix_client_org_id_name", "org_id", sa.text("lower(name)"), "id"),
        # the words of a name, for search by word prefix (pawline.search)
        sa.Index("ix_client_name_words", sa.text("to_tsvector('simple'::regconfig, name)"),
                 postgresql_using="gin"),
    )

    id: Mapped[int] = _pk()
    name: Mapped[str] = mapped_column(sa.Text)
    is_guest: Mapped[bool] = mapped_column(server_default=sa.false())
    notes: Mapped[str] = mapped_column(sa.Text, server_default="")
    created_at: Mapped[datetime] = _created()


class ClientContact(TenantScoped, db.Model):
    __tablename__ = "client_contact"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "e164"),  # I1
        sa.UniqueConstraint("client_id", "e164"),  # I2
        sa.ForeignKeyConstraint(
            ["client_id", "org_id"], ["client.id", "client.org_id"], ondelete="CASCADE"
        ),
        sa.CheckConstraint(f"e164 ~ '{E164_PATTERN}'", name="e164_format"),
    )

    id: Mapped[int] = _pk()
    client_id: Mapped[int] = mapped_column(sa.BigInteger)
    e164: Mapped[str] = mapped_column(sa.Text)
    label: Mapped[str] = mapped_column(sa.Text, server_default="mobile")
    verified: Mapped[bool] = mapped_column(server_default=sa.false())
    created_at: Mapped[datetime] = _created()


class Sitter(TenantScoped, db.Model):
    __tablename__ = "sitter"
    __table_args__ = (
        sa.UniqueConstraint("id", "org_id"),
        _tenant_fk("user_id", "app_user"),
        sa.CheckConstraint("length(btrim(name)) > 0", name="name_present"),
        sa.CheckConstraint(f"phone_e164 ~ '{E164_PATTERN}'", name="phone_e164_format"),
    )

    id: Mapped[int] = _pk()
    name: Mapped[str] = mapped_column(sa.Text)
    phone_e164: Mapped[str | None] = mapped_column(sa.Text)
    user_id: Mapped[int | None] = mapped_column(sa.BigInteger, unique=True)
    active: Mapped[bool] = mapped_column(server_default=sa.false())
    created_at: Mapped[datetime] = _created()


class MessageNumber(TenantScoped, db.Model):
    __tablename__ = "message_number"
    __table_args__ = (
        sa.UniqueConstraint("id", "org_id"),
        _tenant_fk("assigned_sitter_id", "sitter"),
        sa.CheckConstraint(_in("number_class", NUMBER_CLASSES), name="class_known"),
        sa.CheckConstraint(_in("status", NUMBER_STATUSES), name="status_known"),
        sa.CheckConstraint(f"e164 ~ '{E164_PATTERN}'", name="e164_format"),
        sa.CheckConstraint(
            "status <> 'quarantined' OR "
            "(quarantine_release_at IS NOT NULL AND assigned_sitter_id IS NULL)",
            name="quarantined_is_unassigned",
        ),
        sa.CheckConstraint(
            "number_class <> 'front_desk' OR assigned_sitter_id IS NULL",
            name="front_desk_unassigned",
        ),
        sa.CheckConstraint(
            "label IS NULL OR (length(btrim(label)) BETWEEN 1 AND 40 AND label = btrim(label))",
            name="label_present",
        ),
        sa.Index(
            "uq_message_number_front_desk",
            "org_id",
            unique=True,
            postgresql_where=sa.text("number_class = 'front_desk'"),
        ),
    )

    id: Mapped[int] = _pk()
    e164: Mapped[str] = mapped_column(sa.Text, unique=True)  # I8
    label: Mapped[str | None] = mapped_column(sa.Text)  # empty: derived (pawline.lines)
    number_class: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.Text, server_default="active")
    assigned_sitter_id: Mapped[int | None] = mapped_column(sa.BigInteger, unique=True)  # I5
    quarantined_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    quarantine_release_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    quarantine_reason: Mapped[str | None] = mapped_column(sa.Text)
    restored_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    restore_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = _created()


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
    )

    id: Mapped[int] = _pk()
    thread_id: Mapped[int] = mapped_column(sa.BigInteger)
    kind: Mapped[str] = mapped_column(sa.Text)
    detail: Mapped[str] = mapped_column(sa.Text, server_default="")
    actor_user_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = _created()


class Booking(TenantScoped, db.Model):
    """A cancelled booking is final: the trigger booking_cancelled_is_final refuses changes to
    its status, sitter, times and versions (a client merge may still move its client_id)."""

    __tablename__ = "booking"
    __table_args__ = (
        sa.UniqueConstraint("id", "org_id"),
        sa.UniqueConstraint("org_id", "external_ref"),
        _tenant_fk("client_id", "client"),
        _tenant_fk("sitter_id", "sitter"),
        sa.CheckConstraint(_in("status", BOOKING_STATUSES), name="status_known"),
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )

    id: Mapped[int] = _pk()
    client_id: Mapped[int] = mapped_column(sa.BigInteger)
    sitter_id: Mapped[int] = mapped_column(sa.BigInteger)
    starts_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    status: Mapped[str] = mapped_column(sa.Text, server_default="pending")
    external_ref: Mapped[str | None] = mapped_column(sa.Text)
    # The booking system's `updated_at` of the payload last applied: versions only advance
    # (trigger booking_versions_only_advance), so a replayed or late payload changes nothing.
    external_updated_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = _created()


class AssignmentWindow(TenantScoped, db.Model):
    __tablename__ = "assignment_window"
    __table_args__ = (
        _tenant_fk("thread_id", "thread"),
        _tenant_fk("booking_id", "booking"),
        _tenant_fk("sitter_id", "sitter"),
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.Index("ix_assignment_window_thread_id_starts_at", "thread_id", "starts_at"),
        sa.Index("ix_assignment_window_sitter_id_ends_at", "sitter_id", "ends_at"),
    )

    id: Mapped[int] = _pk()
    thread_id: Mapped[int] = mapped_column(sa.BigInteger)
    booking_id: Mapped[int] = mapped_column(sa.BigInteger, unique=True)  # I7
    sitter_id: Mapped[int] = mapped_column(sa.BigInteger)
    starts_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = _created()


class AuditEvent(TenantScoped, db.Model):
    """Append-only (I9): the migrations install triggers that refuse UPDATE, DELETE and
    TRUNCATE."""

    __tablename__ = "audit_event"
    __table_args__ = (
        _tenant_fk("actor_user_id", "app_user"),
        sa.Index("ix_audit_event_org_id_id", "org_id", "id"),
    )

    id: Mapped[int] = _pk()
    actor_user_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    action: Mapped[str] = mapped_column(sa.Text)
    entity_type: Mapped[str] = mapped_column(sa.Text)
    entity_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=sa.text("'{}'::jsonb"))
    created_at: Mapped[datetime] = _created()


# Sessions and rate-limit counters, consent, attachments, saved replies and notes live in
# modules of their own; importing them here puts their tables in db.metadata wherever the
# models are loaded (migrations, tests, the app).
from pawline import (  # noqa: E402,F401
    access_models,
    booking_message_models,
    channel_models,
    consent_models,
    desk_models,
    media_models,
)
