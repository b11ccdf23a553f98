"""Where a reply goes on each channel, and the channel rules checked before anything is stored.

SMS keeps its routing rules exactly (pawline.routing). WhatsApp goes through Twilio from the
number the client last wrote to on WhatsApp. Every other channel sends from the organization's
account on it (a bot, a page, the widget) to the client's address there. WhatsApp, Messenger and
Instagram allow a free-form reply only within 24 hours of the client's last message on that
channel (Twilio error 63016; Meta's standard messaging window): refused here, before storing.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from pawline import channel_accounts
from pawline.channel_models import CHANNELS, IDENTITY_CHANNELS, ClientIdentity
from pawline.consent import OPT_OUT, keyword
from pawline.db import db
from pawline.errors import DomainError
from pawline.models import ClientContact, Message, Thread

WINDOW = timedelta(hours=24)
WINDOW_CHANNELS = ("whatsapp", "messenger", "instagram")
LABELS = {"sms": "SMS", "whatsapp": "WhatsApp", "webchat": "Web chat", "telegram": "Telegram",
          "messenger": "Messenger", "instagram": "Instagram"}
PROVIDERS = {"webchat": "webchat", "telegram": "telegram", "messenger": "meta",
             "instagram": "meta"}
ACCOUNT_WORDS = {"webchat": "the website's chat widget", "telegram": "the organization's bot",
                 "messenger": "the organization's Facebook page",
                 "instagram": "the organization's Instagram account"}


@dataclass
class ChannelRoute:
    """A non-SMS message's sender and recipient, with the trace stored beside it."""

    channel: str
    from_address: str
    to_address: str
    number_id: int | None
    provider: str | None  # None: the configured SMS provider (WhatsApp goes through Twilio)
    reason: str
    steps: list[str] = field(default_factory=list)

    def trace(self, now: datetime) -> dict:
        return {"rule": 0, "rule_name": LABELS[self.channel], "channel": self.channel,
                "number": self.from_address, "number_id": self.number_id, "line": "",
                "reason": self.reason, "steps": self.steps, "decided_at": now.isoformat()}


def last_inbound(thread_id: int, channel: str | None = None):
    """The client's last message in the thread (on `channel`, if given): channel, from, to,
    number and time, or None. The thread's ids backwards (ix_message_thread_id_id)."""
    query = (sa.select(Message.channel, Message.from_e164, Message.to_e164, Message.number_id,
                       Message.created_at, Message.body)
             .where(Message.thread_id == thread_id, Message.direction == "inbound"))
    if channel is not None:
        query = query.where(Message.channel == channel)
    return db.session.execute(query.order_by(Message.id.desc()).limit(1)).first()


def reply_channel(thread_id: int) -> str:
    """The channel a reply goes on by default: where the client last wrote; SMS if never."""
    last = last_inbound(thread_id)
    return last.channel if last is not None else "sms"


def default_channel(org_id: int, thread: Thread, automatic: bool = False) -> str:
    """Where a message goes unless staff pick: where the client last wrote; an automatic one
    (a booking confirmation, a reminder) by SMS when the client has a phone, since the business
    writes first and WhatsApp and Meta allow that only with approved templates."""
    if automatic and has_phone(org_id, thread.client_id):
        return "sms"
    return reply_channel(thread.id)


def has_phone(org_id: int, client_id: int) -> bool:
    return db.session.scalar(sa.select(sa.exists().where(
        ClientContact.org_id == org_id, ClientContact.client_id == client_id))) or False


def client_channels(org_id: int, thread: Thread) -> list[str]:
    """The channels a reply to this client can take: SMS with a phone, WhatsApp once they
    wrote on it, and every channel they have an identity on. In CHANNELS order."""
    found = set(db.session.scalars(sa.select(ClientIdentity.channel).where(
        ClientIdentity.org_id == org_id, ClientIdentity.client_id == thread.client_id)))
    if has_phone(org_id, thread.client_id):
        found.add("sms")
    if last_inbound(thread.id, "whatsapp") is not None:
        found.add("whatsapp")
    return [channel for channel in CHANNELS if channel in found]


def _window_closed(org_id: int, thread: Thread, channel: str) -> DomainError:
    hint = "; send an SMS instead" if has_phone(org_id, thread.client_id) else ""
    return DomainError(f"{LABELS[channel]} replies are only allowed within 24 hours of the "
                       f"client's last message{hint}.", "body")


def plan(org_id: int, thread: Thread, channel: str, now: datetime) -> ChannelRoute:
    """The route of a reply on a channel other than SMS; DomainError when the channel's rules
    forbid it (no address there, no account, the 24-hour window closed)."""
    if channel not in CHANNELS or channel == "sms":
        raise DomainError("Pick one of the client's channels.", "channel")
    name = LABELS[channel]
    last = last_inbound(thread.id, channel)
    if channel in WINDOW_CHANNELS and (last is None or now - last.created_at > WINDOW):
        if last is None and channel == "whatsapp":
            raise DomainError("This client has not written on WhatsApp: a reply there needs "
                              "their message first.", "channel")
        raise _window_closed(org_id, thread, channel)
    if channel == "whatsapp":
        said = keyword(last.body)
        if said is not None and said.kind == OPT_OUT:
            hint = "; send an SMS instead" if has_phone(org_id, thread.client_id) else ""
            raise DomainError(f"The client wrote {said.word} on WhatsApp: nothing more goes to "
                              f"them there until they write again{hint}.", "body")
        return ChannelRoute(channel, last.to_e164, last.from_e164, last.number_id, None,
                            "WhatsApp: from the number the client last wrote to on WhatsApp.")
    address = last.from_e164 if last is not None else db.session.scalar(
        sa.select(ClientIdentity.address).where(
            ClientIdentity.org_id == org_id, ClientIdentity.client_id == thread.client_id,
            ClientIdentity.channel == channel).order_by(ClientIdentity.id).limit(1))
    if address is None:
        raise DomainError(f"This client has no {name} address.", "channel")
    account = channel_accounts.get(org_id, channel)
    if account is None:
        raise DomainError(f"{name} is not set up for this organization: an owner can add it "
                          "under Settings, Channels.", "channel")
    assert channel in IDENTITY_CHANNELS
    return ChannelRoute(channel, account.account_id, address, None, PROVIDERS[channel],
                        f"{name}: from {ACCOUNT_WORDS[channel]}.")
