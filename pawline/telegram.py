"""Telegram's Bot API, the few calls Paw-line makes: getMe, setWebhook, sendMessage and getFile.

A small client on `requests` rather than a bot framework: three JSON calls, the same time limits
as SMS (SMS_CONNECT_TIMEOUT, SMS_READ_TIMEOUT), no retries of its own (the job queue decides),
and the base URL from TELEGRAM_API_BASE, so tests and the demo talk to a local fake Bot API
(bench/fake_telegram.py) through this very code.

Failures are ProviderError with the kinds of pawline.providers, read the same way:
- transient (nothing was sent): HTTP 429 (Telegram's `parameters.retry_after` is the wait), the
  connection refused or not made in time;
- unknown (it may have been sent, and sendMessage has no idempotency key): no answer within the
  read timeout, the connection broken after the request went out, a 5xx, an answer that is not
  the documented JSON;
- permanent (sending the same again fails the same way): any other 4xx, in Telegram's own words
  ("Forbidden: bot was blocked by the user", "Bad Request: chat not found", "Unauthorized").

The bot token is part of every URL (`/bot<token>/<method>`): it is never put in an error, only
the bot's id, so logs never hold it.
"""

import re
import threading
from dataclasses import dataclass
from urllib.parse import quote

import requests
from requests import exceptions as http_errors
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError

from pawline.providers import PERMANENT, TRANSIENT, UNKNOWN, ProviderError, Sent

DEFAULT_API_BASE = "https://api.telegram.org"
# "123456789:AAF..." as BotFather gives it: the bot's id, a colon, then the secret part
TOKEN_PATTERN = re.compile(r"^([0-9]{1,20}):[A-Za-z0-9_-]{20,100}$")
TEXT_MAX = 4096  # sendMessage's limit, after entity parsing
# setWebhook's secret_token: 1-256 of these; it comes back in X-Telegram-Bot-Api-Secret-Token
SECRET_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

_sessions = threading.local()


@dataclass(frozen=True)
class Bot:
    """What getMe says about the bot."""

    id: str
    username: str
    first_name: str


def bot_id_of(token: str) -> str:
    """The bot's numeric id, the part of a well-formed token before ':'; ValueError otherwise."""
    match = TOKEN_PATTERN.match((token or "").strip())
    if not match:
        raise ValueError("That is not a bot token: it looks like 123456789:AAE..., as "
                         "@BotFather gives it.")
    return match[1]


def _session() -> requests.Session:
    """One session per thread (keep-alive to the API), never retrying on its own."""
    session = getattr(_sessions, "session", None)
    if session is None:
        session = requests.Session()
        adapter = HTTPAdapter(max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        _sessions.session = session
    return session


class BotClient:
    """The Bot API for one bot token, within a connect and a read time limit."""

    def __init__(self, token: str, *, api_base: str = DEFAULT_API_BASE,
                 connect_timeout: float = 5.0, read_timeout: float = 10.0):
        self.bot_id = bot_id_of(token)
        self._token = token.strip()
        self.api_base = (api_base or DEFAULT_API_BASE).rstrip("/")
        self.timeout = (connect_timeout, read_timeout)

    def get_me(self) -> Bot:
        result = self._call("getMe", {})
        if not isinstance(result, dict) or "id" not in result:
            raise ProviderError("Telegram's answer to getMe could not be read.", kind=UNKNOWN,
                                detail=f"getMe result: {result!r:.200}")
        return Bot(str(result["id"]), str(result.get("username") or ""),
                   str(result.get("first_name") or ""))

    def set_webhook(self, url: str, secret_token: str) -> None:
        """Have Telegram post the bot's messages to `url`, with `secret_token` in the header
        X-Telegram-Bot-Api-Secret-Token of every update."""
        if not SECRET_TOKEN_PATTERN.match(secret_token):
            raise ValueError("secret_token: 1-256 characters of A-Z, a-z, 0-9, _ and -")
        self._call("setWebhook", {"url": url, "secret_token": secret_token,
                                  "allowed_updates": ["message"]})

    def send_message(self, chat_id: str, text: str) -> int:
        """Send `text` to the chat; answer Telegram's message_id."""
        if len(text) > TEXT_MAX:
            raise ProviderError(f"Telegram takes at most {TEXT_MAX} characters a message.",
                                "400", kind=PERMANENT)
        result = self._call("sendMessage", {"chat_id": chat_id, "text": text})
        message_id = result.get("message_id") if isinstance(result, dict) else None
        if not isinstance(message_id, int):
            raise ProviderError("Telegram's answer could not be read; the message may have "
                                "been sent.", kind=UNKNOWN, detail=f"result: {result!r:.200}")
        return message_id

    def get_file(self, file_id: str) -> dict:
        """getFile: the file's `file_path` (to download within the hour) and `file_size`."""
        result = self._call("getFile", {"file_id": file_id})
        if not isinstance(result, dict) or not isinstance(result.get("file_path"), str):
            raise ProviderError("Telegram's answer to getFile could not be read.", kind=UNKNOWN,
                                detail=f"getFile (bot {self.bot_id}): no file_path")
        return result

    def file_url(self, file_path: str) -> str:
        """Where a file getFile named is downloaded: the token is in it, so never show it."""
        return f"{self.api_base}/file/bot{self._token}/{quote(file_path, safe='/')}"

    def redact(self, text: str) -> str:
        """`text` with the token replaced by the bot's id (for a text that may quote a URL)."""
        return text.replace(self._token, f"<bot {self.bot_id} token>")

    def _call(self, method: str, payload: dict):
        """POST the JSON payload to the method; answer its `result`, or raise ProviderError."""
        url = f"{self.api_base}/bot{self._token}/{method}"
        try:
            response = _session().post(url, json=payload, timeout=self.timeout)
        except http_errors.RequestException as error:
            raise self._transport_error(error, method) from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            answer = {}
        if response.status_code == 200 and answer.get("ok") is True:
            return answer.get("result")
        raise self._refusal(method, response.status_code, answer, response.headers)

    def _refusal(self, method: str, status: int, answer: dict, headers) -> ProviderError:
        code = answer.get("error_code") if isinstance(answer.get("error_code"), int) else status
        text = answer.get("description")
        text = text.strip() if isinstance(text, str) and text.strip() else (
            f"Telegram answered HTTP {status}.")
        detail = f"HTTP {status} {method} (bot {self.bot_id}): {text}"
        if status == 429 or code == 429:
            return ProviderError(text, str(code), kind=TRANSIENT,
                                 retry_after=_retry_after(answer, headers), detail=detail)
        if status >= 500 or status < 400:  # a 5xx, or a 200 that is not the documented JSON
            return ProviderError(text if status >= 500 else "Telegram's answer could not be "
                                 "read; the message may have been sent.", str(code),
                                 kind=UNKNOWN, detail=detail)
        return ProviderError(text, str(code), kind=PERMANENT, detail=detail)

    def _transport_error(self, error: Exception, method: str) -> ProviderError:
        """No HTTP answer: transient if the connection was never made, else unknown."""
        detail = f"{type(error).__name__} in {method} (bot {self.bot_id})"
        reason = getattr(error.args[0], "reason", None) if error.args else None
        if (isinstance(error, http_errors.ConnectTimeout | http_errors.SSLError
                       | http_errors.ProxyError) or isinstance(reason, NewConnectionError)):
            return ProviderError("Telegram could not be reached; the message was not sent.",
                                 kind=TRANSIENT, detail=detail)
        if isinstance(error, http_errors.InvalidURL | http_errors.MissingSchema
                      | http_errors.InvalidSchema | http_errors.InvalidHeader):
            return ProviderError("The Telegram API address is misconfigured; the message was "
                                 "not sent.", kind=PERMANENT, detail=detail)
        if isinstance(error, http_errors.ReadTimeout):
            text = (f"Telegram did not answer within {self.timeout[1]:g} s; the message may "
                    "have been sent.")
        else:  # the connection broke after the request was written
            text = ("The connection to Telegram broke before it answered; the message may have "
                    "been sent.")
        return ProviderError(text, kind=UNKNOWN, detail=detail)


def _retry_after(answer: dict, headers) -> float | None:
    """Seconds to wait: the answer's parameters.retry_after, else a Retry-After header."""
    parameters = answer.get("parameters")
    value = parameters.get("retry_after") if isinstance(parameters, dict) else None
    if value is None:
        value = (headers or {}).get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None


def client_from_config(config, token: str) -> BotClient:
    return BotClient(token, api_base=config.get("TELEGRAM_API_BASE") or DEFAULT_API_BASE,
                     connect_timeout=config.get("SMS_CONNECT_TIMEOUT", 5.0),
                     read_timeout=config.get("SMS_READ_TIMEOUT", 10.0))


class TelegramSender:
    """A delivery sender (pawline.channels.register_sender) for the organization's bot:
    from_e164 is the bot's id, to_e164 the chat's id."""

    name = "telegram"

    def __init__(self, client: BotClient | None):
        self._client = client

    def send(self, *, from_e164, to_e164, body, status_callback=None, media_urls=()) -> Sent:
        if self._client is None:
            raise ProviderError("No Telegram bot is set up for this organization; add its "
                                "token in Settings, Channels.", kind=PERMANENT)
        if media_urls:
            raise ProviderError("Photos cannot be sent on Telegram yet; send the text alone.",
                                kind=PERMANENT)
        message_id = self._client.send_message(str(to_e164), body)
        return Sent(sid=f"{self._client.bot_id}:{to_e164}:m{message_id}", status="sent")


def sender_from_config(config, account) -> TelegramSender:
    """The factory for register_sender: the account's bot token, the configured API."""
    token = getattr(account, "secret", None)
    return TelegramSender(client_from_config(config, token) if token else None)


def _register() -> None:
    """Delivery finds this sender by the message's channel (pawline.channels.load_senders)."""
    from pawline import channels  # here: channels imports this module, by name, when needed

    channels.register_sender("telegram", sender_from_config)


_register()
