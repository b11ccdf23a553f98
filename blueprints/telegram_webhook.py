"""Telegram's webhook: POST /webhooks/telegram/<org slug>, one Update a request (CSRF-exempt:
it proves itself by the secret token instead).

Telegram sends the secret_token we gave setWebhook in X-Telegram-Bot-Api-Secret-Token; it is
compared in constant time with the one stored for the organization's bot. An unknown slug, or
an organization without a bot, is 404; a missing or wrong token 403, before the body is read.

Telegram sends an update again until it gets a 2xx, and holds the bot's later updates
meanwhile, so a valid update is answered 200 at once: a repeat (the same update_id) changes
nothing, other kinds of updates are ignored. For the same reason there is no per-sender 429
here (as blueprints/webhook_limits.py has for Twilio): refusing one busy chat would stall every
chat of the bot; the body is bounded instead.
"""

import hmac
import json
import logging
import re

import sqlalchemy as sa
from flask import Blueprint, jsonify, request

from pawline import channel_accounts
from pawline.db import db
from pawline.errors import DomainError
from pawline.inputs import scrub
from pawline.models import Organization
from pawline.telegram_inbound import BadUpdate, receive_update

bp = Blueprint("telegram_webhook", __name__, url_prefix="/webhooks")
log = logging.getLogger("pawline.webhooks")

HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 64 * 1024  # an Update with a message is a few KiB (text is 4,096 at most)
SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")  # organization.slug's own check


def _answer(reason: str, status: int):
    return jsonify({"ok": status < 400, "description": reason}), status


def _read_body() -> bytes | None:
    """The raw body, or None when it is longer than MAX_BODY_BYTES (never read past that)."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return None
    body = request.stream.read(MAX_BODY_BYTES + 1)
    return None if len(body) > MAX_BODY_BYTES else body


def _org_id(slug: str) -> int | None:
    if not SLUG.fullmatch(slug):  # else no organization's: and a NUL would reach PostgreSQL
        return None
    return db.session.scalar(sa.select(Organization.id).where(Organization.slug == slug))


def _from_telegram(expected: str | None) -> bool:
    given = request.headers.get(HEADER, "")
    if not given or not expected:  # no registered webhook: nobody can match the empty secret
        return False
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


@bp.post("/telegram/<slug>")
def receive(slug: str):
    """Store the message an Update carries in its client's thread; always 200 once valid."""
    org_id = _org_id(slug)
    account = channel_accounts.get(org_id, "telegram") if org_id else None
    if account is None:
        return _answer("No Telegram bot here.", 404)
    if not _from_telegram(account.settings.get("webhook_secret")):
        log.warning("Telegram webhook refused for %s: bad or missing %s", slug, HEADER)
        return _answer(f"Bad or missing {HEADER}.", 403)
    body = _read_body()
    if body is None:
        return _answer(f"The body is longer than {MAX_BODY_BYTES} bytes.", 413)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _answer("The body is not JSON.", 400)
    try:  # every string read from it is scrubbed of control characters (pawline.inputs)
        receive_update(org_id, account.account_id, payload)
    except BadUpdate as error:
        return _answer(str(error), 400)
    except DomainError as error:
        log.warning("Telegram update for %s not stored: %s", slug, scrub(error.message))
        return _answer(error.message, 400)
    return _answer("ok", 200)
