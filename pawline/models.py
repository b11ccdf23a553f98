"""The data model. Each invariant of docs/design.md (I1-I11) is a constraint here or in migrations.

This module holds the core tables (organizations, users, clients and their phones, sitters,
numbers, the audit log) and re-exports every other model's class, so `from pawline.models
import X` finds any of them: threads and messages in pawline.thread_models, bookings in
pawline.booking_models, the shared helpers and tenancy (I4) in pawline.model_base.
"""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from pawline.db import db
from pawline.model_base import (  # noqa: F401 - re-exported for the other modules
    E164_PATTERN,
    UNFILLED_VARIABLE_SQL,
    VARIABLES,
    TenantScoped,
    _created,
    _in,
    _pk,
    _tenant_fk,
)

ROLES = ("owner", "staff", "sitter")
NUMBER_CLASSES = ("front_desk", "sitter", "pool")
NUMBER_STATUSES = ("active", "quarantined")


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


# Threads and messages, bookings, sessions and rate-limit counters, consent, attachments, saved
# replies and notes live in modules of their own; importing them here puts their tables in
# db.metadata wherever the models are loaded (migrations, tests, the app).
from pawline import (  # noqa: E402,F401
    access_models,
    booking_message_models,
    channel_models,
    consent_models,
    desk_models,
    media_models,
)
from pawline.booking_models import BOOKING_STATUSES, AssignmentWindow, Booking  # noqa: E402,F401
from pawline.thread_models import (  # noqa: E402,F401
    DIRECTIONS,
    MESSAGE_STATUSES,
    THREAD_STATUSES,
    Message,
    Thread,
    ThreadEvent,
)
