"""SMS providers behind one small interface: Twilio for real, the console for the demo.

A provider returns Sent, or raises ProviderError whose `kind` says what may happen next:
- transient: nothing was sent (no connection, 429, 503...): sending again later is safe;
- permanent: the provider refused the message (bad number, opted out, bad credentials): resending
  the same thing fails the same way;
- unknown: the request went out but no answer came back (read timeout, dropped connection, 500):
  the provider may have taken the message, and Twilio has no idempotency key, so a person must
  check before it is sent again.
"""

import logging
import os
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

from requests import exceptions as http_errors
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

log = logging.getLogger("pawline.sms")

TRANSIENT, PERMANENT, UNKNOWN = "transient", "permanent", "unknown"
KINDS = (TRANSIENT, PERMANENT, UNKNOWN)

# Twilio error codes that mean "not taken, try again later". Any other code on a 4xx answer is a
# refusal for good. (twilio.com/docs/api/errors/<code>)
TRANSIENT_CODES = frozenset({
    20429,  # Too many requests: "never processed and is always safe to retry"
    20503,  # Service unavailable: "try again a few times with exponential back-off"
    21611,  # The 'From' number's queue is full (10 hours of messages): slow down, then resend
    21730,  # System under maintenance: "try again later"
})
# HTTP 429 and 503 are transient whatever their code. Other 5xx answers are UNKNOWN, not
# transient: for a POST that sends an SMS, Twilio's 20500 page warns that retrying after a 500
# "may" send the message twice (the error can be a timeout inside Twilio after it took it); a 502
# or 504 from a gateway can likewise hide a message the API behind it accepted.
TRANSIENT_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class Sent:
    sid: str
    status: str  # the provider's own word: queued, accepted, sent...


class ProviderError(Exception):
    """The provider refused, could not be reached, or did not answer; see the module for kinds.

    `message` is friendly text for a person (the provider's own words when it gave some), `code`
    the provider's error code (or the HTTP status), `detail` the raw technical cause, and
    `retry_after` the seconds the provider asked us to wait (its Retry-After header), if any.
    """

    def __init__(self, message: str, code: str | None = None, *, kind: str = PERMANENT,
                 retry_after: float | None = None, detail: str | None = None):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        super().__init__(message)
        self.message = message
        self.code = code
        self.kind = kind
        self.retry_after = retry_after
        self.detail = detail or message


class Provider(Protocol):
    name: str

    def send(self, *, from_e164: str, to_e164: str, body: str,
             status_callback: str | None, media_urls: tuple[str, ...] = ()) -> Sent: ...


class ConsoleProvider:
    """Logs the message and reports it sent: the demo needs no SMS account."""

    name = "console"

    def send(self, *, from_e164, to_e164, body, status_callback=None, media_urls=()) -> Sent:
        log.info("SMS %s -> %s: %s", from_e164, to_e164, body)
        for url in media_urls:
            log.info("  with media %s", url)
        return Sent(sid=f"CON{uuid.uuid4().hex}", status="sent")


class LimitedHttpClient(TwilioHttpClient):
    """Twilio's HTTP client with a connect and a read timeout, no retries of its own, and the
    headers of the last answer each thread received (the SDK's errors drop them: Retry-After).

    TwilioHttpClient(timeout=(connect, read)) fails: its constructor compares the timeout with 0.
    requests itself takes the (connect, read) pair, so it is set after construction.
    """

    def __init__(self, connect_timeout: float, read_timeout: float):
        super().__init__(timeout=read_timeout)
        self.timeout = (connect_timeout, read_timeout)
        # max_retries=0: urllib3 never resends a request (requests' default, made explicit). The
        # job queue decides about retries, knowing whether the message may have been sent.
        adapter = HTTPAdapter(max_retries=0, pool_maxsize=min(32, (os.cpu_count() or 1) + 4))
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self._last = threading.local()

    def request(self, *args, **kwargs):
        self._last.headers = None
        response = super().request(*args, **kwargs)
        self._last.headers = response.headers
        return response

    def last_headers(self):
        return getattr(self._last, "headers", None)

    def read_environment_once(self, url: str) -> None:
        """Take the proxy and CA-bundle settings from the environment now, for `url`'s host.

        requests reads them (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE...) on every request,
        about 6% of a delivery's worker CPU with an instant provider; they do not change
        while the process runs.
        """
        settings = self.session.merge_environment_settings(url, {}, None, None, None)
        self.session.proxies = settings["proxies"]
        self.session.verify, self.session.cert = settings["verify"], settings["cert"]
        self.session.trust_env = False


class TwilioProvider:
    """Sends through Twilio's REST API with a status callback URL, within time limits."""

    name = "twilio"

    def __init__(self, account_sid: str, auth_token: str, client=None, *,
                 connect_timeout: float = 5.0, read_timeout: float = 10.0,
                 api_base_url: str = ""):
        if client is None:
            client = Client(account_sid, auth_token,
                            http_client=LimitedHttpClient(connect_timeout, read_timeout))
        if api_base_url:  # Messages URLs are built from the Api domain's base_url
            client.api.base_url = api_base_url.rstrip("/")
        if isinstance(client.http_client, LimitedHttpClient):
            client.http_client.read_environment_once(client.api.base_url)
        self._client = client
        self.read_timeout = read_timeout

    def send(self, *, from_e164, to_e164, body, status_callback=None, media_urls=()) -> Sent:
        kwargs = {"status_callback": status_callback} if status_callback else {}
        if media_urls:  # Twilio fetches each URL; with media the body may be empty
            kwargs["media_url"] = list(media_urls)
        if body or not media_urls:
            kwargs["body"] = body
        try:
            created = self._client.messages.create(from_=from_e164, to=to_e164, **kwargs)
        except (TwilioRestException, TwilioServiceException) as error:
            raise self._refusal(error) from None
        except http_errors.RequestException as error:
            raise _transport_error(error, self.read_timeout) from None
        except Exception as error:  # e.g. a 201 whose JSON is garbled: it may well have been sent
            log.exception("Twilio send failed unexpectedly")
            raise ProviderError("Twilio's answer could not be read; the message may have been "
                                "sent.", kind=UNKNOWN, detail=repr(error)) from None
        return Sent(sid=created.sid, status=created.status or "queued")

    def _refusal(self, error) -> ProviderError:
        """An HTTP error answer, as the SDK raised it (legacy or RFC 9457 shape)."""
        status = int(error.status)
        code = getattr(error, "code", None)
        if isinstance(error, TwilioServiceException):
            text = f"{error.title}: {error.detail}" if error.detail else error.title
        else:
            text = (error.msg or "").partition(": ")[2]  # after "Unable to create record: "
        text = text or f"Twilio answered HTTP {status}."
        if status in TRANSIENT_STATUSES or code in TRANSIENT_CODES:
            kind = TRANSIENT
        else:
            kind = UNKNOWN if status >= 500 else PERMANENT
        headers = getattr(self._client.http_client, "last_headers", lambda: None)()
        return ProviderError(
            text, str(code or status), kind=kind,
            retry_after=_retry_after(headers) if kind == TRANSIENT else None,
            detail=f"HTTP {status} {error.method} {error.uri}: {getattr(error, 'msg', text)}")


def _transport_error(error: Exception, read_timeout: float) -> ProviderError:
    """No HTTP answer: transient if the connection was never made, else unknown."""
    detail = f"{type(error).__name__}: {error}"
    reason = getattr(error.args[0], "reason", None) if error.args else None
    # ConnectTimeout: connect() did not finish. NewConnectionError: refused, unreachable, DNS
    # (NameResolutionError is a subclass). SSLError, ProxyError: the TLS handshake or the proxy
    # failed, before the request is written (a TLS failure mid-answer would be misread here).
    if (isinstance(error, http_errors.ConnectTimeout | http_errors.SSLError
                   | http_errors.ProxyError) or isinstance(reason, NewConnectionError)):
        return ProviderError("Twilio could not be reached; the message was not sent.",
                             kind=TRANSIENT, detail=detail)
    if isinstance(error, http_errors.InvalidURL | http_errors.MissingSchema
                  | http_errors.InvalidSchema | http_errors.InvalidHeader):
        return ProviderError("The Twilio API address is misconfigured; the message was not sent.",
                             kind=PERMANENT, detail=detail)
    if isinstance(error, http_errors.ReadTimeout):
        text = f"Twilio did not answer within {read_timeout:g} s; the message may have been sent."
    else:  # the connection broke after the request was written
        text = "The connection to Twilio broke before it answered; the message may have been sent."
    return ProviderError(text, kind=UNKNOWN, detail=detail)


def _retry_after(headers) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date (RFC 9110 allows both)."""
    value = (headers or {}).get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def provider_from_config(config) -> Provider:
    """The provider named by SMS_PROVIDER (console or twilio), with the configured limits."""
    name = config.get("SMS_PROVIDER", "console")
    if name == "console":
        return ConsoleProvider()
    if name == "twilio":
        return TwilioProvider(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"],
                              connect_timeout=config.get("SMS_CONNECT_TIMEOUT", 5.0),
                              read_timeout=config.get("SMS_READ_TIMEOUT", 10.0),
                              api_base_url=config.get("TWILIO_API_BASE_URL", ""))
    raise ValueError(f"SMS_PROVIDER must be console or twilio, not {name!r}")
