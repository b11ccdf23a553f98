"""Telegram in the tests: an organization's bot with a registered webhook secret, and Updates
posted to our webhook the way Telegram posts them (JSON, the secret token header)."""

import json
import secrets

from bench.fake_telegram import message_update
from pawline import channel_accounts

TOKEN = "123456789:AAE" + "t" * 32
BOT_ID = "123456789"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


def connect(org_id: int, token: str = TOKEN, webhook_secret: str | None = None) -> str:
    """Give the organization the bot, as the settings page and the CLI leave it; answers the
    webhook secret (a fresh one unless given; "" leaves the webhook unregistered)."""
    secret = secrets.token_urlsafe(32) if webhook_secret is None else webhook_secret
    settings = {"webhook_secret": secret} if secret else {}
    channel_accounts.save(org_id, "telegram", token.split(":")[0], "@pawline_test_bot",
                          secret=token, settings=settings)
    return secret


def post_update(client, slug: str, update, secret: str | None):
    """POST an Update (a dict, or raw bytes) as Telegram does; secret None sends no header."""
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    headers = {HEADER: secret} if secret is not None else {}
    return client.post(f"/webhooks/telegram/{slug}", data=body, headers=headers,
                       content_type="application/json")


__all__ = ["BOT_ID", "HEADER", "TOKEN", "connect", "message_update", "post_update"]
