"""Signing and posting booking-webhook requests, as a booking system does."""

import hashlib
import hmac
import json
import time

from pawline import sitters
from pawline.db import db
from pawline.inbound import receive_sms
from pawline.models import Organization
from tests import factories

STARTS, ENDS = "2029-12-01T09:00:00-05:00", "2029-12-01T17:00:00-05:00"
UPDATED = "2026-11-20T10:00:00+00:00"


def payload(tenant, **fields) -> bytes:
    body = {"external_ref": "BK-1", "client_phone": "+14155550111",
            "client_name": "Ada Lovelace", "sitter_id": tenant.sitter_id, "starts_at": STARTS,
            "ends_at": ENDS, "updated_at": UPDATED, "confirm": True}
    body.update(fields)
    return json.dumps(body).encode()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def post(client, tenant, body: bytes, secret: str | None = None, *, signature: str | None = None,
         timestamp: str | None = None, sent_ago: float = 0, slug: str | None = None):
    """POST `body` to the tenant's booking webhook, signed with `secret` (the tenant's by
    default) at a timestamp `sent_ago` seconds back; `signature`/`timestamp` override."""
    stamp = timestamp if timestamp is not None else str(int(time.time() - sent_ago))
    headers = {"Content-Type": "application/json", "X-Pawline-Timestamp": stamp}
    key = tenant.secret if secret is None else secret
    headers["X-Signature"] = signature if signature is not None else sign(key, stamp, body)
    return client.post(f"/webhooks/bookings/{slug or tenant.slug}", data=body, headers=headers)


def tenant(app):
    """An organization with a sitter, and the webhook secret its booking system signs with."""
    with app.app_context():
        made = factories.org()
        made.sitter_id = sitters.create_sitter(made.id, "Sam", factories.phone()).id
        made.secret = db.session.get(Organization, made.id).webhook_secret
    return made


def tenant_with_thread(app, pool: str, sid: str):
    """A tenant with a pool number and a thread a client opened by texting it."""
    made = tenant(app)
    with app.app_context():
        factories.number(made.id, pool, "pool")
        inbound = receive_sms(pool, "+14155552671", "Is Rex okay?", sid)
        made.thread_id, made.client_id = inbound.thread_id, inbound.client_id
    return made
