"""Channels other than SMS: the identities clients write from and the organization's accounts.

Phones (sms and whatsapp) stay in client_contact, whose UNIQUE (org_id, e164) (I1) already makes a
phone one identity for both channels. Every other channel's address is a client_identity row,
unique per organization and channel (I15), so two first messages racing from one Telegram chat
or one widget visitor can only ever make one identity, one client and one thread. Imported at
the end of pawline.models.
"""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from pawline.db import db
from pawline.models import TenantScoped, _created, _in, _pk

CHANNELS = ("sms", "whatsapp", "webchat", "telegram", "messenger", "instagram")
PHONE_CHANNELS = ("sms", "whatsapp")
IDENTITY_CHANNELS = ("webchat", "telegram", "messenger", "instagram")
ACCOUNT_CHANNELS = ("whatsapp", "webchat", "telegram", "messenger", "instagram")
# The shape of an address on each identity channel (what the platform gives us).
ADDRESS_PATTERNS = {
    "telegram": r"^-?[0-9]{1,20}$",  # a chat id (negative for groups)
    "messenger": r"^[0-9]{1,40}$",  # a page-scoped id
    "instagram": r"^[0-9]{1,40}$",  # an Instagram-scoped id
    "webchat": r"^[A-Za-z0-9_-]{16,64}$",  # the visitor id the widget makes
}
ADDRESS_SHAPE_SQL = " OR ".join(
    f"(channel = '{channel}' AND address ~ '{pattern}')"
    for channel, pattern in ADDRESS_PATTERNS.items())


class ClientIdentity(TenantScoped, db.Model):
    """A client's address on a non-phone channel; UNIQUE (org_id, channel, address) is I15."""

    __tablename__ = "client_identity"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "channel", "address"),  # I15
        sa.ForeignKeyConstraint(
            ["client_id", "org_id"], ["client.id", "client.org_id"], ondelete="CASCADE"
        ),
        sa.CheckConstraint(_in("channel", IDENTITY_CHANNELS), name="channel_known"),
        sa.CheckConstraint(ADDRESS_SHAPE_SQL, name="address_shape"),
        sa.CheckConstraint("display_name IS NULL OR length(display_name) <= 200",
                           name="display_name_length"),
        sa.Index("ix_client_identity_client_id", "client_id"),
    )

    id: Mapped[int] = _pk()
    client_id: Mapped[int] = mapped_column(sa.BigInteger)
    channel: Mapped[str] = mapped_column(sa.Text)
    address: Mapped[str] = mapped_column(sa.Text)
    display_name: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = _created()


class ChannelAccount(TenantScoped, db.Model):
    """The organization's own account on a channel: a bot, a page, a widget key.

    UNIQUE (org_id, channel): one account per channel. UNIQUE (channel, account_id): a webhook
    finds its organization from the account it was sent to. The secret (a bot token, a page
    access token) is stored sealed (pawline.secret_box), never in clear.
    """

    __tablename__ = "channel_account"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "channel"),
        sa.UniqueConstraint("channel", "account_id"),
        sa.CheckConstraint(_in("channel", ACCOUNT_CHANNELS), name="channel_known"),
        sa.CheckConstraint("length(account_id) BETWEEN 1 AND 200", name="account_id_present"),
    )

    id: Mapped[int] = _pk()
    channel: Mapped[str] = mapped_column(sa.Text)
    account_id: Mapped[str] = mapped_column(sa.Text)
    display_name: Mapped[str] = mapped_column(sa.Text, server_default="")
    secret_sealed: Mapped[str | None] = mapped_column(sa.Text)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=sa.text("'{}'::jsonb"))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _created()
