"""Sending due rows exactly once: the shape send later (pawline.scheduled) and the automatic
booking messages (pawline.booking_messages) share, kept in one place so they cannot drift.

Such a table keeps a message to send at a time: a status whose waiting value the minute's sweep
reads (through a partial index on the due time), and 'sent' with sent_at once it is sent. Each
due row is claimed by a conditional UPDATE (waiting to 'sent') in the transaction that then stores
its message, so of any number of workers exactly one sends it. A send that is refused rolls the
claim back and stops the row instead, with the reason the thread or the booking shows:
'canceled' for a phone that opted out, 'failed' for anything else (no number can send it, ...).
A table may name what else goes when a row leaves waiting (`finish`, run in that transaction,
sent or stopped): send later deletes the reply's kept photos.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from pawline import consent
from pawline.db import db
from pawline.errors import DomainError

SWEEP_LIMIT = 200  # rows per sweep; the next minute's takes the rest


@dataclass(frozen=True)
class DueSends:
    model: type  # a TenantScoped model with id, status, sent_at, updated_at, reason
    waiting: str  # the status of a row still to send
    due_column: str  # the column of the time it is due
    finish: Callable[[int], object] | None = None  # given the row's id, in the same transaction

    @property
    def _due(self):
        return getattr(self.model, self.due_column)

    def due_ids(self, now: datetime) -> list[int]:
        """The ids of the rows due at `now`, oldest first (read outside any claim)."""
        ids = db.session.scalars(sa.select(self.model.id).where(
            self.model.status == self.waiting, self._due <= now)
            .order_by(self._due).limit(SWEEP_LIMIT)).all()
        db.session.rollback()
        return list(ids)

    def claim(self, row_id: int, now: datetime):
        """The row, now 'sent' in this open transaction; None (rolled back) if another worker
        had it or it is no longer due."""
        claimed = db.session.execute(
            sa.update(self.model)
            .where(self.model.id == row_id, self.model.status == self.waiting, self._due <= now)
            .values(status="sent", sent_at=now, updated_at=now).returning(self.model)).first()
        if claimed is None:
            db.session.rollback()
            return None
        return claimed[0]

    def send(self, row_id: int, now: datetime, queue: Callable[[], object]) -> bool:
        """Run `queue` (which stores the claimed row's message) and commit the claim with it;
        a refusal stops the row with its reason instead. True when the message was stored."""
        try:
            self._finish(row_id)  # committed by queue with the message, or rolled back with it
            queue()
        except consent.OptedOut as refused:  # opted out since the row was planned
            self.stop(row_id, "canceled", refused.message, now)
            return False
        except DomainError as refused:
            self.stop(row_id, "failed", refused.message, now)
            return False
        db.session.commit()  # queue_message commits; a repeated claim found its message instead
        return True

    def stop(self, row_id: int, status: str, reason: str, now: datetime) -> None:
        """Roll back a claim and leave the row `status` with the reason, in its own commit."""
        db.session.rollback()
        stopped = db.session.execute(sa.update(self.model).where(
            self.model.id == row_id, self.model.status == self.waiting)
            .values(status=status, reason=reason, updated_at=now))
        if stopped.rowcount:
            self._finish(row_id)
        db.session.commit()

    def _finish(self, row_id: int) -> None:
        if self.finish is not None:
            self.finish(row_id)
