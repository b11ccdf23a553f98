"""Helpers for tests that post signed Twilio webhooks, as Twilio would."""

import itertools

from twilio.request_validator import RequestValidator

TOKEN = "test-auth-token"  # tests.conftest.make_app's TWILIO_AUTH_TOKEN
_sids = itertools.count(1)


def message_sid() -> str:
    """A fresh Twilio-shaped message SID."""
    return f"SM{next(_sids):032x}"


def signature(url: str, params: dict, token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def post_signed(client, path: str, params: dict, base: str = "http://localhost",
                token: str = TOKEN):
    """POST `params` to `path` with the X-Twilio-Signature Twilio would send to `base + path`."""
    headers = {"X-Twilio-Signature": signature(base + path, params, token)}
    return client.post(path, data=params, headers=headers, base_url=base)


def sms_params(to: str, from_: str, body: str = "Hello", sid: str | None = None, **extra) -> dict:
    """The form Twilio posts for an inbound SMS."""
    return {"MessageSid": sid or message_sid(), "AccountSid": "AC" + "0" * 32, "From": from_,
            "To": to, "Body": body, "NumMedia": "0", **extra}
