"""Every channel into the one thread: inbound on non-phone channels, and senders by channel.

A Telegram chat, a Messenger or Instagram user, a web-chat visitor is an identity
(client_identity, unique per organization, channel and address: I15) of one client, whose one
thread (I3) holds every channel's messages. Find-or-create is the same atomic pattern as for
phones (pawline.threads): insert, ON CONFLICT DO NOTHING, and read the winner; never look then
create. SMS and WhatsApp arrive through the Twilio webhook (pawline.inbound), whose phone is
the identity (I1).

Delivery picks a sender by the message's channel (`sender_for`); each channel module registers
its factory with `register_sender` when imported, and `load_senders` imports them.
"""

import importlib
import re
from collections.abc import Callable
from datetime import datetime

from flask import current_app
from sqlalchemy.exc import DBAPIError

from pawline import channel_accounts, jobs, media
from pawline.accounts import org_region
from pawline.channel_models import (  # noqa: F401 - CHANNELS is part of this module's API
    ADDRESS_PATTERNS,
    CHANNELS,
    IDENTITY_CHANNELS,
    PHONE_CHANNELS,
)

# LABELS: channels as people name them; PROVIDERS: each channel's message.provider (I6)
from pawline.channel_routes import LABELS, PROVIDERS  # noqa: F401
from pawline.clock import utcnow
from pawline.db import db, run_sql
from pawline.errors import DomainError
from pawline.inbound import ATTEMPTS, BUMP_THREAD, PREVIEW_LENGTH, RETRIED_SQLSTATES, InboundResult
from pawline.inputs import clip
from pawline.models import E164_PATTERN
from pawline.phones import normalize_phone
from pawline.providers import ProviderError, Sent
from pawline.threads import add_event, find_or_create_client_by_phone, find_or_create_thread

BODY_KEPT = 10_000
NAME_KEPT = 100

OWNER_OF_IDENTITY = """
    SELECT client_id FROM client_identity
    WHERE org_id = %(org)s AND channel = %(channel)s AND address = %(address)s"""
INSERT_GUEST = ("INSERT INTO client (org_id, name, is_guest) VALUES (%(org)s, %(name)s, true) "
                "RETURNING id")
INSERT_IDENTITY = """
    INSERT INTO client_identity (org_id, client_id, channel, address, display_name)
    VALUES (%(org)s, %(client)s, %(channel)s, %(address)s, %(display)s)
    ON CONFLICT (org_id, channel, address) DO NOTHING RETURNING client_id"""
INSERT_MESSAGE = """
    INSERT INTO message (org_id, thread_id, direction, body, from_e164, to_e164, number_id,
                         status, provider, provider_sid, num_media, flag, created_at,
                         status_updated_at, channel)
    VALUES (%(org)s, %(thread)s, 'inbound', %(body)s, %(from)s, %(to)s, NULL, 'received',
            %(provider)s, %(sid)s, %(media)s, %(flag)s, %(now)s, %(now)s, %(channel)s)
    ON CONFLICT (provider, provider_sid) DO NOTHING RETURNING id"""


def label(channel: str) -> str:
    """The channel as people name it: "WhatsApp", "Web chat"."""
    return LABELS.get(channel, channel)


def guest_name(channel: str, address: str, display_name: str | None = None) -> str:
    """A new client's name: what the platform calls them, else the channel and address."""
    shown = " ".join((display_name or "").split())[:NAME_KEPT]
    if shown:
        return shown
    return f"Guest ({label(channel)} {address[:12]})"


def check_address(channel: str, address: str) -> str:
    """The address as stored, or a DomainError when it has not the channel's shape."""
    if channel not in IDENTITY_CHANNELS:
        raise DomainError(f"{label(channel)} is not a channel of identities.", "channel")
    address = str(address or "").strip()
    if not re.fullmatch(ADDRESS_PATTERNS[channel], address):
        raise DomainError(f"That is not a {label(channel)} address.", "address")
    return address


def find_or_create_client_by_identity(org_id: int, channel: str, address: str,
                                      display_name: str | None = None) -> tuple[int, bool]:
    """The client owning (channel, address) in the organization, made a guest if new (I15).

    Answers (client_id, created); in the caller's transaction, no commit. Same steps as
    threads.find_or_create_client_by_phone: the identity's unique index decides the race, and
    the loser removes the guest it made and answers the winner's client.
    """
    key = {"org": org_id, "channel": channel, "address": address}
    existing = run_sql(OWNER_OF_IDENTITY, key).fetchone()
    if existing is not None:
        return existing[0], False
    name = guest_name(channel, address, display_name)
    client_id = run_sql(INSERT_GUEST, {**key, "name": name}).fetchone()[0]
    display = (display_name or "").strip()[:200] or None
    won = run_sql(INSERT_IDENTITY, {**key, "client": client_id, "display": display}).fetchone()
    if won is not None:
        return won[0], True
    run_sql("DELETE FROM client WHERE id = %(client)s", {"client": client_id})
    return run_sql(OWNER_OF_IDENTITY, key).fetchone()[0], False


def receive(org_id: int, channel: str, address: str, body: str, *, provider: str,
            provider_sid: str, to_address: str, display_name: str | None = None,
            now: datetime | None = None, num_media: int = 0,
            media_items: tuple[media.Media, ...] = ()) -> InboundResult:
    """Store a message from a non-phone channel in its client's one thread; commit.

    Each of `media_items` (a photo or file the client sent) becomes a pending attachment with
    its fetch job, in the same transaction, as an MMS's (pawline.inbound). Idempotent by
    (provider, provider_sid) (I6): a repeat answers duplicate=True and stores and queues
    nothing. A merge that deletes the client mid-way, or a deadlock, is tried again whole.
    """
    address = check_address(channel, address)
    if not provider_sid:
        raise DomainError("A message needs its platform's id.", "provider_sid")
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _receive(org_id, channel, address, body, provider, str(provider_sid),
                            str(to_address), display_name, now or utcnow(),
                            num_media or len(media_items), media_items)
        except DBAPIError as error:
            db.session.rollback()
            transient = getattr(error.orig, "sqlstate", None) in RETRIED_SQLSTATES
            if attempt == ATTEMPTS or not transient:
                raise
    raise AssertionError("unreachable")


def _receive(org_id, channel, address, body, provider, provider_sid, to_address, display_name,
             now, num_media, media_items) -> InboundResult:
    client_id, _ = find_or_create_client_by_identity(org_id, channel, address, display_name)
    thread_id = find_or_create_thread(org_id, client_id, now=now)
    body, received = clip(body or "", BODY_KEPT)
    flag = f"cut to {BODY_KEPT:,} of {received:,} characters" if received > BODY_KEPT else None
    inserted = run_sql(INSERT_MESSAGE, {
        "org": org_id, "thread": thread_id, "body": body, "from": address, "to": to_address,
        "provider": provider, "sid": provider_sid, "media": num_media, "flag": flag,
        "now": now, "channel": channel}).fetchone()
    if inserted is None:
        db.session.rollback()  # a repeated delivery: the find-or-creates found anyway
        return InboundResult(None, thread_id, client_id, org_id, True, False, address,
                             to_address)
    for attachment_id in media.add_inbound(org_id, inserted.id, list(media_items)):
        jobs.defer_fetch(attachment_id)
    shown = media.preview(body, [media.content_type(m.content_type) for m in media_items])
    previous = run_sql(BUMP_THREAD, {"thread": thread_id, "body": shown or "(attachment)",
                                     "now": now, "preview": PREVIEW_LENGTH}).fetchone().status
    if previous in ("closed", "snoozed"):
        add_event(org_id, thread_id, "reopened", "Reopened by an inbound message", now=now)
    db.session.commit()
    return InboundResult(inserted.id, thread_id, client_id, org_id, False, False, address,
                         to_address)


def link_phone(org_id: int, channel: str, address: str, e164: str) -> int:
    """The visitor left a phone: their identity joins the client owning it; answers that client.

    The phone's owner is found or made in one atomic path: the phone is offered to the
    identity's own client first (INSERT .. ON CONFLICT on I1), so a new phone simply becomes
    theirs. If another client holds it, the identity's guest client is merged into that one
    (pawline.clients.merge_client: thread, identities and all). Idempotent; commits.
    """
    from pawline.clients import merge_client  # clients is a heavier module; only here

    address = check_address(channel, address)
    e164 = e164.strip() if re.fullmatch(E164_PATTERN, (e164 or "").strip()) else \
        normalize_phone(e164, org_region(org_id))
    visitor, _ = find_or_create_client_by_identity(org_id, channel, address)
    owner = run_sql("""
        INSERT INTO client_contact (org_id, client_id, e164, label)
        VALUES (%(org)s, %(client)s, %(e164)s, 'mobile')
        ON CONFLICT (org_id, e164) DO NOTHING RETURNING client_id""",
                    {"org": org_id, "client": visitor, "e164": e164}).fetchone()
    if owner is not None:
        db.session.commit()
        return visitor
    owner_id, _ = find_or_create_client_by_phone(org_id, e164)
    if owner_id == visitor:
        db.session.commit()
        return visitor
    guest = run_sql("SELECT is_guest FROM client WHERE id = %(id)s", {"id": visitor}).fetchone()
    if guest is not None and guest.is_guest:
        return merge_client(org_id, visitor, owner_id, None)
    thread_id = find_or_create_thread(org_id, visitor)
    add_event(org_id, thread_id, "phone_not_linked",
              f"Left the phone {e164}, which another client holds: merge them if they are one "
              "person.")
    db.session.commit()
    return visitor


# --- senders --------------------------------------------------------------------------------

# Channel modules that register a sender when imported; a channel adds its module here.
SENDER_MODULES: list[str] = ["pawline.telegram", "pawline.meta", "pawline.webchat"]
_factories: dict[str, Callable] = {}


def register_sender(channel: str, factory: Callable) -> None:
    """`factory(app_config, account)` answers an object with the providers' `send`."""
    if channel not in CHANNELS or channel in PHONE_CHANNELS:
        raise ValueError(f"no sender can be registered for {channel!r}")
    _factories[channel] = factory


def load_senders() -> None:
    """Import every channel module, so each registers its sender (idempotent)."""
    for name in SENDER_MODULES:
        importlib.import_module(name)


class WhatsAppSender:
    """WhatsApp through Twilio: the SMS provider's own send, with `whatsapp:` addresses."""

    def __init__(self, sms_provider):
        self.sms_provider = sms_provider
        self.name = getattr(sms_provider, "name", "twilio")

    def send(self, *, from_e164, to_e164, body, status_callback=None, media_urls=()) -> Sent:
        return self.sms_provider.send(from_e164=f"whatsapp:{from_e164}",
                                      to_e164=f"whatsapp:{to_e164}", body=body,
                                      status_callback=status_callback, media_urls=media_urls)


def sender_for(channel: str, org_id: int, sms_provider):
    """What sends a message of `channel`: the SMS provider for sms (WhatsApp wraps it), else
    the registered factory given the organization's account. ProviderError (permanent) when
    the channel cannot send for this organization."""
    if channel == "sms":
        return sms_provider
    if channel == "whatsapp":
        return WhatsAppSender(sms_provider)
    if channel not in _factories:
        load_senders()
    factory = _factories.get(channel)
    if factory is None:
        raise ProviderError(f"{label(channel)} cannot send yet: it is not set up on this server.",
                            kind="permanent")
    account = channel_accounts.get(org_id, channel)
    return factory(current_app.config, account)


def can_send(channel: str) -> bool:
    """Whether this server has a sender for the channel (SMS and WhatsApp always do)."""
    if channel in PHONE_CHANNELS:
        return True
    load_senders()
    return channel in _factories
