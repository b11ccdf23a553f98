"""Sitters: their sign-in, their one masked number (I5), and which client threads they may see.

A sitter sees a client's thread only while one of its confirmed bookings with that client has an
assignment window open now (starts_at <= now < ends_at), and only while the sitter is active.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from pawline import accounts, audit, numbers
from pawline.accounts import org_region
from pawline.clients import NAME_MAX
from pawline.clock import utcnow
from pawline.db import add_or_explain, constraint_name, db
from pawline.errors import DomainError, DuplicateRecord, NotFound
from pawline.models import (
    AssignmentWindow,
    Booking,
    Client,
    MessageNumber,
    Sitter,
    Thread,
    User,
)
from pawline.phones import client_name, normalize_phone

NO_NUMBER = "No masked number available: add one to the pool."


def _active_windows(org_id: int, user_id: int, now: datetime) -> sa.Select:
    return (
        sa.select(AssignmentWindow.thread_id)
        .join(Booking, sa.and_(Booking.id == AssignmentWindow.booking_id,
                               Booking.org_id == AssignmentWindow.org_id))
        .join(Sitter, sa.and_(Sitter.id == AssignmentWindow.sitter_id,
                              Sitter.org_id == AssignmentWindow.org_id))
        .where(
            AssignmentWindow.org_id == org_id,
            Sitter.user_id == user_id,
            Sitter.active.is_(True),
            Booking.status == "confirmed",
            AssignmentWindow.starts_at <= now,
            AssignmentWindow.ends_at > now,
        )
    )


def visible_thread_ids(org_id: int, user_id: int, now: datetime) -> set[int]:
    """Threads the sitter linked to this user covers right now (an active window, confirmed)."""
    return set(db.session.scalars(_active_windows(org_id, user_id, now)))


def sitter_can_see_thread(org_id: int, user_id: int, thread_id: int, now: datetime) -> bool:
    """True while this sitter user has an active window on this thread."""
    query = _active_windows(org_id, user_id, now).where(AssignmentWindow.thread_id == thread_id)
    return db.session.scalar(sa.select(query.exists())) is True


def sitter_for_user(org_id: int, user_id: int) -> Sitter | None:
    """The sitter record linked to this sign-in, if any."""
    return db.session.scalar(
        sa.select(Sitter).where(Sitter.org_id == org_id, Sitter.user_id == user_id)
    )


def sitter_number(org_id: int, sitter_id: int) -> MessageNumber | None:
    """The masked number this sitter holds, if any."""
    return db.session.scalar(
        sa.select(MessageNumber).where(MessageNumber.org_id == org_id,
                                       MessageNumber.assigned_sitter_id == sitter_id)
    )


@dataclass(frozen=True)
class ActivationResult:
    number: str | None
    newly_assigned: bool


@dataclass(frozen=True)
class SitterRow:
    sitter: Sitter
    number: str | None
    email: str | None
    number_label: str | None = None  # the owner's name for the line, if any

    @property
    def line_label(self) -> str:
        return self.number_label or f"{self.sitter.name}'s line"


def list_sitters(org_id: int) -> list[SitterRow]:
    """Every sitter of the organization with its masked number and sign-in, in one query."""
    rows = db.session.execute(
        sa.select(Sitter, MessageNumber.e164, User.email, MessageNumber.label)
        .outerjoin(MessageNumber, sa.and_(MessageNumber.assigned_sitter_id == Sitter.id,
                                          MessageNumber.org_id == Sitter.org_id))
        .outerjoin(User, sa.and_(User.id == Sitter.user_id, User.org_id == Sitter.org_id))
        .where(Sitter.org_id == org_id)
        .order_by(Sitter.active.desc(), sa.func.lower(Sitter.name), Sitter.id)
    )
    return [SitterRow(sitter, e164, email, label) for sitter, e164, email, label in rows]


def get_sitter(org_id: int, sitter_id: int, lock: bool = False) -> Sitter:
    """The organization's sitter by id; another organization's id is NotFound."""
    query = sa.select(Sitter).where(Sitter.id == sitter_id, Sitter.org_id == org_id)
    sitter = db.session.scalar(query.with_for_update() if lock else query)
    if sitter is None:
        raise NotFound("No such sitter.")
    return sitter


def _clean_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise DomainError("Enter the sitter's name.", "name")
    if len(name) > NAME_MAX:  # as a client's: the field would take 10,000 characters
        raise DomainError(f"Keep the name under {NAME_MAX} characters.", "name")
    return name


def _sign_in_for(org_id: int, email: str, password: str | None, name: str) -> int:
    """The id of the sitter sign-in with this email: this organization's sitter user, or a new
    one. Any other user's email gets accounts.EMAIL_UNUSABLE, whichever organization has it."""
    email = email.strip().lower()
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is not None:
        if user.org_id != org_id or user.role != "sitter":
            raise DuplicateRecord(accounts.EMAIL_UNUSABLE.format(email=email), "email")
        return user.id
    if not password:
        raise DomainError("Give the new sign-in a password (at least 8 characters).",
                          "password")
    return accounts.create_user(org_id, email, password, "sitter", name=name).id


def create_sitter(org_id: int, name: str, phone_raw: str, email: str | None = None,
                  actor_user_id: int | None = None, password: str | None = None) -> Sitter:
    """Create an inactive sitter; with an email, link (or create) its sitter sign-in."""
    try:
        sitter = Sitter(org_id=org_id, name=_clean_name(name),
                        phone_e164=normalize_phone(phone_raw, org_region(org_id)), active=False)
        if email and email.strip():
            sitter.user_id = _sign_in_for(org_id, email, password, sitter.name)
        add_or_explain(sitter, {"uq_sitter_user_id": DuplicateRecord(
            "That sign-in already belongs to another sitter.", "email")})
        audit.record(org_id, actor_user_id, "sitter.created", "sitter", sitter.id,
                     {"name": sitter.name, "phone": sitter.phone_e164,
                      "user_id": sitter.user_id})
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return sitter


def update_sitter(org_id: int, sitter_id: int, name: str, phone_raw: str,
                  actor_user_id: int | None = None) -> Sitter:
    """Change a sitter's name and personal phone."""
    sitter = get_sitter(org_id, sitter_id, lock=True)
    sitter.name = _clean_name(name)
    sitter.phone_e164 = normalize_phone(phone_raw, org_region(org_id))
    audit.record(org_id, actor_user_id, "sitter.updated", "sitter", sitter.id,
                 {"name": sitter.name, "phone": sitter.phone_e164})
    db.session.commit()
    return sitter


# Prefer sitter-class numbers, then pool numbers no thread uses as its default (so a client
# never sees "its" number become a sitter's); never front desk, never quarantined.
_ASSIGN_FREE_NUMBER = sa.text("""
    UPDATE message_number SET assigned_sitter_id = :sitter_id
    WHERE id = (
        SELECT n.id FROM message_number n
        WHERE n.org_id = :org_id AND n.status = 'active' AND n.assigned_sitter_id IS NULL
          AND n.number_class IN ('sitter', 'pool')
        ORDER BY (n.number_class = 'sitter') DESC,
                 EXISTS (SELECT 1 FROM thread t WHERE t.default_number_id = n.id),
                 n.id
        LIMIT 1
        FOR UPDATE OF n SKIP LOCKED)
    RETURNING e164
""")


def _assign_free_number(org_id: int, sitter_id: int) -> str | None:
    """Give the sitter one free number, atomically; the unique index (I5) is the backstop."""
    try:
        with db.session.begin_nested():
            return db.session.scalar(_ASSIGN_FREE_NUMBER,
                                     {"org_id": org_id, "sitter_id": sitter_id})
    except IntegrityError as error:
        if constraint_name(error) != "uq_message_number_assigned_sitter_id":
            raise
    return None  # it got one concurrently: the caller reads it back


def _let_sign_in(org_id: int, user_id: int | None, active: bool) -> None:
    """A sitter's own sign-in is active exactly while the sitter is: deactivating one ends
    its sessions (the trigger app_user_ends_sessions) and stops it signing in again."""
    if user_id is not None:
        db.session.execute(sa.update(User).where(
            User.id == user_id, User.org_id == org_id, User.role == "sitter").values(active=active))


def activate_sitter(org_id: int, sitter_id: int, actor_user_id: int | None,
                    now: datetime | None = None) -> ActivationResult:
    """Activate a sitter and, if it holds none, assign it one free masked number for good."""
    now = now or utcnow()
    sitter = get_sitter(org_id, sitter_id, lock=True)  # one activation of a sitter at a time
    sitter.active = True
    _let_sign_in(org_id, sitter.user_id, True)
    held = sitter_number(org_id, sitter_id)
    e164 = held.e164 if held else _assign_free_number(org_id, sitter_id)
    newly = held is None and e164 is not None
    if held is None and e164 is None:
        held = sitter_number(org_id, sitter_id)
        e164 = held.e164 if held else None
    audit.record(org_id, actor_user_id, "sitter.activated", "sitter", sitter_id,
                 {"number": e164, "newly_assigned": newly}, now=now)
    db.session.commit()
    return ActivationResult(e164, newly)


def deactivate_sitter(org_id: int, sitter_id: int, actor_user_id: int | None,
                      now: datetime | None = None) -> str | None:
    """Deactivate a sitter; its number goes into quarantine. Answers the quarantined number."""
    now = now or utcnow()
    sitter = get_sitter(org_id, sitter_id, lock=True)
    sitter.active = False
    _let_sign_in(org_id, sitter.user_id, False)
    held = sitter_number(org_id, sitter_id)
    if held is not None:
        numbers.quarantine(
            org_id, held.id, actor_user_id,
            release_at=now + timedelta(days=numbers.DEFAULT_QUARANTINE_DAYS),
            reason=f"Sitter {sitter.name} deactivated", now=now,
            duration_label=str(numbers.DEFAULT_QUARANTINE_DAYS))
    e164 = held.e164 if held else None
    audit.record(org_id, actor_user_id, "sitter.deactivated", "sitter", sitter_id,
                 {"quarantined_number": e164}, now=now)
    db.session.commit()
    return e164


@dataclass(frozen=True)
class SitterHome:
    sitter: Sitter | None
    number: str | None
    bookings: list  # (Booking, client name), current and upcoming, by start
    threads: list  # (thread id, client name), the clients covered right now
    line: str | None = None  # the name clients see the number by in the office ("Sam's line")


def sitter_home(org_id: int, user_id: int, now: datetime) -> SitterHome:
    """What a signed-in sitter sees: its number, its bookings, the clients it covers now."""
    sitter = sitter_for_user(org_id, user_id)
    if sitter is None:
        return SitterHome(None, None, [], [])
    held = sitter_number(org_id, sitter.id)
    bookings = db.session.execute(
        sa.select(Booking, Client.name, Client.is_guest)
        .join(Client, sa.and_(Client.id == Booking.client_id, Client.org_id == Booking.org_id))
        .where(Booking.org_id == org_id, Booking.sitter_id == sitter.id,
               Booking.status != "cancelled", Booking.ends_at > now)
        .order_by(Booking.starts_at, Booking.id)
    ).all()
    windows = _active_windows(org_id, user_id, now).subquery()
    threads = db.session.execute(
        sa.select(Thread.id, Client.name, Client.is_guest)
        .join(Client, sa.and_(Client.id == Thread.client_id, Client.org_id == Thread.org_id))
        .where(Thread.org_id == org_id, Thread.id.in_(sa.select(windows.c.thread_id)))
        .order_by(sa.func.lower(Client.name), Thread.id)
    ).all()
    return SitterHome(sitter, held.e164 if held else None,
                      [(b, client_name(name, guest)) for b, name, guest in bookings],
                      [(t, client_name(name, guest)) for t, name, guest in threads],
                      (held.label or f"{sitter.name}'s line") if held else None)
