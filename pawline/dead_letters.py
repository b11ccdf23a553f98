"""Inbound SMS that a signed webhook delivered but that cannot be a message: kept, never dropped.

Twilio does not send an SMS again when its webhook fails, so a text from a short code (12345),
an alphanumeric sender (PAWBANK), to a number in no pool, or with a field we cannot read would
be lost. The webhook keeps each one here with the form as posted (control characters written
out as \\xNN: PostgreSQL's JSONB refuses NUL) and why, logs it, and owners see their
organization's on the dead letters page. One whose `To` is in no pool belongs to no
organization: only the log line shows it.
"""

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import Mapped, mapped_column

from pawline.db import db
from pawline.errors import InvalidPhone
from pawline.inputs import escaped, scrub
from pawline.models import E164_PATTERN, MessageNumber
from pawline.phones import normalize_phone

log = logging.getLogger("pawline.inbound")
PAGE = 200


class InboundDeadLetter(db.Model):
    __tablename__ = "inbound_dead_letter"
    __table_args__ = (
        sa.UniqueConstraint("provider", "provider_sid"),  # a replayed request is kept once
        sa.Index("ix_inbound_dead_letter_org_id_received_at", "org_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    org_id: Mapped[int | None] = mapped_column(sa.BigInteger, sa.ForeignKey("organization.id"))
    provider: Mapped[str] = mapped_column(sa.Text)
    provider_sid: Mapped[str | None] = mapped_column(sa.Text)  # only a well-formed one
    raw: Mapped[dict[str, Any]] = mapped_column(JSONB)
    reason: Mapped[str] = mapped_column(sa.Text)
    received_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True),
                                                  server_default=sa.func.now())


@dataclass(frozen=True)
class DeadLetterRow:
    received_at: datetime
    sender: str
    to: str
    body: str
    reason: str


def record(provider: str, provider_sid: str | None, form: dict[str, list[str]], reason: str,
           now: datetime | None = None) -> None:
    """Keep a delivered SMS that could not be stored as a message, log it, and commit."""
    db.session.rollback()  # nothing half-written by the attempt to store it stays
    raw = {escaped(key): [escaped(v) for v in values] if len(values) != 1 else escaped(values[0])
           for key, values in form.items()}
    to = scrub(next(iter(form.get("To", [])), ""))
    org_id = _org_of(to)
    values = {"org_id": org_id, "provider": provider, "provider_sid": provider_sid, "raw": raw,
              "reason": reason[:1000]}
    if now is not None:
        values["received_at"] = now
    db.session.execute(insert(InboundDeadLetter).values(**values)
                       .on_conflict_do_nothing(index_elements=["provider", "provider_sid"]))
    db.session.commit()
    log.warning("Inbound SMS kept as a dead letter (organization %s, sid %s): %s", org_id,
                provider_sid, escaped(reason[:200]))


def _org_of(to: str) -> int | None:
    """The organization whose pool holds `to`, if any."""
    text = to.strip()
    if not re.fullmatch(E164_PATTERN, text):
        try:
            text = normalize_phone(text, "US")
        except InvalidPhone:
            return None
    return db.session.scalar(sa.select(MessageNumber.org_id).where(MessageNumber.e164 == text))


def recent(org_id: int, limit: int = PAGE) -> list[DeadLetterRow]:
    """The organization's dead letters, newest first."""
    letters = db.session.scalars(
        sa.select(InboundDeadLetter).where(InboundDeadLetter.org_id == org_id)
        .order_by(InboundDeadLetter.received_at.desc(), InboundDeadLetter.id.desc()).limit(limit))
    return [DeadLetterRow(letter.received_at, _text(letter.raw, "From"), _text(letter.raw, "To"),
                          _text(letter.raw, "Body"), letter.reason) for letter in letters]


def count(org_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(InboundDeadLetter)
                             .where(InboundDeadLetter.org_id == org_id))


def _text(raw: dict, key: str) -> str:
    value = raw.get(key, "")
    return " / ".join(value) if isinstance(value, list) else str(value)
