"""The organization's masked numbers: the pool, the front desk, quarantine and restore."""

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from pawline import audit, number_impact
from pawline.accounts import org_zone
from pawline.clock import utcnow
from pawline.db import add_or_explain, constraint_name, db
from pawline.errors import DomainError, DuplicateRecord, NotFound
from pawline.lines import line_of
from pawline.models import NUMBER_CLASSES, MessageNumber, Organization, Sitter
from pawline.phones import normalize_phone

# US carriers age a disconnected number 45 to 90 days before reassigning it (47 CFR 52.15).
DEFAULT_QUARANTINE_DAYS = 90
QUARANTINE_DURATIONS = ("1", "3", "7", "14", "30", "90")
CUSTOM = "custom"


class NumberStillQuarantined(DomainError):
    """A restore before the release date, without force_restore and a reason."""

    field = "restore_reason"


def add_number(org_id: int, raw_phone: str, number_class: str, region: str = "US"
               ) -> MessageNumber:
    """Add a number to the organization's pool (I8: a number is in one organization only)."""
    if number_class not in NUMBER_CLASSES:
        raise DomainError(f"Class must be one of {', '.join(NUMBER_CLASSES)}.", "number_class")
    e164 = normalize_phone(raw_phone, region)
    number = add_or_explain(MessageNumber(org_id=org_id, e164=e164, number_class=number_class), {
        "uq_message_number_e164": DuplicateRecord(f"{e164} is already in use.", "e164"),
        "uq_message_number_front_desk": DuplicateRecord(
            "This organization already has a front-desk number.", "number_class"),
    })
    db.session.commit()
    return number


def _locked_number(org_id: int, number_id: int) -> MessageNumber:
    """The organization's number, row-locked for this transaction; another org's id: NotFound."""
    number = db.session.scalars(
        sa.select(MessageNumber)
        .where(MessageNumber.id == number_id, MessageNumber.org_id == org_id)
        .with_for_update()
    ).one_or_none()
    if number is None:
        raise NotFound("That number does not exist.")
    return number


def quarantine(org_id: int, number_id: int, actor_user_id: int | None, release_at: datetime,
               reason: str, now: datetime, duration_label: str,
               custom_release_date: str | None = None) -> MessageNumber:
    """Quarantine a number until `release_at`, unassigning it (internal: does not commit)."""
    number = _locked_number(org_id, number_id)
    previous_sitter_id = number.assigned_sitter_id
    number.status = "quarantined"
    number.assigned_sitter_id = None
    number.quarantined_at = now
    number.quarantine_release_at = release_at
    number.quarantine_reason = reason
    number.restored_at = None
    number.restore_reason = None
    db.session.flush()
    audit.record(org_id, actor_user_id, "number.quarantined", "message_number", number_id, {
        "e164": number.e164,
        "duration": duration_label,
        "custom_release_date": custom_release_date or None,
        "release_at": release_at.isoformat(),
        "reason": reason,
        "previously_assigned_sitter_id": previous_sitter_id,
    }, now=now)
    return number


def release_time(org_id: int, duration: str, custom_release_date: str | None,
                 now: datetime) -> tuple[datetime, str, str | None]:
    """When a quarantine ends: (release_at, duration label, custom date) from the form's values.

    A custom date wins over the duration and means the start of that day in the org's zone.
    """
    duration = (duration or "").strip()
    custom = (custom_release_date or "").strip()
    if duration and duration != CUSTOM and duration not in QUARANTINE_DURATIONS:
        raise DomainError(
            f"Choose {', '.join(QUARANTINE_DURATIONS)} days or a custom date.", "duration")
    if custom:
        try:
            day = date.fromisoformat(custom)
        except ValueError:
            raise DomainError("Enter the release date as YYYY-MM-DD.",
                              "custom_release_date") from None
        release_at = datetime.combine(day, time.min, tzinfo=org_zone(org_id))
        if release_at <= now:
            raise DomainError("The release date must be in the future (tomorrow or later).",
                              "custom_release_date")
        return release_at, CUSTOM, custom
    if duration == CUSTOM:
        raise DomainError("Choose a release date, or pick a number of days.",
                          "custom_release_date")
    days = int(duration) if duration else DEFAULT_QUARANTINE_DAYS
    return now + timedelta(days=days), f"{days} days", None


def release_dates(org_id: int, now: datetime) -> dict[str, datetime]:
    """The release date each quarantine duration would give, quarantined now."""
    return {days: release_time(org_id, days, None, now)[0] for days in QUARANTINE_DURATIONS}


def quarantine_number(org_id: int, number_id: int, actor_user_id: int | None, duration: str,
                      custom_release_date: str | None, reason: str,
                      now: datetime | None = None) -> MessageNumber:
    """Take a number out of service until its release date (owner action), and audit it."""
    now = now or utcnow()
    release_at, label, custom = release_time(org_id, duration, custom_release_date, now)
    number = _locked_number(org_id, number_id)
    if number.status == "quarantined":
        raise DomainError(f"{number.e164} is already quarantined.")
    number = quarantine(org_id, number_id, actor_user_id, release_at, (reason or "").strip(),
                        now, label, custom)
    db.session.commit()
    return number


def restore_number(org_id: int, number_id: int, actor_user_id: int | None, force_restore: bool,
                   restore_reason: str, now: datetime | None = None) -> MessageNumber:
    """Return a quarantined number to the pool, active and unassigned; early only with a reason."""
    now = now or utcnow()
    reason = (restore_reason or "").strip()
    number = _locked_number(org_id, number_id)
    if number.status != "quarantined":
        raise DomainError(f"{number.e164} is not quarantined.")
    early = number.quarantine_release_at > now
    if early and not (force_restore and reason):
        raise NumberStillQuarantined(
            f"{number.e164} stays quarantined until "
            f"{number.quarantine_release_at.date().isoformat()}; to restore it now, give a reason.")
    _restore(number, actor_user_id, "number.restored", reason, early, bool(force_restore), now)
    db.session.commit()
    return number


def release_due_quarantines(now: datetime | None = None) -> int:
    """Return to the pool every number, in any organization, whose quarantine has ended.

    The periodic job's work: the audit trail names no person (the system did it). Numbers are
    locked and skipped if a person holds one, so an owner's restore never runs twice.
    """
    now = now or utcnow()
    due = db.session.scalars(
        sa.select(MessageNumber)
        .where(MessageNumber.status == "quarantined", MessageNumber.quarantine_release_at <= now)
        .order_by(MessageNumber.id).with_for_update(skip_locked=True)).all()
    for number in due:
        _restore(number, None, "number.released", "", False, False, now)
    db.session.commit()
    return len(due)


def _restore(number: MessageNumber, actor_user_id: int | None, action: str, reason: str,
             early: bool, force_restore: bool, now: datetime) -> None:
    release_at = number.quarantine_release_at
    number.status = "active"
    if number.number_class != "front_desk":
        number.number_class = "pool"
    number.quarantined_at = None
    number.quarantine_release_at = None
    number.quarantine_reason = None
    number.restored_at = now
    number.restore_reason = reason or None
    audit.record(number.org_id, actor_user_id, action, "message_number", number.id, {
        "e164": number.e164,
        "force_restore": force_restore,
        "restore_reason": reason or None,
        "release_at": release_at.isoformat(),
        "restored_early": early,
    }, now=now)


def set_front_desk(org_id: int, number_id: int, actor_user_id: int | None,
                   now: datetime | None = None) -> MessageNumber:
    """Make this number the organization's one front desk; the previous one joins the pool."""
    now = now or utcnow()
    # Serialize front-desk changes per organization: the partial unique index allows one.
    db.session.execute(
        sa.select(Organization.id).where(Organization.id == org_id).with_for_update())
    number = _locked_number(org_id, number_id)
    if number.number_class == "front_desk":
        raise DomainError(f"{number.e164} is already the front desk.")
    if number.status == "quarantined":
        raise DomainError(f"{number.e164} is quarantined; restore it first.")
    if number.assigned_sitter_id is not None:
        raise DomainError(f"{number.e164} belongs to a sitter and cannot be the front desk.")
    previous = db.session.scalars(sa.select(MessageNumber).where(
        MessageNumber.org_id == org_id, MessageNumber.number_class == "front_desk"
    ).with_for_update()).one_or_none()
    if previous is not None:
        previous.number_class = "pool"
        db.session.flush()  # demote first, or the partial unique index sees two front desks
    number.number_class = "front_desk"
    try:
        db.session.flush()
    except IntegrityError as error:
        db.session.rollback()
        if constraint_name(error) == "uq_message_number_front_desk":
            raise DuplicateRecord("Another front-desk change happened at the same time; "
                                  "try again.") from None
        raise
    audit.record(org_id, actor_user_id, "number.front_desk_set", "message_number", number_id, {
        "e164": number.e164,
        "previous_front_desk_id": previous.id if previous else None,
        "previous_front_desk_e164": previous.e164 if previous else None,
    }, now=now)
    db.session.commit()
    return number


@dataclass(frozen=True)
class NumberRow:
    """One line of the Numbers panel."""

    id: int
    e164: str
    label: str
    number_class: str
    status: str
    sitter_id: int | None
    sitter_name: str | None
    quarantined_at: datetime | None
    release_at: datetime | None
    quarantine_reason: str | None
    days_left: int | None
    threads_using: int = 0  # conversations that use this line now (pawline.number_impact)

    @property
    def release_passed(self) -> bool:
        return self.release_at is not None and self.days_left == 0


def _panel_query(org_id: int) -> sa.Select:
    return (
        sa.select(MessageNumber, Sitter.name)
        .outerjoin(Sitter, sa.and_(Sitter.id == MessageNumber.assigned_sitter_id,
                                   Sitter.org_id == MessageNumber.org_id))
        .where(MessageNumber.org_id == org_id)
    )


def list_numbers(org_id: int, now: datetime | None = None) -> list[NumberRow]:
    """The organization's numbers with their sitter, in one query: front desk first."""
    now = now or utcnow()
    order = sa.case({"front_desk": 0, "sitter": 1, "pool": 2}, value=MessageNumber.number_class)
    rows = db.session.execute(_panel_query(org_id).order_by(order, MessageNumber.e164)).all()
    using = number_impact.threads_using(org_id, now)
    return [_row(number, sitter_name, now, using.get(number.id, 0))
            for number, sitter_name in rows]


def number_row(org_id: int, number_id: int, now: datetime | None = None) -> NumberRow:
    """One line of the panel; another organization's id: NotFound."""
    found = db.session.execute(
        _panel_query(org_id).where(MessageNumber.id == number_id)).one_or_none()
    if found is None:
        raise NotFound("That number does not exist.")
    now = now or utcnow()
    using = number_impact.threads_using(org_id, now).get(number_id, 0)
    return _row(found[0], found[1], now, using)


def _row(number: MessageNumber, sitter_name: str | None, now: datetime,
         threads_using: int = 0) -> NumberRow:
    release_at = number.quarantine_release_at
    days_left = None
    if release_at is not None:
        days_left = max(0, math.ceil((release_at - now).total_seconds() / 86400))
    return NumberRow(
        id=number.id, e164=number.e164, label=line_of(number, sitter_name).label,
        number_class=number.number_class, status=number.status,
        sitter_id=number.assigned_sitter_id, sitter_name=sitter_name,
        quarantined_at=number.quarantined_at, release_at=release_at,
        quarantine_reason=number.quarantine_reason, days_left=days_left,
        threads_using=threads_using,
    )
