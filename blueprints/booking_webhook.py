"""The booking system's signed JSON webhook (HMAC, so exempt from CSRF).

POST /webhooks/bookings with a JSON body naming the organization by slug and the header
X-Signature: hex HMAC-SHA256 of the raw body keyed by the organization's webhook secret.
Unknown organizations and bad signatures both answer 403, so neither is revealed.
"""

import hashlib
import hmac
import json

import sqlalchemy as sa
from flask import Blueprint, jsonify, request

from pawline import bookings
from pawline.clients import NAME_MAX
from pawline.db import db
from pawline.errors import DomainError, NotFound
from pawline.inputs import json_problem
from pawline.models import Organization

bp = Blueprint("booking_webhook", __name__, url_prefix="/webhooks")

REQUIRED = ("external_ref", "client_phone", "sitter_id", "starts_at", "ends_at")
# What each text field may hold: a reference is an index key, a name a client's name.
LONGEST = {"external_ref": 200, "client_name": NAME_MAX, "client_phone": 64}


def _refuse(status: int, reason: str):
    return jsonify({"error": reason}), status


def _signed_by(org: Organization | None, body: bytes, signature: str) -> bool:
    secret = org.webhook_secret if org else "no organization"  # same work either way
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    given = signature.strip().lower().encode("utf-8", "replace")
    return hmac.compare_digest(expected.encode(), given) and org is not None


@bp.route("/bookings", methods=["POST"])
def receive_booking():
    """Create or update a booking by its external reference; confirm it when asked."""
    signature = request.headers.get("X-Signature", "")
    if not signature:
        return _refuse(403, "Missing signature.")
    body = request.get_data(cache=True)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # nested past Python's stack
        return _refuse(400, "The body is not JSON.")
    problem = json_problem(payload)  # PostgreSQL refuses NUL: a 400 now, not a 500 later
    if problem:
        return _refuse(400, problem)
    if not isinstance(payload, dict) or not isinstance(payload.get("org"), str):
        return _refuse(400, "The body must be a JSON object naming the organization in 'org'.")
    org = db.session.scalar(sa.select(Organization).where(Organization.slug == payload["org"]))
    if not _signed_by(org, body, signature):
        return _refuse(403, "Bad signature.")
    missing = [name for name in REQUIRED if payload.get(name) in (None, "")]
    if missing:
        return _refuse(400, f"Missing fields: {', '.join(missing)}.")
    problem = _field_problem(payload)
    if problem:
        return _refuse(400, problem)
    try:
        result = bookings.upsert_external_booking(
            org.id, str(payload["external_ref"]), payload["client_phone"],
            payload.get("client_name"), payload["sitter_id"],
            bookings.parse_instant(payload["starts_at"], "starts_at"),
            bookings.parse_instant(payload["ends_at"], "ends_at"),
            confirm=payload.get("confirm") is True)
    except NotFound as error:
        return _refuse(400, f"{error.field or 'record'}: {error.message}")
    except DomainError as error:
        status = 409 if error.field is None else 400
        return _refuse(status, f"{error.field + ': ' if error.field else ''}{error.message}")
    booking = result.booking
    return jsonify({"booking_id": booking.id, "status": booking.status,
                    "created": result.created, "changed": result.changed}), (
        201 if result.created else 200)


def _field_problem(payload: dict) -> str | None:
    """A field of the wrong type or length, said for the booking system's developers."""
    ref = payload["external_ref"]
    if isinstance(ref, bool) or not isinstance(ref, str | int):
        return "external_ref: a string (or an integer) is expected."
    for name, longest in LONGEST.items():
        if isinstance(payload.get(name), str) and len(payload[name]) > longest:
            return f"{name}: at most {longest} characters."
    return None
