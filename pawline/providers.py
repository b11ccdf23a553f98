"""SMS providers behind one small interface: Twilio for real, the console for the demo."""

import logging
import uuid
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger("pawline.sms")


@dataclass(frozen=True)
class Sent:
    sid: str
    status: str  # the provider's own word: queued, accepted, sent...


class ProviderError(Exception):
    """The provider refused, could not be reached, or did not answer.

    kind: "transient" (safe to try again), "permanent" (it will refuse again), or "unknown" (the
    request left and no answer came: the provider may have the message).
    """

    def __init__(self, message: str, code: str | None = None, *, kind: str = "permanent",
                 retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.kind = kind
        self.retry_after = retry_after


class Provider(Protocol):
    name: str

    def send(self, *, from_e164: str, to_e164: str, body: str,
             status_callback: str | None) -> Sent: ...


class ConsoleProvider:
    """Logs the message and reports it sent: the demo needs no SMS account."""

    name = "console"

    def send(self, *, from_e164, to_e164, body, status_callback=None) -> Sent:
        log.info("SMS %s -> %s: %s", from_e164, to_e164, body)
        return Sent(sid=f"CON{uuid.uuid4().hex}", status="sent")


class TwilioProvider:
    """Sends through Twilio's REST API with a status callback URL."""

    name = "twilio"

    def __init__(self, account_sid: str, auth_token: str, client=None):
        if client is None:
            from twilio.rest import Client

            client = Client(account_sid, auth_token)
        self._client = client

    def send(self, *, from_e164, to_e164, body, status_callback=None) -> Sent:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        try:
            kwargs = {"status_callback": status_callback} if status_callback else {}
            created = self._client.messages.create(from_=from_e164, to=to_e164, body=body,
                                                   **kwargs)
        except TwilioRestException as error:
            raise ProviderError(error.msg or str(error), str(error.code or error.status)) from None
        except (TwilioException, OSError) as error:
            raise ProviderError(f"Twilio could not be reached: {error}") from None
        return Sent(sid=created.sid, status=created.status or "queued")


def provider_from_config(config) -> Provider:
    """The provider named by SMS_PROVIDER (console or twilio)."""
    name = config.get("SMS_PROVIDER", "console")
    if name == "console":
        return ConsoleProvider()
    if name == "twilio":
        return TwilioProvider(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"])
    raise ValueError(f"SMS_PROVIDER must be console or twilio, not {name!r}")
