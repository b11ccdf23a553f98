"""Meta's webhook for Messenger and Instagram messages (signed, so exempt from CSRF).

GET /webhooks/meta is Meta's subscription check: `hub.mode=subscribe` and a `hub.verify_token`
equal (in constant time) to META_VERIFY_TOKEN are answered with `hub.challenge`, as plain text;
anything else is a 403.

POST /webhooks/meta carries `X-Hub-Signature-256: sha256=<hex>`, the HMAC-SHA256 of the raw body
keyed by the app secret (META_APP_SECRET). It is checked, in constant time, before the body is
parsed; a bad or missing signature (or no secret configured) is a 403 that stores nothing.

One delivery batches events of several pages: `object` says the channel ("page": Messenger,
"instagram": Instagram), and each `entry[].messaging[]` event names our side in `recipient.id`
(the page, or the Instagram account), which finds the organization through its connected
account. An event for an account nobody connected is logged and skipped, and the request still
answers 200: Meta retries a failed delivery whole, and the other events in it are good. Echoes
of our own sends, delivery and read receipts, and anything that is not a message are skipped.
A photo, video, audio or file becomes an attachment fetched from Meta's CDN by a job; any other
content without text is kept with a short placeholder, never dropped (pawline.meta_inbound).
The message id (`mid`) is the provider_sid, so a delivery Meta sends again changes nothing.
"""

import hashlib
import hmac
import json
import logging
import re

from flask import Blueprint, current_app, request

from pawline import channel_accounts, channels
from pawline.errors import DomainError
from pawline.inputs import scrub
from pawline.meta_inbound import clean, content_of

bp = Blueprint("meta_webhook", __name__, url_prefix="/webhooks")
log = logging.getLogger("pawline.webhooks")

MAX_BODY_BYTES = 512 * 1024  # Meta batches; one message event is well under 2 KiB
CHALLENGE_MAX = 256
OBJECTS = {"page": "messenger", "instagram": "instagram"}
SCOPED_ID = re.compile(r"[0-9]{1,40}")  # page-scoped and Instagram-scoped ids, page ids
MID = re.compile(r"[A-Za-z0-9_.:+/=-]{1,400}")


def _text(reason: str, status: int):
    return reason + "\n", status, {"Content-Type": "text/plain; charset=utf-8"}


def _same(given: str, expected: str) -> bool:
    """Constant-time equality of two texts (any characters, any lengths)."""
    return hmac.compare_digest(given.encode("utf-8", "replace"),
                               expected.encode("utf-8", "replace"))


@bp.get("/meta")
def verify():
    """Meta's subscription check: echo hub.challenge for our verify token, else 403."""
    expected = current_app.config.get("META_VERIFY_TOKEN") or ""
    given = request.args.get("hub.verify_token", "")
    token_ok = _same(given, expected) and bool(expected)  # compared even when none is set
    challenge = request.args.get("hub.challenge", "")
    if request.args.get("hub.mode") != "subscribe" or not token_ok:
        log.warning("Meta webhook verification refused (mode %r)",
                    scrub(request.args.get("hub.mode", ""))[:20])
        return _text("Verification refused.", 403)
    if not challenge or len(challenge) > CHALLENGE_MAX or scrub(challenge) != challenge:
        return _text("Missing or malformed hub.challenge.", 400)
    return challenge, 200, {"Content-Type": "text/plain; charset=utf-8"}


def signed_by_meta(body: bytes, header: str, secret: str) -> bool:
    """True when `header` is `sha256=` and the hex HMAC-SHA256 of `body` keyed by `secret`."""
    scheme, _, given = header.strip().partition("=")
    expected = hmac.new((secret or "no secret").encode(), body, hashlib.sha256).hexdigest()
    same = hmac.compare_digest(expected.encode(), given.strip().lower().encode("ascii", "replace"))
    return same and scheme.lower() == "sha256" and bool(secret)


def _read_body() -> bytes | None:
    """The raw body, or None when it is longer than MAX_BODY_BYTES (never read past that)."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return None
    body = request.stream.read(MAX_BODY_BYTES + 1)
    return None if len(body) > MAX_BODY_BYTES else body


@bp.post("/meta")
def receive():
    """Store each message event of a signed delivery; answer 200 once every event is handled."""
    body = _read_body()
    if body is None:
        return _text(f"The body is longer than {MAX_BODY_BYTES} bytes.", 413)
    secret = current_app.config.get("META_APP_SECRET") or ""
    if not signed_by_meta(body, request.headers.get("X-Hub-Signature-256", ""), secret):
        log.warning("Meta webhook refused: bad or missing X-Hub-Signature-256")
        return _text("Bad or missing X-Hub-Signature-256.", 403)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _text("The body is not JSON.", 400)
    kind = payload.get("object") if isinstance(payload, dict) else None
    channel = OBJECTS.get(kind) if isinstance(kind, str) else None
    if channel is None:
        log.warning("Meta webhook: object %r is not one we subscribe to; ignored",
                    clean(str(kind))[:40])
        return _text("EVENT_RECEIVED", 200)
    for event in _events(payload):
        _store(channel, event)
    return _text("EVENT_RECEIVED", 200)


def _events(payload: dict):
    """Each messaging event of each entry, whatever else the entries hold."""
    entries = payload.get("entry")
    for entry in entries if isinstance(entries, list) else ():
        events = entry.get("messaging") if isinstance(entry, dict) else None
        for event in events if isinstance(events, list) else ():
            if isinstance(event, dict):
                yield event


def _store(channel: str, event: dict) -> bool:
    """Store one event if it is a person's message to a connected account; answer whether so."""
    message = event.get("message")
    if not isinstance(message, dict) or message.get("is_echo") is True \
            or message.get("is_deleted") is True:
        return False  # receipts, reads, postbacks, reactions; our own sends; an unsent message
    sender, recipient = _id(event, "sender"), _id(event, "recipient")
    mid = message.get("mid")
    if not (sender and recipient and isinstance(mid, str) and MID.fullmatch(mid)):
        log.warning("Meta webhook: a %s message without a usable sender, recipient or mid; "
                    "skipped", channel)
        return False
    account = channel_accounts.by_account(channel, recipient)
    if account is None:
        log.warning("Meta webhook: %s message %s to account %s, which no organization "
                    "connected; skipped", channel, mid[:64], recipient)
        return False
    try:
        content = content_of(message)
        channels.receive(account.org_id, channel, sender, content.text, provider="meta",
                         provider_sid=mid, to_address=recipient, media_items=content.media)
    except DomainError as refused:
        log.warning("Meta webhook: %s message %s refused: %s", channel, mid[:64], refused)
        return False
    return True


def _id(event: dict, side: str) -> str | None:
    value = event.get(side)
    value = value.get("id") if isinstance(value, dict) else None
    return value if isinstance(value, str) and SCOPED_ID.fullmatch(value) else None
