"""Organizations and users: creation, password hashing and sign-in checks."""

import math
import re
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.dialects.postgresql import insert

from pawline.clock import utcnow
from pawline.db import add_or_explain, db
from pawline.errors import DomainError, DuplicateRecord, NotFound
from pawline.models import ROLES, Organization, SignInThrottle, User

# Argon2id at OWASP's floor (m=19 MiB, t=2, p=1): strong, and quick enough for a test suite.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_DUMMY_HASH = _hasher.hash("not a password")
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    """Hash a new password with Argon2id."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.", "password")
    return _hasher.hash(password)


class TooManySignIns(DomainError):
    field = "password"


def authenticate(email: str, password: str, now: datetime | None = None) -> User | None:
    """The active user with this email and password, or None (timing does not reveal which).

    After MAX_FAILED_SIGN_INS wrong passwords for an email within SIGN_IN_WINDOW, that email is
    refused (TooManySignIns) until the window ends, before any password is checked. Unknown
    emails count the same, so the throttle reveals no accounts.
    """
    now = now or utcnow()
    key = email.strip().lower()
    if len(key) > EMAIL_MAX:  # no account's email; and a throttle row could not be keyed by it
        return None
    _refuse_while_throttled(key, now)
    user = db.session.scalar(sa.select(User).where(User.email == key))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        user = None
    if user is None or not user.active:
        _count_failure(key, now)
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    db.session.execute(sa.delete(SignInThrottle).where(SignInThrottle.email == key))
    db.session.commit()
    return user


MAX_FAILED_SIGN_INS = 5
EMAIL_MAX = 254  # RFC 5321's longest address; a key past ~2,700 bytes breaks a unique index
SIGN_IN_WINDOW = timedelta(minutes=15)


def _refuse_while_throttled(key: str, now: datetime) -> None:
    row = db.session.execute(
        sa.select(SignInThrottle.failures, SignInThrottle.window_started_at)
        .where(SignInThrottle.email == key)).first()
    if row is None or row.failures < MAX_FAILED_SIGN_INS:
        return
    remaining = row.window_started_at + SIGN_IN_WINDOW - now
    if remaining > timedelta(0):
        minutes = math.ceil(remaining.total_seconds() / 60)
        raise TooManySignIns(f"Too many failed sign-ins for this email. Try again in {minutes} "
                             f"minute{'s' if minutes != 1 else ''}.")


def _count_failure(key: str, now: datetime) -> None:
    """One more failure in the email's window, or the first of a new one: one upsert."""
    table, since = SignInThrottle.__table__, now - SIGN_IN_WINDOW
    current = table.c.window_started_at > since
    upsert = insert(table).values(email=key, failures=1, window_started_at=now)
    db.session.execute(upsert.on_conflict_do_update(
        index_elements=[table.c.email],
        set_={"failures": sa.case((current, table.c.failures + 1), else_=1),
              "window_started_at": sa.case((current, table.c.window_started_at), else_=now)}))
    db.session.execute(sa.delete(table).where(table.c.window_started_at <= since))  # stale ones
    db.session.commit()


def slugify(name: str) -> str:
    """A URL-safe slug from an organization's name."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "org"


def create_org(name: str, slug: str | None = None, timezone: str = "America/New_York",
               region: str = "US") -> Organization:
    """Create an organization; a taken slug is a DuplicateRecord."""
    if not name.strip():
        raise DomainError("An organization needs a name.", "name")
    org = Organization(
        name=name.strip(), slug=slug or slugify(name), timezone=timezone,
        default_region=region, webhook_secret=secrets.token_hex(32),
    )
    return add_or_explain(org, {
        "uq_organization_slug": DuplicateRecord(f"The slug {org.slug!r} is taken.", "slug"),
        "ck_organization_slug_format": DomainError(
            f"{org.slug!r} is not a slug: use lowercase letters, digits and dashes.", "slug"),
    })


def org_by_slug(slug: str) -> Organization:
    """The organization with this slug, or NotFound."""
    org = db.session.scalar(sa.select(Organization).where(Organization.slug == slug))
    if org is None:
        raise NotFound(f"No organization has the slug {slug!r}.")
    return org


def org_zone(org_id: int) -> ZoneInfo:
    """The organization's time zone: forms are read and times shown in it (UTC if unknown)."""
    name = db.session.scalar(sa.select(Organization.timezone).where(Organization.id == org_id))
    try:
        return ZoneInfo(name or "UTC")
    except ZoneInfoNotFoundError:
        return ZoneInfo("UTC")


def org_region(org_id: int) -> str:
    """The region phone numbers without a country code are read in."""
    region = db.session.scalar(
        sa.select(Organization.default_region).where(Organization.id == org_id))
    if region is None:
        raise NotFound("That organization does not exist.")
    return region


def create_user(org_id: int, email: str, password: str, role: str, name: str = "") -> User:
    """Create a user of an organization; a taken email is a DuplicateRecord."""
    if role not in ROLES:
        raise DomainError(f"Role must be one of {', '.join(ROLES)}.", "role")
    email = email.strip().lower()
    if len(email) > EMAIL_MAX:
        raise DomainError(f"An email address has at most {EMAIL_MAX} characters.", "email")
    if not re.fullmatch(r"[^@\s]+@[^@\s]+", email):
        raise DomainError(f"{email!r} is not an email address.", "email")
    user = User(org_id=org_id, email=email, password_hash=hash_password(password), role=role,
                name=name.strip() or email.split("@")[0])
    return add_or_explain(user, {
        "uq_app_user_email": DuplicateRecord(f"A user with the email {email} exists.", "email"),
    })


def register_org(name: str, owner_email: str, owner_password: str, slug: str | None = None
                 ) -> Organization:
    """Create an organization with its first owner, both or neither."""
    try:
        org = create_org(name, slug)
        create_user(org.id, owner_email, owner_password, "owner")
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return org


def add_user(org_slug: str, email: str, password: str, role: str) -> User:
    """Create a user in the organization with this slug, and commit."""
    try:
        user = create_user(org_by_slug(org_slug).id, email, password, role)
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return user
