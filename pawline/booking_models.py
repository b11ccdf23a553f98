"""Bookings and the windows in which their sitter sees the client's thread (I7). Imported by
pawline.models, which re-exports these classes."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pawline.db import db
from pawline.model_base import TenantScoped, _created, _in, _pk, _tenant_fk

BOOKING_STATUSES = ("pending", "confirmed", "cancelled")


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
