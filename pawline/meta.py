"""Meta's Send API, for Messenger and Instagram replies: one POST to /me/messages per message.

Both channels send the same way (Instagram messaging runs on the Messenger Platform): the
organization's page access token, the person's page-scoped id (PSID, or IGSID) as the recipient,
`messaging_type: RESPONSE` (a reply within the 24-hour window, which queue_message enforces
before anything is stored). The answer's `message_id` becomes the message's provider_sid.

Failures are providers.ProviderError with the same kinds as Twilio's (see pawline/providers.py):
- transient: rate limits (Graph codes 4, 17, 32, 613, 80006, HTTP 429), Meta's "temporary
  send message failure" (1200), anything Meta marks `is_transient`, and no connection at all;
- permanent: every other Graph refusal, in Meta's words (10/2018278 outside the 24-hour
  window, 551 the person is unavailable, 100 invalid parameter, 190 bad token, 200 permissions);
- unknown: a read timeout, a broken connection, a 5xx or an unreadable answer: Meta may have
  taken the message, and the Send API has no idempotency key, so a person checks first.

The token travels in the Authorization header, never in the URL: requests names the URL in its
exception texts, and those reach the logs and the message's error detail.
"""

import logging
import threading

import requests
from requests import exceptions as http_errors
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError

from pawline import channels
from pawline.providers import PERMANENT, TRANSIENT, UNKNOWN, ProviderError, Sent, _retry_after

log = logging.getLogger("pawline.meta")

GRAPH_BASE = "https://graph.facebook.com/v21.0"
CHANNELS = ("messenger", "instagram")
NAMES = {"messenger": "Messenger", "instagram": "Instagram"}
RATE_LIMIT_CODES = frozenset({
    4,  # application request limit reached
    17,  # user request limit reached
    32,  # page request limit reached
    613,  # calls to this API have exceeded the rate limit
    80006,  # too many Messenger API calls to this page
})
TEMPORARY_CODES = frozenset({1200})  # "Temporary send message failure. Please try again later."
# What a person reads for the refusals staff meet most; Meta's own message follows in brackets.
EXPLAINED = {
    (10, 2018278): "Meta refused: the 24-hour window to reply to this person has closed.",
    (551, None): "Meta refused: this person isn't available right now.",
    (190, None): "Meta refused the page access token: connect the page again in Settings.",
    (200, None): "Meta refused: the page's token lacks the permission to send messages.",
}
TEXT_MAX = 2000  # Meta refuses a longer text (code 100); cut here it would be sent half-said


class SendApi:
    """The Graph API's /me/messages, with a connect and a read timeout and no retries of its
    own (the job queue decides, knowing whether the message may have gone)."""

    def __init__(self, base: str = GRAPH_BASE, *, connect_timeout: float = 5.0,
                 read_timeout: float = 10.0, session: requests.Session | None = None):
        self.base = base.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self._session = session or shared_session()

    @classmethod
    def from_config(cls, config) -> "SendApi":
        return cls(config.get("META_GRAPH_BASE") or GRAPH_BASE,
                   connect_timeout=config.get("SMS_CONNECT_TIMEOUT", 5.0),
                   read_timeout=config.get("SMS_READ_TIMEOUT", 10.0))

    def send_message(self, page_token: str, recipient_psid: str, text: str) -> str:
        """Send `text` to the person; answer Meta's message_id, or raise ProviderError."""
        payload = {"recipient": {"id": recipient_psid}, "messaging_type": "RESPONSE",
                   "message": {"text": text}}
        try:
            response = self._session.post(
                f"{self.base}/me/messages", json=payload, timeout=self.timeout,
                headers={"Authorization": f"Bearer {page_token}"})
        except http_errors.RequestException as error:
            raise transport_error(error, self.timeout[1]) from None
        if response.status_code >= 400:
            raise refusal(response)
        try:
            message_id = response.json()["message_id"]
            if not isinstance(message_id, str) or not message_id:
                raise ValueError("no message_id")
        except (ValueError, KeyError, TypeError) as error:  # taken, most likely: check first
            raise ProviderError("Meta's answer could not be read; the message may have been "
                                "sent.", kind=UNKNOWN,
                                detail=f"HTTP {response.status_code}: {error!r}") from None
        return message_id


def refusal(response: requests.Response) -> ProviderError:
    """An HTTP error answer: Graph's error JSON when there is one."""
    status = response.status_code
    try:
        error = response.json()["error"]
        if not isinstance(error, dict):
            raise TypeError("error is not an object")
    except (ValueError, KeyError, TypeError):
        error = {}
    code, subcode = _number(error.get("code")), _number(error.get("error_subcode"))
    said = str(error.get("message") or "").strip()[:500] or f"Meta answered HTTP {status}."
    if (status == 429 or code in RATE_LIMIT_CODES or code in TEMPORARY_CODES
            or error.get("is_transient") is True):
        kind = TRANSIENT
    else:
        kind = UNKNOWN if status >= 500 else PERMANENT
    explained = EXPLAINED.get((code, subcode)) or EXPLAINED.get((code, None))
    text = f"{explained} ({said})" if explained else said
    return ProviderError(
        text, str(code if code is not None else status) + (f"/{subcode}" if subcode else ""),
        kind=kind, retry_after=_retry_after(response.headers) if kind == TRANSIENT else None,
        detail=f"HTTP {status} type={error.get('type')} code={code} subcode={subcode} "
               f"fbtrace_id={error.get('fbtrace_id')}: {said}")


def _number(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def transport_error(error: Exception, read_timeout: float) -> ProviderError:
    """No HTTP answer: transient if the connection was never made, else unknown."""
    detail = f"{type(error).__name__}: {error}"
    reason = getattr(error.args[0], "reason", None) if error.args else None
    if (isinstance(error, http_errors.ConnectTimeout | http_errors.SSLError
                   | http_errors.ProxyError) or isinstance(reason, NewConnectionError)):
        return ProviderError("Meta could not be reached; the message was not sent.",
                             kind=TRANSIENT, detail=detail)
    if isinstance(error, http_errors.InvalidURL | http_errors.MissingSchema
                  | http_errors.InvalidSchema | http_errors.InvalidHeader):
        return ProviderError("The Meta Graph API address is misconfigured; the message was not "
                             "sent.", kind=PERMANENT, detail=detail)
    if isinstance(error, http_errors.ReadTimeout):
        text = f"Meta did not answer within {read_timeout:g} s; the message may have been sent."
    else:
        text = "The connection to Meta broke before it answered; the message may have been sent."
    return ProviderError(text, kind=UNKNOWN, detail=detail)


_shared: requests.Session | None = None
_shared_lock = threading.Lock()


def shared_session() -> requests.Session:
    """One keep-alive pool for every send of the process, never retrying by itself."""
    global _shared
    with _shared_lock:
        if _shared is None:
            session = requests.Session()
            adapter = HTTPAdapter(max_retries=0, pool_maxsize=32)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            _shared = session
        return _shared


class MetaSender:
    """A channel sender for pawline.channels.register_sender: sends as the organization's page
    (Messenger) or Instagram account, with its page access token."""

    def __init__(self, channel: str, api: SendApi, account):
        self.channel, self.name = channel, "meta"
        self._api, self._account = api, account

    def send(self, *, from_e164, to_e164, body, status_callback=None, media_urls=()) -> Sent:
        """`from_e164` is our page (or IG account) id, `to_e164` the person's scoped id."""
        label = NAMES[self.channel]
        account = self._account
        if account is None or not account.secret:
            raise ProviderError(f"{label} is not connected: add the page and its access token "
                                "in Settings.", kind=PERMANENT)
        if str(account.account_id) != str(from_e164):  # ids are scoped to the page they came to
            raise ProviderError(f"The {label} account this reply was to go from is no longer "
                                "connected; the message was not sent.", kind=PERMANENT)
        if media_urls:
            raise ProviderError(f"Photos cannot be sent on {label} yet; send them by SMS.",
                                kind=PERMANENT)
        if len(body) > TEXT_MAX:
            raise ProviderError(f"{label} takes at most {TEXT_MAX} characters a message.",
                                kind=PERMANENT)
        message_id = self._api.send_message(account.secret, to_e164, body)
        return Sent(sid=message_id, status="sent")


def sender_factory(channel: str):
    """The factory register_sender wants: (app config, the org's account) -> a sender."""

    def make(app_config, account) -> MetaSender:
        return MetaSender(channel, SendApi.from_config(app_config), account)

    return make


for _channel in CHANNELS:
    channels.register_sender(_channel, sender_factory(_channel))
