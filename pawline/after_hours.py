"""After-hours auto-reply: a client who texts outside business hours is told so, once per thread
per 12 hours, never after opting out and never in answer to a keyword.

Hours are per weekday (Monday 0) in the organization's zone, one `business_hours` row a day at
most; a day without one is closed. The reply goes out from the inbound message's own
transaction: the thread's `after_hours_replied_at` is claimed by one conditional UPDATE, so of
many messages arriving at once exactly one wins and sends.
"""

import re
from datetime import datetime, time, timedelta

import sqlalchemy as sa

from pawline import audit, consent, jobs
from pawline.accounts import org_zone
from pawline.db import db, run_sql
from pawline.desk_models import BusinessHours
from pawline.errors import DomainError
from pawline.models import Organization
from pawline.outbound import store_outbound
from pawline.routing import NoSendingNumber
from pawline.threads import add_event

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
REPLY_MAX = consent.HELP_REPLY_MAX
QUIET = timedelta(hours=12)
_TIME = r"([01]?\d|2[0-3])(?::?([0-5]\d))?\s*([ap]\.?m\.?)?"
_RANGE = re.compile(rf"^\s*{_TIME}\s*(?:-|–|to)\s*{_TIME}\s*$", re.IGNORECASE)

# One statement decides: the thread is claimed if it never got the reply or got it 12 h ago.
CLAIM = """
    UPDATE thread SET after_hours_replied_at = %(now)s
    WHERE id = %(thread)s AND org_id = %(org)s
      AND (after_hours_replied_at IS NULL OR after_hours_replied_at <= %(since)s)
    RETURNING id"""


def _clock(hour: str, minute: str | None, half: str | None) -> time:
    h, m = int(hour), int(minute or 0)
    if half:
        if not 1 <= h <= 12:
            raise ValueError
        h = h % 12 + (12 if half.lower().startswith("p") else 0)
    return time(h, m)


def parse_range(text: str | None, day: str = "This day") -> tuple[time, time] | None:
    """'9:00-17:00', '9am - 5pm' or '0900-1730' as (opens, closes); empty is closed (None)."""
    if not (text or "").strip() or text.strip().lower() == "closed":
        return None
    found = _RANGE.match(text)
    try:
        if found is None:
            raise ValueError
        opens, closes = _clock(*found.group(1, 2, 3)), _clock(*found.group(4, 5, 6))
    except ValueError:
        raise DomainError(f"{day}: write the hours as 9:00-17:00, or leave it empty for "
                          "closed.", "hours") from None
    if opens >= closes:
        raise DomainError(f"{day}: opening must come before closing (hours past midnight "
                          "go on the next day).", "hours")
    return opens, closes


def show_range(hours: tuple[time, time] | None) -> str:
    return "" if hours is None else f"{hours[0]:%H:%M}-{hours[1]:%H:%M}"


def hours(org_id: int) -> dict[int, tuple[time, time]]:
    """The organization's hours by weekday; a weekday missing is closed."""
    rows = db.session.execute(sa.select(BusinessHours).where(BusinessHours.org_id == org_id))
    return {row.weekday: (row.opens, row.closes) for (row,) in rows}


def is_open(week: dict[int, tuple[time, time]], zone, now: datetime) -> bool:
    """Whether `now` falls in the day's hours, on the wall clock of `zone` (DST included)."""
    local = now.astimezone(zone)
    day = week.get(local.weekday())
    return day is not None and day[0] <= local.time().replace(tzinfo=None) < day[1]


def reply_text(org_id: int) -> str | None:
    return db.session.scalar(
        sa.select(Organization.after_hours_reply).where(Organization.id == org_id))


def save(org_id: int, week: dict[int, tuple[time, time] | None], text: str | None,
         actor_user_id: int | None) -> None:
    """Replace the organization's hours and reply (empty: no reply); audited, committed."""
    text = " ".join((text or "").split())
    if len(text) > REPLY_MAX:
        raise DomainError(f"Keep the reply under {REPLY_MAX} characters.", "text")
    run_sql("DELETE FROM business_hours WHERE org_id = %(org)s", {"org": org_id})
    for weekday, day in sorted(week.items()):
        if day is not None:
            db.session.add(BusinessHours(org_id=org_id, weekday=weekday, opens=day[0],
                                         closes=day[1]))
    db.session.get(Organization, org_id).after_hours_reply = text or None
    audit.record(org_id, actor_user_id, "settings.after_hours", "organization", org_id,
                 {"text": text or None,
                  "hours": {WEEKDAYS[d]: show_range(h) for d, h in sorted(week.items()) if h}})
    db.session.commit()


def due(org_id: int, e164: str, text: str, now: datetime) -> str | None:
    """`text`, the organization's reply, if it is closed now and the phone has not opted out;
    holds the phone's consent until the transaction ends (before the thread's lock, as every
    send does). None otherwise."""
    if is_open(hours(org_id), org_zone(org_id), now):
        return None
    if consent.hold(org_id, e164) is not None:
        return None
    return text


def send(org_id: int, thread_id: int, to_e164: str, text: str, now: datetime,
         reply_provider: str, status_callback: str | None) -> int | None:
    """Claim the thread's 12 hours and queue the reply, in the caller's transaction; the
    message id, or None when another message already claimed them (or no number can send)."""
    claimed = run_sql(CLAIM, {"thread": thread_id, "org": org_id, "now": now,
                              "since": now - QUIET}).fetchone()
    if claimed is None:
        return None
    try:
        message_id = store_outbound(org_id, thread_id, text, to_e164, reply_provider, now,
                                    auto_reply="after_hours")
    except NoSendingNumber:
        add_event(org_id, thread_id, "after_hours_unanswered",
                  "After-hours reply not sent: no number can send.", now=now)
        return None
    jobs.defer_delivery(message_id, status_callback)
    return message_id
