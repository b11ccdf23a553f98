"""Webhooks from the SMS provider, signed (so CSRF-exempt): inbound SMS, status callbacks.

Twilio does not send a refused SMS again, so content never makes these fail: every value is read
with its control characters replaced (PostgreSQL refuses NUL) and bounded.
"""

import hmac
import re

from flask import Blueprint, current_app, request, url_for
from twilio.request_validator import RequestValidator

from blueprints.webhook_limits import limit_per_sender
from pawline import dead_letters
from pawline.errors import InvalidPhone
from pawline.inbound import UnknownNumber, apply_status_callback, receive_sms
from pawline.inputs import scrub
from pawline.media import Media, usable_url

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
SID_PATTERN = re.compile(r"^[A-Za-z]{2}[0-9A-Za-z]{8,62}$")
MAX_MEDIA = 100  # Twilio sends at most 10 media a message; a count past this is no count at all
# Twilio's error codes are five digits and its messages a sentence: longer is cut, not stored.
ERROR_CODE_KEPT, ERROR_MESSAGE_KEPT = 32, 1_000


class BadField(ValueError):
    """A webhook field is missing or malformed; the message is the one-line reason."""


@bp.before_request
def _require_signature():
    if not _signed_by_twilio():
        current_app.logger.warning("Twilio webhook refused: bad or missing signature (%s)",
                                   request.path)
        return _text("Bad or missing X-Twilio-Signature.", 403)
    return None


@bp.post("/twilio/sms")
@limit_per_sender("twilio sms", lambda: request.form.get("From"), with_the_view=True)
def twilio_sms():
    """Store an inbound SMS (a retried MessageSid is answered 200 and changes nothing); one that
    cannot be a message is kept as a dead letter, and the answer says why (Twilio's log)."""
    try:
        fields = _inbound_fields(request.form)
        receive_sms(**fields, provider="twilio", status_callback=_status_callback(),
                    reply_provider=current_app.config["SMS_PROVIDER"])
    except BadField as error:
        return _dead_letter(str(error), 400)
    except InvalidPhone as error:
        return _dead_letter(f"Malformed {(error.field or 'phone').title()}: {error.message}", 400)
    except UnknownNumber as error:
        current_app.logger.warning("Inbound SMS to a number in no pool: %s", error.message)
        return _dead_letter(error.message, 404)
    return EMPTY_TWIML, 200, {"Content-Type": "text/xml"}


def _dead_letter(reason: str, status: int):
    """Keep the SMS for the owners (Twilio will not send it again), then refuse it."""
    sid = _field(request.form, "MessageSid").strip()
    dead_letters.record("twilio", sid if SID_PATTERN.match(sid) else None,
                        request.form.to_dict(flat=False), reason)
    return _text(f"{reason} Kept as a dead letter.", status)


@bp.post("/twilio/status")
@limit_per_sender("twilio status", lambda: request.form.get("To"), with_the_view=True)
def twilio_status():
    """Apply a delivery status to an outbound message; unknown SIDs are ignored."""
    form = request.form
    apply_status_callback(_field(form, "MessageSid").strip(), _field(form, "MessageStatus"),
                          error_code=_field(form, "ErrorCode")[:ERROR_CODE_KEPT] or None,
                          error_message=_field(form, "ErrorMessage")[:ERROR_MESSAGE_KEPT] or None,
                          provider="twilio")
    return EMPTY_TWIML, 200, {"Content-Type": "text/xml"}


def _status_callback() -> str | None:
    """Where Twilio reports the status of a message we send (an answer to HELP)."""
    if current_app.config["SMS_PROVIDER"] != "twilio":
        return None
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/") or request.host_url.rstrip("/")
    return base + url_for("webhooks.twilio_status")


def _signed_by_twilio() -> bool:
    """True when X-Twilio-Signature signs this URL and the whole form with our auth token."""
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:  # with no token anyone could sign with the empty key
        return False
    validator, url = RequestValidator(token), _signed_url()
    # The URL as called signs almost every request: one HMAC. validate() tries the URL with and
    # without its port as well, since Twilio's signing is inconsistent there (two HMACs).
    computed = validator.compute_signature(url, request.form).encode()
    return hmac.compare_digest(computed, signature.encode()) or \
        validator.validate(url, request.form, signature)


def _signed_url() -> str:
    """The URL Twilio called: behind a proxy, PUBLIC_BASE_URL says its scheme and host."""
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    if not base:
        return request.url
    query = request.query_string.decode()
    return f"{base}{request.script_root}{request.path}" + (f"?{query}" if query else "")


def _inbound_fields(form) -> dict:
    """The arguments of receive_sms read from Twilio's form, or BadField saying which is wrong."""
    values = {}
    for name in ("MessageSid", "From", "To"):
        values[name] = _field(form, name).strip()
        if not values[name]:
            raise BadField(f"Missing {name}.")
    if not SID_PATTERN.match(values["MessageSid"]):
        raise BadField("Malformed MessageSid.")
    media = _field(form, "NumMedia").strip() or "0"
    if not (media.isascii() and media.isdigit() and int(media) <= MAX_MEDIA):
        raise BadField("Malformed NumMedia.")
    return {"to_raw": values["To"], "from_raw": values["From"], "body": _field(form, "Body"),
            "provider_sid": values["MessageSid"], "num_media": int(media),
            "media_items": _media(form, int(media))}


def _media(form, count: int) -> tuple[Media, ...]:
    """MediaUrlN and MediaContentTypeN for N below NumMedia; an unusable URL is left out (and
    logged) rather than losing the message with it."""
    found = []
    for n in range(count):
        url = _field(form, f"MediaUrl{n}").strip()
        if not usable_url(url):
            current_app.logger.warning("Inbound MMS %s: MediaUrl%d unusable, left out",
                                       _field(form, "MessageSid")[:64], n)
            continue
        found.append(Media(url, _field(form, f"MediaContentType{n}")[:255]))
    return tuple(found)


def _field(form, name: str) -> str:
    """A form value as PostgreSQL can store it: control characters replaced."""
    return scrub(form.get(name, ""))


def _text(reason: str, status: int):
    return reason + "\n", status, {"Content-Type": "text/plain; charset=utf-8"}
