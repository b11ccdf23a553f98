"""Who may come in: signed-in sessions (pawline.sessions) and rate-limit counters
(pawline.rate_limits). Imported at the end of pawline.models, so db.metadata holds them too."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pawline.db import db
from pawline.models import TenantScoped, _pk, _tenant_fk


class UserSession(TenantScoped, db.Model):
    """One signed-in browser. Its cookie holds a random token, this row the token's SHA-256,
    so a copy of the table opens no session. A request is signed in only while its row is
    unrevoked, younger than the absolute limit and seen within the idle limit.

    The migration installs `app_user_ends_sessions`: a change of a user's password or role, or
    deactivating the user, revokes every session of theirs in the same transaction, whatever
    code or console makes the change.
    """

    __tablename__ = "user_session"
    __table_args__ = (
        _tenant_fk("user_id", "app_user"),
        sa.CheckConstraint("token_hash ~ '^[0-9a-f]{64}$'", name="token_hash_is_sha256"),
        sa.CheckConstraint("last_seen_at >= created_at", name="seen_after_created"),
        sa.Index("ix_user_session_user_id", "user_id"),
    )

    id: Mapped[int] = _pk()
    token_hash: Mapped[str] = mapped_column(sa.Text, unique=True)
    user_id: Mapped[int] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class RateLimit(db.Model):
    """How many times a key did something in its current window (pawline.rate_limits): failed
    sign-ins per client address, webhook requests per sender. Shared by every worker and host,
    and counted in one upsert, so concurrent requests cannot slip past the limit."""

    __tablename__ = "rate_limit"
    __table_args__ = (
        sa.CheckConstraint("hits >= 0", name="hits_not_negative"),
        sa.Index("ix_rate_limit_window_ends_at", "window_ends_at"),
    )

    scope: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    key: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    hits: Mapped[int]
    window_ends_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
