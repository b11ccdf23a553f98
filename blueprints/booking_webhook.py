"""The booking system's signed JSON webhook (HMAC, so exempt from CSRF).

POST /webhooks/bookings/<org slug> with two headers:

- X-Pawline-Timestamp: the time of sending, in whole seconds since the Unix epoch;
- X-Signature: hex HMAC-SHA256, keyed by the organization's webhook secret, of the timestamp,
  a dot and the raw body (`f"{timestamp}.".encode() + body`).

The signature is checked before the body is parsed, and a timestamp more than five minutes from
our clock is refused, so a captured request cannot be replayed later. Within those five minutes
a replay changes nothing either: each payload carries the booking system's `updated_at`, and
only a newer version is applied (pawline.external_bookings). Unknown organizations and bad
signatures both answer 403, so neither is revealed. The body is a bounded JSON object whose
fields have exact types (FIELDS); anything else is a 400 that names the field.
"""

import hashlib
import hmac
import json
import re
import time

import sqlalchemy as sa
from flask import Blueprint, jsonify, request

from blueprints.webhook_limits import limit_per_sender
from pawline import external_bookings
from pawline.bookings import parse_instant
from pawline.clients import NAME_MAX
from pawline.db import db
from pawline.errors import DomainError, NotFound
from pawline.inputs import json_problem
from pawline.models import Organization

bp = Blueprint("booking_webhook", __name__, url_prefix="/webhooks")

TOLERANCE_SECONDS = 5 * 60
MAX_BODY_BYTES = 16 * 1024  # a booking is well under 1 KiB
MAX_NESTING = 4  # the booking is a flat object; a system's extra fields may nest a little
MAX_TEXT = 200
LONGEST = {"client_name": NAME_MAX}  # a client's name as the clients page allows it
BIGINT_MAX = 2**63 - 1
TIMESTAMP = re.compile(r"[0-9]{1,12}")
SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")  # organization.slug's own check

# name: (JSON type, required); a text field is at most MAX_TEXT characters, or LONGEST says
FIELDS = {
    "org": (str, False),  # the slug again, when sent: it must be the URL's
    "external_ref": (str, True),
    "client_phone": (str, True),
    "client_name": (str, False),
    "sitter_id": (int, True),
    "starts_at": (str, True),
    "ends_at": (str, True),
    "updated_at": (str, True),
    "confirm": (bool, False),
}


class BadPayload(Exception):
    pass


def _refuse(status: int, reason: str):
    return jsonify({"error": reason}), status


def _signed_by(org: Organization | None, timestamp: str, body: bytes, signature: str) -> bool:
    secret = org.webhook_secret if org else "no organization"  # same work either way
    signed = timestamp.encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    given = signature.strip().lower().encode("utf-8", "replace")
    return hmac.compare_digest(expected.encode(), given) and org is not None


def nesting(body: bytes) -> int:
    """How deep the JSON text's arrays and objects nest (strings skipped), counted without
    parsing it, so a deeply nested body is refused before the parser recurses into it."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_NESTING:
                    return deepest
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def _read_body() -> bytes | None:
    """The raw body, or None when it is longer than MAX_BODY_BYTES (never read past that)."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return None
    body = request.stream.read(MAX_BODY_BYTES + 1)
    return None if len(body) > MAX_BODY_BYTES else body


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def parse_payload(body: bytes) -> dict:
    """The booking the body describes, every field of its exact type, or BadPayload."""
    if nesting(body) > MAX_NESTING:
        raise BadPayload(f"The body nests deeper than {MAX_NESTING} levels.")
    try:
        payload = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError):
        raise BadPayload("The body is not JSON.") from None
    problem = json_problem(payload)  # PostgreSQL refuses NUL: a 400 now, not a 500 later
    if problem:
        raise BadPayload(problem)
    if not isinstance(payload, dict):
        raise BadPayload("The body must be a JSON object.")
    missing = [name for name, (_, required) in FIELDS.items()
               if required and payload.get(name) in (None, "")]
    if missing:
        raise BadPayload(f"Missing fields: {', '.join(missing)}.")
    for name, (kind, _) in FIELDS.items():
        value = payload.get(name)
        if value is None:
            continue
        # bool is an int to Python, but `true` is not a sitter's id
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise BadPayload(f"{name} must be a {_json_type(kind)}.")
        longest = LONGEST.get(name, MAX_TEXT)
        if kind is str and len(value) > longest:
            raise BadPayload(f"{name} is longer than {longest} characters.")
        if kind is int and not 0 < value <= BIGINT_MAX:
            raise BadPayload(f"{name}: no such sitter.")
    return payload


def _json_type(kind) -> str:
    return {str: "string", int: "whole number", bool: "boolean (true or false)"}[kind]


@bp.route("/bookings/<slug>", methods=["POST"])
@limit_per_sender("bookings")  # per client address
def receive_booking(slug: str):
    """Create a booking by its external reference, or apply a newer version; confirm it when
    asked."""
    signature = request.headers.get("X-Signature", "")
    timestamp = request.headers.get("X-Pawline-Timestamp", "").strip()
    if not signature or not timestamp:
        return _refuse(403, "Missing signature or timestamp.")
    body = _read_body()
    if body is None:
        return _refuse(413, f"The body is longer than {MAX_BODY_BYTES} bytes.")
    known = SLUG.fullmatch(slug)  # else no organization's: and a NUL would reach PostgreSQL
    org = db.session.scalar(sa.select(Organization).where(Organization.slug == slug)) if known \
        else None
    if not _signed_by(org, timestamp, body, signature):
        return _refuse(403, "Bad signature.")
    if not TIMESTAMP.fullmatch(timestamp) or abs(time.time() - int(timestamp)) > (
            TOLERANCE_SECONDS):
        return _refuse(403, "The timestamp is more than 5 minutes from now: sign it again.")
    try:
        payload = parse_payload(body)
        if payload.get("org", slug) != slug:
            raise BadPayload("org names another organization than the URL.")
        result = external_bookings.upsert_external_booking(
            org.id, payload["external_ref"], payload["client_phone"],
            payload.get("client_name"), payload["sitter_id"],
            parse_instant(payload["starts_at"], "starts_at"),
            parse_instant(payload["ends_at"], "ends_at"),
            parse_instant(payload["updated_at"], "updated_at"),
            confirm=payload.get("confirm") is True)
    except BadPayload as error:
        return _refuse(400, str(error))
    except NotFound as error:
        return _refuse(400, f"{error.field or 'record'}: {error.message}")
    except DomainError as error:
        status = 409 if error.field is None else 400
        return _refuse(status, f"{error.field + ': ' if error.field else ''}{error.message}")
    booking = result.booking
    return jsonify({"booking_id": booking.id, "status": booking.status,
                    "created": result.created, "changed": result.changed,
                    "stale": result.stale}), 201 if result.created else 200
