"""Tokens of channel accounts (a Telegram bot token, a Meta page access token) sealed at rest.

Fernet (AES-CBC with an HMAC, versioned tokens) from `cryptography`, never hand-rolled: a
database dump or backup alone does not give away the tokens that send as the business. The key
is CHANNEL_SECRETS_KEY. In development (the embedded database) a key is derived from SECRET_KEY
so the demo needs no setup; in production sealing without CHANNEL_SECRETS_KEY is refused, since
a key derived from the session key would change whenever that one is rotated.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

from pawline.config import ConfigError


class SecretUnreadable(ConfigError):
    """A sealed secret that the configured key cannot open (the key changed, or it was altered)."""


def _fernet() -> Fernet:
    config = current_app.config
    key = config.get("CHANNEL_SECRETS_KEY") or ""
    if not key:
        if not config.get("EMBEDDED_DATABASE", True) and not config.get("TESTING"):
            raise ConfigError("CHANNEL_SECRETS_KEY must be set to store a channel's token.")
        digest = hashlib.sha256(b"pawline channel secrets:" + config["SECRET_KEY"].encode())
        key = base64.urlsafe_b64encode(digest.digest()).decode()
    return Fernet(key)


def seal(text: str) -> str:
    """`text` encrypted and authenticated, as ASCII to store."""
    return _fernet().encrypt(text.encode()).decode()


def unseal(sealed: str) -> str:
    """The text `seal` was given; SecretUnreadable if this key did not seal it."""
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("A stored channel token cannot be read with CHANNEL_SECRETS_KEY: "
                               "was the key changed? Enter the token again.") from None
