"""The organization's account on each channel (a bot, a page, a widget key), its token sealed.

A webhook finds its organization by the account it was sent to (`by_account`), so the
account id is unique per channel across organizations; an organization has one account per
channel. `save` is one upsert statement: two owners saving at once leave one row.
"""

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError

from pawline import audit, secret_box
from pawline.channel_models import ACCOUNT_CHANNELS, ChannelAccount
from pawline.clock import utcnow
from pawline.db import constraint_name, db
from pawline.errors import DomainError

ACCOUNT_TAKEN = "uq_channel_account_channel_account_id"


@dataclass(frozen=True)
class Account:
    org_id: int
    channel: str
    account_id: str
    display_name: str
    settings: dict[str, Any] = field(default_factory=dict)
    secret: str | None = None  # unsealed


def _account(row: ChannelAccount | None) -> Account | None:
    if row is None:
        return None
    secret = secret_box.unseal(row.secret_sealed) if row.secret_sealed else None
    return Account(row.org_id, row.channel, row.account_id, row.display_name,
                   dict(row.settings or {}), secret)


def get(org_id: int, channel: str) -> Account | None:
    """The organization's account on `channel`, or None when it has not set one up."""
    return _account(db.session.scalar(sa.select(ChannelAccount).where(
        ChannelAccount.org_id == org_id, ChannelAccount.channel == channel)))


def by_account(channel: str, account_id: str) -> Account | None:
    """The account a webhook names (a bot id, a page id, a widget key), whichever org owns it."""
    return _account(db.session.scalar(sa.select(ChannelAccount).where(
        ChannelAccount.channel == channel, ChannelAccount.account_id == str(account_id))))


def save(org_id: int, channel: str, account_id: str, display_name: str,
         secret: str | None = None, settings: dict | None = None,
         actor_user_id: int | None = None) -> Account:
    """Create or replace the organization's account on `channel`, in one statement; commit.

    `secret` None keeps the stored one; `settings` None keeps the stored settings. An account
    id another organization already uses is refused (DomainError on `account_id`).
    """
    if channel not in ACCOUNT_CHANNELS:
        raise DomainError(f"Unknown channel {channel!r}.", "channel")
    account_id = str(account_id or "").strip()
    if not account_id:
        raise DomainError("The account id is missing.", "account_id")
    now = utcnow()
    values = {"org_id": org_id, "channel": channel, "account_id": account_id,
              "display_name": (display_name or "").strip(), "updated_at": now}
    if secret is not None:
        values["secret_sealed"] = secret_box.seal(secret)
    if settings is not None:
        values["settings"] = settings
    changed = {k: v for k, v in values.items() if k not in ("org_id", "channel")}
    statement = (insert(ChannelAccount).values(**values, created_at=now)
                 .on_conflict_do_update(index_elements=["org_id", "channel"], set_=changed)
                 .returning(ChannelAccount.id))
    try:
        with db.session.begin_nested():
            row_id = db.session.scalar(statement)
    except IntegrityError as error:
        if constraint_name(error) == ACCOUNT_TAKEN:
            raise DomainError("Another organization already uses this account.",
                              "account_id") from None
        raise
    audit.record(org_id, actor_user_id, "channel_account.saved", "channel_account", row_id, {
        "channel": channel, "account_id": account_id, "secret_changed": secret is not None,
        "settings": sorted((settings or {}).keys())}, now=now)
    db.session.commit()
    return get(org_id, channel)


@dataclass(frozen=True)
class ChannelState:
    """One line of the owners' channel list: the channel, its account (if set up), and
    whether this server can send on it."""

    channel: str
    account_id: str | None
    display_name: str
    has_secret: bool
    can_send: bool


def overview(org_id: int) -> list[ChannelState]:
    """Every channel but SMS, in CHANNELS order, with the organization's account on it (one
    query; the tokens stay sealed)."""
    from pawline import channels  # it imports inbound; this module stays light

    rows = {row.channel: row for row in db.session.scalars(
        sa.select(ChannelAccount).where(ChannelAccount.org_id == org_id))}
    states = []
    for channel in channels.CHANNELS[1:]:
        row = rows.get(channel)
        states.append(ChannelState(
            channel, row.account_id if row else None, row.display_name if row else "",
            bool(row and row.secret_sealed), channels.can_send(channel)))
    return states
