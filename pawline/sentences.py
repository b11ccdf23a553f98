"""Audit events and timeline events as sentences a front desk reads: names, local times.

"Pat restored (415) 555-0103 early, 23 days before its release date, because: texts stopped."
No ids, no E.164 strings, no ISO timestamps: those stay in the stored data.
"""

import math
import re
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from pawline.channel_routes import LABELS as CHANNEL_LABELS
from pawline.db import db
from pawline.models import Booking, Client, Sitter, User
from pawline.phones import client_name, display_phone

SYSTEM = "Paw-line"
GUEST_IN_TEXT = re.compile(r"Guest \((\+[1-9][0-9]{6,14})\)")
ACTION_NAMES = {
    "number.quarantined": "Number quarantined", "number.restored": "Number restored",
    "number.released": "Number released", "number.front_desk_set": "Front desk changed",
    "sitter.created": "Sitter added", "sitter.updated": "Sitter changed",
    "sitter.activated": "Sitter activated", "sitter.deactivated": "Sitter deactivated",
    "booking.created": "Booking added", "booking.updated": "Booking changed",
    "booking.confirmed": "Booking confirmed", "booking.cancelled": "Booking cancelled",
    "client.merged": "Clients merged", "user.password_changed": "Password changed",
    "user.role_changed": "Role changed", "user.activated": "Sign-in allowed",
    "user.deactivated": "Sign-in stopped", "user.signed_out_everywhere": "Signed out everywhere",
    "consent.opted_out": "Opted out", "consent.opted_in": "Opted back in",
    "settings.help_reply": "Answer to HELP changed",
    "settings.after_hours": "Business hours changed",
    "settings.booking_confirmation": "Booking confirmation changed",
    "settings.booking_reminder": "Booking reminder changed",
    "channel_account.saved": "Channel set up",
    "channel_account.turned_off": "Channel turned off",
    "channel_account.turned_on": "Channel turned back on",
    "channel_account.key_replaced": "Channel key replaced",
}
ENTITY_NAMES = {"message_number": "Numbers", "sitter": "Sitters", "booking": "Bookings",
                "client": "Clients", "user": "People", "consent_event": "Opt-outs",
                "organization": "Settings", "channel_account": "Channels"}


def action_name(action: str) -> str:
    return ACTION_NAMES.get(action, action.replace(".", " ").replace("_", " ").capitalize())


def local(value: datetime | str | None, zone: ZoneInfo, fmt: str = "%a %b %-d, %-I:%M %p") -> str:
    """A stored time (a datetime or an ISO string in an event's data) in the org's zone."""
    if not value:
        return "an unknown time"
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.astimezone(zone).strftime(fmt)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class Names:
    """The names an audit page mentions, read in one query per kind (never one per line)."""

    def __init__(self, org_id: int, lines):
        def ids(entity: str, key: str | None = None) -> set[int]:
            found = {ln.entity_id for ln in lines if ln.entity_type == entity and ln.entity_id}
            if key:
                found |= {ln.data.get(key) for ln in lines if isinstance(ln.data.get(key), int)}
            return found

        self.sitters = self._read(org_id, Sitter, Sitter.name, ids("sitter", "sitter_id"))
        self.users = self._read(org_id, User, User.name, ids("user"))
        self.clients = {}
        client_ids = {ln.data.get("client_id") for ln in lines
                      if isinstance(ln.data.get("client_id"), int)}
        booking_ids = ids("booking")
        self.bookings: dict[int, tuple[str, str]] = {}
        if booking_ids:
            rows = db.session.execute(
                sa.select(Booking.id, Client.name, Client.is_guest, Sitter.name)
                .join(Client, Client.id == Booking.client_id)
                .join(Sitter, Sitter.id == Booking.sitter_id)
                .where(Booking.org_id == org_id, Booking.id.in_(booking_ids))).all()
            self.bookings = {r[0]: (client_name(r[1], r[2]), r[3]) for r in rows}
        if client_ids:
            rows = db.session.execute(sa.select(Client.id, Client.name, Client.is_guest).where(
                Client.org_id == org_id, Client.id.in_(client_ids))).all()
            self.clients = {r.id: client_name(r.name, r.is_guest) for r in rows}

    @staticmethod
    def _read(org_id: int, model, column, wanted: set[int]) -> dict[int, str]:
        if not wanted:
            return {}
        rows = db.session.execute(sa.select(model.id, column).where(
            model.org_id == org_id, model.id.in_(wanted))).all()
        return {row[0]: row[1] for row in rows}

    def booking(self, line) -> tuple[str, str]:
        client, sitter = self.bookings.get(line.entity_id, ("a client", "a sitter"))
        return client, sitter


def _number(line, zone, names) -> str:
    d, who = line.data, line.actor_name or SYSTEM
    phone = display_phone(d.get("e164")) or "a number"
    if line.action == "number.quarantined":
        until = local(d.get("release_at"), zone, "%b %-d, %Y")
        duration = str(d.get("duration") or "custom")
        duration += " days" if duration.isdigit() else ""
        how = f"until {until}" if duration == "custom" else f"for {duration} (until {until})"
        taken = names.sitters.get(d.get("previously_assigned_sitter_id"))
        said = f"{who} quarantined {phone} {how}"
        said += f", taking it from {taken}" if taken else ""
        return said + (f", because: {d['reason']}" if d.get("reason") else "")
    if line.action == "number.restored":
        if d.get("restored_early") and d.get("release_at"):
            release = datetime.fromisoformat(d["release_at"])
            days = max(1, math.ceil((release - line.created_at).total_seconds() / 86400))
            said = f"{who} restored {phone} early, {_plural(days, 'day')} before its release date"
            return said + (f", because: {d['restore_reason']}" if d.get("restore_reason") else "")
        return f"{who} restored {phone} to the pool after its release date"
    if line.action == "number.released":
        return f"{phone} went back to the pool at the end of its quarantine"
    if line.action == "number.front_desk_set":
        before = display_phone(d.get("previous_front_desk_e164"))
        return f"{who} made {phone} the front desk" + (
            f"; {before} joined the pool" if before else "")
    return f"{who}: {action_name(line.action).lower()}, {phone}"


def _sitter(line, zone, names) -> str:
    d, who = line.data, line.actor_name or SYSTEM
    sitter = names.sitters.get(line.entity_id) or d.get("name") or "a sitter"
    phone = display_phone(d.get("number") or d.get("quarantined_number"))
    if line.action == "sitter.created":
        return f"{who} added the sitter {d.get('name') or sitter}"
    if line.action == "sitter.updated":
        return f"{who} changed {sitter}'s details"
    if line.action == "sitter.activated":
        gave = "gave them" if d.get("newly_assigned") else "they keep"
        return f"{who} activated {sitter}" + (f"; {gave} {phone}" if phone else "")
    if line.action == "sitter.deactivated":
        return f"{who} deactivated {sitter}" + (
            f"; {phone} went into quarantine" if phone else "")
    return f"{who}: {action_name(line.action).lower()}, {sitter}"


def _booking(line, zone, names) -> str:
    d = line.data
    who = line.actor_name or ("The booking system" if d.get("source") == "webhook" else SYSTEM)
    client, sitter = names.booking(line)
    span = ""
    if d.get("starts_at") and d.get("ends_at"):
        span = f", {local(d['starts_at'], zone)} to {local(d['ends_at'], zone)}"
    if line.action == "booking.created":
        return f"{who} booked {sitter} for {client}{span}"
    if line.action == "booking.updated":
        return f"{who} changed {client}'s booking with {sitter}{span}"
    if line.action == "booking.confirmed":
        return f"{who} confirmed {client}'s booking with {sitter}"
    if line.action == "booking.cancelled":
        return f"{who} cancelled {client}'s booking with {sitter}"
    return f"{who}: {action_name(line.action).lower()}, {client} with {sitter}"


def _client(line, zone, names) -> str:
    d, who = line.data, line.actor_name or SYSTEM
    if line.action == "client.merged":
        guest = client_name(d.get("guest_name") or "a guest", True)
        moved = _plural(len(d.get("moved_contacts") or []), "phone")
        if d.get("moved_identities"):
            moved += ", " + _plural(len(d["moved_identities"]), "other channel")
        messages = _plural(d.get("moved_messages") or 0, "message")
        return f"{who} merged {guest} into {d.get('into_name') or 'a client'} ({moved}, {messages})"
    return f"{who}: {action_name(line.action).lower()}"


def _user(line, zone, names) -> str:
    d, who = line.data, line.actor_name or SYSTEM
    user = names.users.get(line.entity_id) or "a person"
    if line.action == "user.password_changed":
        return f"{who} changed {user}'s password"
    if line.action == "user.role_changed":
        return f"{who} made {user} {d.get('to', '?')} (was {d.get('from', '?')})"
    if line.action == "user.activated":
        return f"{who} let {user} sign in again"
    if line.action == "user.deactivated":
        return f"{who} stopped {user} signing in"
    if line.action == "user.signed_out_everywhere":
        ended = _plural(d.get("sessions_ended", 0), "session")
        return f"{user} signed out everywhere, ending {ended}"
    return f"{who}: {action_name(line.action).lower()}, {user}"


def _consent(line, zone, names) -> str:
    d = line.data
    phone = display_phone(d.get("phone")) or "a phone"
    if d.get("source") == "provider":
        return (f"Twilio refused a message to {phone} (error 21610), so {phone} is opted out "
                "of every message from us")
    keyword = d.get("keyword") or "a keyword"
    if line.action == "consent.opted_out":
        return f"{phone} texted {keyword} and is opted out of every message from us"
    return f"{phone} texted {keyword} and is opted back in"


def _organization(line, zone, names) -> str:
    who = line.actor_name or SYSTEM
    if line.action == "settings.help_reply":
        return f"{who} changed the answer to HELP" + (
            "" if line.data.get("text") else " back to the default")
    if line.action == "settings.after_hours":
        return f"{who} changed the business hours and the after-hours reply" + (
            "" if line.data.get("text") else " (no reply is sent)")
    if line.action.startswith("settings.booking_"):
        kind = line.action.removeprefix("settings.booking_")
        state = "on" if line.data.get("enabled") else "off"
        return f"{who} changed the automatic booking {kind} (now {state})"
    return f"{who}: {action_name(line.action).lower()}"


def _channel_account(line, zone, names) -> str:
    """An owner connected or changed a channel account; never the token itself."""
    d, who = line.data, line.actor_name or SYSTEM
    label = CHANNEL_LABELS.get(d.get("channel"), d.get("channel") or "a channel")
    account = d.get("account_id") or "?"
    if line.action == "channel_account.turned_off":
        return f"{who} turned {label} off (account {account}); it stores nothing until back on"
    if line.action == "channel_account.turned_on":
        return f"{who} turned {label} back on (account {account})"
    if line.action == "channel_account.key_replaced":
        return (f"{who} replaced the {label} key: account {d.get('old_account_id') or '?'} "
                f"stopped working, account {account} took its place")
    token = " and its token" if d.get("secret_changed") else ""
    return f"{who} set up {label} (account {account}){token}"


WRITERS: dict[str, Callable] = {"message_number": _number, "sitter": _sitter,
                                "booking": _booking, "client": _client, "user": _user,
                                "consent_event": _consent, "organization": _organization,
                                "channel_account": _channel_account}


def audit_sentences(org_id: int, lines, zone: ZoneInfo) -> dict[int, str]:
    """Each audit line's sentence, by event id."""
    names = Names(org_id, lines)

    def say(line) -> str:
        writer = WRITERS.get(line.entity_type)
        text = writer(line, zone, names) if writer else (
            f"{line.actor_name or SYSTEM}: {action_name(line.action).lower()}")
        return text.rstrip(".") + "."

    return {line.id: say(line) for line in lines}


def event_sentence(kind: str, detail: str, actor: str | None, zone: ZoneInfo) -> str:
    """A timeline event (closed, snoozed, reopened, merged) as a sentence."""
    if kind == "closed":
        return f"{actor or SYSTEM} closed the conversation."
    if kind == "snoozed":
        until = detail.removeprefix("Snoozed until ").strip()
        try:
            when = local(until, zone)
        except ValueError:
            when = "later"
        return f"{actor or SYSTEM} snoozed the conversation until {when}."
    if kind == "reopened":
        if actor:
            return f"{actor} reopened the conversation."
        if detail == "Snooze ended":
            return "The snooze ended; the conversation is open again."
        return "The client wrote again; the conversation is open again."
    text = GUEST_IN_TEXT.sub(lambda m: display_phone(m.group(1)), detail or kind.capitalize())
    return text.rstrip(".") + "."
