"""An organization's Telegram bot: connecting it by its token, and registering our webhook.

The token is checked with getMe against the configured Bot API before it is kept, and kept
sealed (channel_accounts, pawline.secret_box); the account id is the bot's numeric id, so the
same bot cannot serve two organizations. Registering the webhook (setWebhook) gives Telegram a
fresh random secret_token, which it sends back in X-Telegram-Bot-Api-Secret-Token with every
update; the webhook compares it with the one stored in the account's settings.
"""

import secrets
from urllib.parse import urlsplit

from pawline import channel_accounts
from pawline.channel_accounts import Account
from pawline.errors import DomainError
from pawline.providers import TRANSIENT, UNKNOWN, ProviderError
from pawline.telegram import bot_id_of, client_from_config

CHANNEL = "telegram"


def webhook_path(slug: str) -> str:
    return f"/webhooks/telegram/{slug}"


def webhook_url(public_base_url: str, slug: str) -> str:
    """Where Telegram posts the bot's updates; the base must be an http(s) address."""
    base = (public_base_url or "").strip().rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.query:
        raise DomainError("The public address must look like https://paw.example.com.",
                          "public_base_url")
    return base + webhook_path(slug)


def _unreachable(error: ProviderError) -> str:
    """A failed getMe or setWebhook, said for an owner: Telegram's refusal in its words."""
    if error.kind in (TRANSIENT, UNKNOWN):
        return "Telegram could not be asked right now (no answer, or busy). Try again soon."
    return f"Telegram refused: {error.message}"


def connect_bot(org_id: int, token: str, config, actor_user_id: int | None = None) -> Account:
    """Check the token with getMe and keep it sealed, with the bot's @username; commit.

    A new bot starts without a webhook: its secret is cleared until it is registered."""
    try:
        bot_id = bot_id_of(token)
    except ValueError as error:
        raise DomainError(str(error), "token") from None
    try:
        bot = client_from_config(config, token).get_me()
    except ProviderError as error:
        raise DomainError(_unreachable(error), "token") from None
    if bot.id != bot_id:
        raise DomainError("Telegram answered for another bot than this token's.", "token")
    current = channel_accounts.get(org_id, CHANNEL)
    same_bot = current is not None and current.account_id == bot_id
    settings = dict(current.settings) if same_bot else {}
    try:
        return channel_accounts.save(org_id, CHANNEL, bot_id, f"@{bot.username}",
                                     secret=token.strip(), settings=settings,
                                     actor_user_id=actor_user_id)
    except DomainError as error:
        if error.field == "account_id":
            raise DomainError("This bot is already connected to another organization.",
                              "token") from None
        raise


def register_webhook(org_id: int, slug: str, public_base_url: str, config,
                     actor_user_id: int | None = None) -> str:
    """setWebhook to our address with a fresh secret_token, then keep that secret; commit.
    Answers the webhook URL.

    Telegram is told first: an update it sends before the secret is stored is refused (403)
    and Telegram sends it again; storing first would refuse every update if setWebhook failed.
    """
    account = channel_accounts.get(org_id, CHANNEL)
    if account is None or not account.secret:
        raise DomainError("Connect a Telegram bot first: paste its token.", "token")
    url = webhook_url(public_base_url, slug)
    secret = secrets.token_urlsafe(32)  # A-Z a-z 0-9 _ -, as setWebhook allows
    try:
        client_from_config(config, account.secret).set_webhook(url, secret)
    except ProviderError as error:
        raise DomainError(_unreachable(error), "public_base_url") from None
    channel_accounts.save(org_id, CHANNEL, account.account_id, account.display_name,
                          settings={**account.settings, "webhook_secret": secret,
                                    "webhook_url": url},
                          actor_user_id=actor_user_id)
    return url
