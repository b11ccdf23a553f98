"""Automatic booking messages' tables: each organization's settings per kind, and one row per
booking and kind (uq_booking_message_org_id_booking_id_kind) that a worker claims to send it once.
Imported at the end of pawline.models, so db.metadata holds them too."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pawline.db import db
from pawline.model_base import BODY_MAX, UNKNOWN_VARIABLE_SQL
from pawline.models import TenantScoped, _created, _pk, _tenant_fk

KINDS = ("confirmation", "reminder")
STATUSES = ("pending", "sent", "canceled", "failed")
LEAD_MIN, LEAD_MAX = 15, 14 * 24 * 60  # a reminder's lead, in minutes: 15 minutes to two weeks


def _kinds() -> str:
    return f"kind IN ({', '.join(repr(k) for k in KINDS)})"


class BookingMessageSetting(TenantScoped, db.Model):
    """An organization's choice for one kind: on or off, its template, a reminder's lead.
    No row is the default (on, the default template, 24 hours)."""

    __tablename__ = "booking_message_setting"
    __table_args__ = (
        sa.PrimaryKeyConstraint("org_id", "kind"),
        sa.CheckConstraint(_kinds(), name="kind_known"),
        sa.CheckConstraint(f"length(btrim(body)) > 0 AND length(body) <= {BODY_MAX}",
                           name="body_length"),
        sa.CheckConstraint(f"body !~ '{UNKNOWN_VARIABLE_SQL}'", name="variables_known"),
        sa.CheckConstraint(f"(kind = 'reminder') = (lead_minutes IS NOT NULL) AND "
                           f"(lead_minutes IS NULL OR lead_minutes BETWEEN {LEAD_MIN} AND "
                           f"{LEAD_MAX})", name="lead_for_reminders"),
    )

    kind: Mapped[str] = mapped_column(sa.Text)
    enabled: Mapped[bool] = mapped_column(sa.Boolean)
    body: Mapped[str] = mapped_column(sa.Text)
    lead_minutes: Mapped[int | None] = mapped_column(sa.Integer)
    updated_at: Mapped[datetime] = _created()


class BookingMessage(TenantScoped, db.Model):
    """One automatic message of a booking (pawline.booking_messages): created pending when the
    booking is confirmed, claimed 'pending' to 'sent' by one worker in the transaction storing
    its message (client_token 'booking-<id>'), canceled with the reason otherwise."""

    __tablename__ = "booking_message"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "booking_id", "kind"),
        _tenant_fk("booking_id", "booking"),
        sa.CheckConstraint(_kinds(), name="kind_known"),
        sa.CheckConstraint(f"status IN ({', '.join(repr(s) for s in STATUSES)})",
                           name="status_known"),
        sa.CheckConstraint("status IN ('pending', 'sent') OR reason IS NOT NULL",
                           name="stopped_has_reason"),
        sa.CheckConstraint("(status = 'sent') = (sent_at IS NOT NULL)", name="sent_has_time"),
        sa.Index("ix_booking_message_due", "due_at",
                 postgresql_where=sa.text("status = 'pending'")),
    )

    id: Mapped[int] = _pk()
    booking_id: Mapped[int] = mapped_column(sa.BigInteger)
    kind: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.Text, server_default="pending")
    due_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _created()
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
