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

from pawline import audit, rate_limits
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

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after  # whole seconds, for a Retry-After header


MAX_FAILED_SIGN_INS = 5  # per email
MAX_FAILED_SIGN_INS_PER_ADDRESS = 20  # per client address (the setting's default)
SIGN_IN_WINDOW = timedelta(minutes=15)
EMAIL_MAX = 254  # RFC 5321's longest address; a key past ~2,700 bytes breaks a unique index
ADDRESS_SCOPE = "sign-in address"  # pawline.rate_limits scope: failed sign-ins per address


def authenticate(email: str, password: str, now: datetime | None = None,
                 address: str | None = None,
                 per_address: int = MAX_FAILED_SIGN_INS_PER_ADDRESS) -> User | None:
    """The active user with this email and password, or None (timing does not reveal which).

    Every attempt is counted before any password is checked: per email (MAX_FAILED_SIGN_INS in
    SIGN_IN_WINDOW, OWASP ASVS 2.2.1) and, given the client's `address`, per address
    (`per_address`, so spraying many emails from one address stops too). Each count is one
    upsert, committed at once, so of N concurrent guesses only those within the limit reach
    Argon2; the rest are refused (TooManySignIns) for one cheap statement, not Argon2's CPU and
    memory. A right password takes its attempt back: the email starts over, the address counts
    one fewer. Unknown emails count the same, so the throttle reveals no accounts.
    """
    now = now or utcnow()
    key = email.strip().lower()
    if len(key) > EMAIL_MAX:  # no account's email; and a throttle row could not be keyed by it
        return None
    by_address = _count_attempt(key, address, per_address, now)
    user = db.session.scalar(sa.select(User).where(User.email == key))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        user = None
    if user is None or not user.active:
        db.session.execute(sa.delete(SignInThrottle).where(
            SignInThrottle.window_started_at <= now - SIGN_IN_WINDOW))  # stale ones
        rate_limits.forget_expired(now)
        db.session.commit()
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    db.session.execute(sa.delete(SignInThrottle).where(SignInThrottle.email == key))
    if by_address is not None:
        rate_limits.give_back(ADDRESS_SCOPE, rate_limits.address_key(address), by_address)
    db.session.commit()
    return user


def _count_attempt(key: str, address: str | None, per_address: int,
                   now: datetime) -> rate_limits.Count | None:
    """Count this attempt for the address, then the email; refuse it past either limit."""
    by_address = None
    if address is not None:
        by_address = rate_limits.count(ADDRESS_SCOPE, rate_limits.address_key(address),
                                       per_address, SIGN_IN_WINDOW, now)
        if by_address.over:
            db.session.commit()
            raise _refusal("from your network", by_address.retry_after(now))
    failures, started = _count_for_email(key, now)
    db.session.commit()
    if failures > MAX_FAILED_SIGN_INS:
        raise _refusal("for this email",
                       rate_limits.wait_seconds(started + SIGN_IN_WINDOW - now, SIGN_IN_WINDOW))
    return by_address


def _refusal(whose: str, seconds: int) -> TooManySignIns:
    minutes = math.ceil(seconds / 60)
    return TooManySignIns(f"Too many failed sign-ins {whose}. Try again in {minutes} "
                          f"minute{'s' if minutes != 1 else ''}.", retry_after=seconds)


def _count_for_email(key: str, now: datetime) -> tuple[int, datetime]:
    """One more attempt in the email's window, or the first of a new one: one upsert that
    answers the attempts so far and when the window started."""
    table = SignInThrottle.__table__
    current = table.c.window_started_at > now - SIGN_IN_WINDOW
    upsert = insert(table).values(email=key, failures=1, window_started_at=now)
    row = db.session.execute(upsert.on_conflict_do_update(
        index_elements=[table.c.email],
        set_={"failures": sa.case((current, table.c.failures + 1), else_=1),
              "window_started_at": sa.case((current, table.c.window_started_at), else_=now)},
    ).returning(table.c.failures, table.c.window_started_at)).one()
    return row.failures, row.window_started_at


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


# Emails are global (uq_app_user_email): one refusal for an address taken anywhere, which does
# not say whether a colleague or another organization has it (docs/design.md, Tenancy).
EMAIL_UNUSABLE = "{email} cannot be used for a new sign-in; choose another email."


def create_user(org_id: int, email: str, password: str, role: str, name: str = "") -> User:
    """Create a user of an organization; an email taken in any organization is a
    DuplicateRecord that does not say where."""
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
        "uq_app_user_email": DuplicateRecord(EMAIL_UNUSABLE.format(email=email), "email"),
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


# Each change below ends every session of the user in its own transaction: the trigger
# app_user_ends_sessions revokes them as the row changes (pawline.sessions).

def _user_by_email(email: str) -> User:
    user = db.session.scalar(
        sa.select(User).where(User.email == email.strip().lower()).with_for_update())
    if user is None:
        raise NotFound(f"No user has the email {email.strip()!r}.")
    return user


def _commit_change(user: User, action: str, data: dict, actor_user_id: int | None) -> User:
    audit.record(user.org_id, actor_user_id, action, "user", user.id, data)
    db.session.commit()
    return user


def change_password(email: str, password: str, actor_user_id: int | None = None) -> User:
    """Give a user a new password; every session of theirs ends."""
    try:
        user = _user_by_email(email)
        user.password_hash = hash_password(password)
    except Exception:
        db.session.rollback()
        raise
    return _commit_change(user, "user.password_changed", {}, actor_user_id)


def change_role(email: str, role: str, actor_user_id: int | None = None) -> User:
    """Give a user another role; every session of theirs ends (a new role, a new sign-in)."""
    if role not in ROLES:
        raise DomainError(f"Role must be one of {', '.join(ROLES)}.", "role")
    try:
        user = _user_by_email(email)
        old, user.role = user.role, role
    except Exception:
        db.session.rollback()
        raise
    return _commit_change(user, "user.role_changed", {"from": old, "to": role}, actor_user_id)


def set_active(email: str, active: bool, actor_user_id: int | None = None) -> User:
    """Let a user sign in again, or stop them: deactivating ends every session of theirs."""
    try:
        user = _user_by_email(email)
        user.active = active
    except Exception:
        db.session.rollback()
        raise
    return _commit_change(user, "user.activated" if active else "user.deactivated", {},
                          actor_user_id)
