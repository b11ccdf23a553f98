"""Jinja filters: phone numbers and times as a person reads them, in the organization's zone."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import g
from markupsafe import Markup, escape

from pawline.channel_routes import LABELS
from pawline.clock import utcnow
from pawline.inbox import by_phone, line_key
from pawline.phones import client_name, display_phone
from pawline.sentences import event_sentence

UTC = ZoneInfo("UTC")


def org_zone() -> ZoneInfo:
    """The signed-in organization's zone, read as the request began (app.py); else UTC."""
    return g.get("org_zone") or UTC


def localtime(dt: datetime | None, fmt: str = "%b %d, %I:%M %p") -> str:
    """A time in the organization's zone, as people write it: "Dec 6, 2:55 PM", never with the
    leading zeros of strftime's %d and %I ("Dec 06, 02:55 PM")."""
    if not dt:
        return ""
    return dt.astimezone(org_zone()).strftime(fmt.replace("%d", "%-d").replace("%I", "%-I"))


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
    return local.strftime("%a") if seconds < 6 * 86400 else local.strftime("%b %-d")


# http(s) links and bare www. ones, up to whitespace or a character a URL does not hold here.
URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
TRAILING = ".,;:!?)]}"


def linkify(text: str | None) -> Markup:
    """Message text, escaped, with its web addresses as links that open no door back to us:
    rel="noopener noreferrer nofollow". Trailing punctuation stays outside the link."""
    if not text:
        return Markup("")
    out, last = [], 0
    for match in URL.finditer(text):
        url = match.group(0)
        while url and url[-1] in TRAILING and not (
                url[-1] == ")" and url.count("(") >= url.count(")")):
            url = url[:-1]
        if not url or url.lower() in ("http://", "https://", "www."):
            continue
        href = url if "://" in url else f"https://{url}"
        out.append(escape(text[last:match.start()]))
        out.append(Markup('<a href="{}" rel="noopener noreferrer nofollow" target="_blank">{}</a>')
                   .format(href, url))
        last = match.start() + len(url)
    out.append(escape(text[last:]))
    return Markup("").join(out)


# A phone as display_phone writes it: "(415) 555-0100".
SHOWN_PHONE = re.compile(r"\(\d{3}\) \d{3}-\d{4}")


def whole_phones(text: str | None) -> Markup:
    """A sentence, escaped, whose phone numbers never break across lines ("(415) 555-" / "0100")."""
    out, last = [], 0
    for match in SHOWN_PHONE.finditer(text or ""):
        out.append(escape(text[last:match.start()]))
        out.append(Markup('<span class="nowrap">{}</span>').format(match.group(0)))
        last = match.end()
    out.append(escape((text or "")[last:]))
    return Markup("").join(out)


def event_text(event, authors: dict) -> str:
    """A timeline event as a sentence, naming who did it, in the organization's time."""
    return event_sentence(event.kind, event.detail, authors.get(event.actor_user_id), org_zone())


def filesize(size: int | None) -> str:
    """'812 bytes', '34 KB', '1.2 MB'."""
    if size is None:
        return ""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size // 1024} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def channel_name(channel: str | None) -> str:
    """A channel as people name it ("WhatsApp", "Web chat"); an unknown one as it is."""
    return LABELS.get(channel or "sms", channel or "")


def message_line(message) -> int | str:
    """What a message went on, as the timeline compares it with the message before."""
    return line_key(message.channel, message.number_id)


def register(app) -> None:
    app.jinja_env.filters.update(phone=display_phone, localtime=localtime, ago=ago,
                                 linkify=linkify, client_name=client_name,
                                 event_text=event_text, filesize=filesize,
                                 channel_name=channel_name, whole_phones=whole_phones,
                                 line_key=message_line, by_phone=by_phone)
