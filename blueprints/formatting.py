"""Jinja filters: phone numbers and times as a person reads them, in the organization's zone."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import g

from pawline.clock import utcnow
from pawline.phones import display_phone


def org_zone() -> ZoneInfo:
    org = g.get("org")
    return ZoneInfo(org.timezone if org else "UTC")


def localtime(dt: datetime | None, fmt: str = "%b %d, %I:%M %p") -> str:
    """A time in the organization's zone."""
    return dt.astimezone(org_zone()).strftime(fmt) if dt else ""


def ago(dt: datetime | None) -> str:
    """'just now', '5m', '3h', 'Tue', 'Mar 4': short, like a phone's message list."""
    if dt is None:
        return ""
    seconds = (utcnow() - dt).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    local = dt.astimezone(org_zone())
    return local.strftime("%a") if seconds < 6 * 86400 else local.strftime("%b %d")


def register(app) -> None:
    app.jinja_env.filters.update(phone=display_phone, localtime=localtime, ago=ago)
