"""Signed-in sessions kept in PostgreSQL, so the server can end them (OWASP ASVS 7.4.1, 7.4.3).

Flask's session cookie is signed but lives in the browser: a copy made before sign-out would
open pages until it expired. So the cookie also carries a random token, and a request is signed
in only while the token's row in `user_session` says so:

- not revoked: sign-out revokes its own row, "Sign out everywhere" every row of the user, and
  the trigger `app_user_ends_sessions` every row of a user whose password or role changes or
  who is deactivated (in that same transaction, from any code or console);
- signed in less than SESSION_MAX_AGE_SECONDS ago, however busy (the absolute limit);
- seen less than SESSION_IDLE_SECONDS ago (the idle limit). `last_seen_at` is written at most
  once per SEEN_EVERY, not on every request, so the idle limit is exact to within that.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from pawline import audit
from pawline.access_models import UserSession
from pawline.db import db
from pawline.models import User

SEEN_EVERY = timedelta(minutes=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _dead(now: datetime, max_age: timedelta, idle: timedelta):
    """Sessions that can never open a page again."""
    return sa.or_(UserSession.revoked_at.is_not(None), UserSession.created_at <= now - max_age,
                  UserSession.last_seen_at <= now - idle)


def _limits(max_age: int | None, idle: int | None) -> tuple[timedelta, timedelta]:
    config = current_app.config
    return (timedelta(seconds=max_age or config["SESSION_MAX_AGE_SECONDS"]),
            timedelta(seconds=idle or config["SESSION_IDLE_SECONDS"]))


def start_session(user: User, now: datetime) -> str:
    """A new session for a user who just proved their password; answers its token (for the
    cookie, never stored). The user's dead sessions go, so the table stays small unpruned."""
    max_age, idle = _limits(None, None)
    db.session.execute(sa.delete(UserSession).where(UserSession.user_id == user.id,
                                                    _dead(now, max_age, idle)))
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(org_id=user.org_id, user_id=user.id, token_hash=_digest(token),
                               created_at=now, last_seen_at=now))
    db.session.commit()
    return token


def session_user(token: str | None, user_id: int, now: datetime) -> User | None:
    """The active user this session token signs in, or None if the session has ended."""
    if not token:
        return None
    max_age, idle = _limits(None, None)
    row = db.session.execute(
        sa.select(User, UserSession.id, UserSession.last_seen_at)
        .join(UserSession, sa.and_(UserSession.user_id == User.id,
                                   UserSession.org_id == User.org_id))
        .where(UserSession.token_hash == _digest(token), User.id == user_id,
               User.active.is_(True), sa.not_(_dead(now, max_age, idle)))).first()
    if row is None:
        return None
    if now - row.last_seen_at >= SEEN_EVERY:
        db.session.execute(sa.update(UserSession).where(UserSession.id == row.id).values(
            last_seen_at=sa.func.greatest(UserSession.last_seen_at, now)))
        db.session.commit()
    return row.User


def end_session(token: str | None, now: datetime) -> None:
    """Sign-out: this session opens nothing from now on, whoever holds a copy of its cookie."""
    if token:
        db.session.execute(sa.update(UserSession).where(
            UserSession.token_hash == _digest(token), UserSession.revoked_at.is_(None),
        ).values(revoked_at=now))
        db.session.commit()


def end_every_session(org_id: int, user_id: int, now: datetime) -> int:
    """"Sign out everywhere": end every session of this user; answers how many were live."""
    ended = db.session.execute(sa.update(UserSession).where(
        UserSession.org_id == org_id, UserSession.user_id == user_id,
        UserSession.revoked_at.is_(None)).values(revoked_at=now)).rowcount
    audit.record(org_id, user_id, "user.signed_out_everywhere", "user", user_id,
                 {"sessions_ended": ended}, now=now)
    db.session.commit()
    return ended


def prune_sessions(now: datetime, max_age: int | None = None, idle: int | None = None) -> int:
    """Delete sessions that can never open a page again (revoked, too old or idle too long);
    answers how many. Meant to run periodically; sign-in also clears a user's own."""
    max_age_delta, idle_delta = _limits(max_age, idle)
    deleted = db.session.execute(
        sa.delete(UserSession).where(_dead(now, max_age_delta, idle_delta))).rowcount
    db.session.commit()
    return deleted
