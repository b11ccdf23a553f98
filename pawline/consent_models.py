"""Consent to be texted, per phone within an organization (pawline.consent). Imported at the end
of pawline.models, so db.metadata holds these tables wherever the models are loaded."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pawline.db import db
from pawline.models import E164_PATTERN, TenantScoped, _created, _pk

CONSENT_SOURCES = ("keyword", "provider")


class ConsentEvent(TenantScoped, db.Model):
    """One change of a phone's consent: opted out or back in, when, and what said so.

    Only ever added: the migration installs `consent_event_append_only` (UPDATE, DELETE) and
    `consent_event_never_truncated`, and `consent_event_sets_state`, which writes the phone's
    current state into `phone_consent` in the same statement.
    """

    __tablename__ = "consent_event"
    __table_args__ = (
        sa.CheckConstraint(f"e164 ~ '{E164_PATTERN}'", name="e164_format"),
        sa.CheckConstraint("source IN ('keyword', 'provider')", name="source_known"),
        sa.CheckConstraint("source <> 'keyword' OR keyword IS NOT NULL", name="keyword_named"),
        sa.Index("ix_consent_event_org_id_e164_id", "org_id", "e164", "id"),
    )

    id: Mapped[int] = _pk()
    e164: Mapped[str] = mapped_column(sa.Text)
    opted_out: Mapped[bool]
    source: Mapped[str] = mapped_column(sa.Text)
    keyword: Mapped[str | None] = mapped_column(sa.Text)
    # The inbound keyword, or the outbound message the provider refused. No foreign key:
    # messages are never deleted (I10), and message has no (id, org_id) key to point at.
    message_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    detail: Mapped[str] = mapped_column(sa.Text, server_default="")
    created_at: Mapped[datetime] = _created()


class PhoneConsent(TenantScoped, db.Model):
    """A phone's consent now: what its latest event says (trigger `phone_consent_follows_events`
    refuses anything else). A send holds this row (FOR SHARE) until the provider has answered,
    so a STOP is stored either before a send is decided, which then refuses, or after it."""

    __tablename__ = "phone_consent"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "e164"),
        sa.CheckConstraint(f"e164 ~ '{E164_PATTERN}'", name="e164_format"),
        sa.CheckConstraint("(last_event_id IS NULL) = (changed_at IS NULL)",
                           name="change_has_event"),
    )

    id: Mapped[int] = _pk()
    e164: Mapped[str] = mapped_column(sa.Text)
    opted_out: Mapped[bool] = mapped_column(server_default=sa.false())
    changed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_event_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    # When the database wrote the state (clock_timestamp(), after any send holding the row).
    stored_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"))
