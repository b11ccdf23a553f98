"""Meta webhook deliveries as Meta sends them: documented payloads, signed with the app secret."""

import hashlib
import hmac
import json
import time
import uuid

URL = "/webhooks/meta"
APP_SECRET = "test-meta-app-secret"
VERIFY_TOKEN = "test-meta-verify-token"
CONFIG = {"META_APP_SECRET": APP_SECRET, "META_VERIFY_TOKEN": VERIFY_TOKEN}


def signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(client, payload, secret: str = APP_SECRET, header: str | None = None):
    """POST the payload (a dict, or raw bytes) signed as Meta signs it, unless `header` says."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"X-Hub-Signature-256": signature(body, secret) if header is None else header}
    if header == "":
        headers = {}
    return client.post(URL, data=body, headers=headers, content_type="application/json")


def mid() -> str:
    return "m_" + uuid.uuid4().hex + uuid.uuid4().hex[:20]


def message(psid: str, account_id: str, text: str | None = "Is Rex okay?", *,
            message_id: str | None = None, attachments=None, is_echo: bool = False) -> dict:
    """One messaging event with a message (Messenger's and Instagram's shape)."""
    body = {"mid": message_id or mid()}
    if text is not None:
        body["text"] = text
    if attachments is not None:
        body["attachments"] = attachments
    if is_echo:
        body["is_echo"] = True
        psid, account_id = account_id, psid  # an echo comes from the page to the person
    return {"sender": {"id": psid}, "recipient": {"id": account_id},
            "timestamp": int(time.time() * 1000), "message": body}


def delivery(psid: str, account_id: str) -> dict:
    return {"sender": {"id": psid}, "recipient": {"id": account_id},
            "delivery": {"mids": [mid()], "watermark": int(time.time() * 1000)}}


def read(psid: str, account_id: str) -> dict:
    return {"sender": {"id": psid}, "recipient": {"id": account_id},
            "timestamp": int(time.time() * 1000), "read": {"watermark": int(time.time() * 1000)}}


def delivery_of(account_id: str, *events: dict, object_: str = "page") -> dict:
    """A webhook body: one entry for the account with these events."""
    return {"object": object_, "entry": [entry(account_id, *events)]}


def entry(account_id: str, *events: dict) -> dict:
    return {"id": account_id, "time": int(time.time() * 1000), "messaging": list(events)}
