"""A fake Telegram Bot API on 127.0.0.1, for the tests and the demo.

pawline.telegram.BotClient talks to it (TELEGRAM_API_BASE = fake.base_url) through its real
HTTP code. It speaks the calls Paw-line makes, POST /bot<token>/getMe, /setWebhook and
/sendMessage, with a JSON or form body, and answers as the Bot API documents it: 200 with
`{"ok": true, "result": ...}`, or `{"ok": false, "error_code": ..., "description": ...}` (and
`parameters.retry_after` on a 429). A wrong token is 401 "Unauthorized", an unknown method 404.

Each accepted call takes the next answer queued with `then(...)`, or else asks
`rule(call_number)` (accept by default): accept, an error (too_many, server_error, blocked,
chat_not_found), hang until the client hangs up, or drop the connection, optionally after a
delay. `calls` holds every request, `messages` every message it took, `webhook` the last
setWebhook. The wire (threads, hanging, refusing addresses) is bench.fake_twilio_wire's.
"""

import json
import time
from dataclasses import dataclass, replace
from urllib.parse import parse_qs

from bench.fake_twilio_wire import FakeHandler, FakeServer, full_backlog, refusing

__all__ = ["Answer", "Call", "FakeTelegram", "SentMessage", "accept", "blocked",
           "chat_not_found", "drop", "full_backlog", "hang", "message_update", "refusing",
           "server_error", "telegram_error", "too_many"]

METHODS = ("getMe", "setWebhook", "sendMessage")
TEXT_MAX = 4096


@dataclass(frozen=True)
class Answer:
    action: str = "accept"  # accept | error | hang | drop
    status: int = 200
    description: str = ""
    delay: float = 0.0  # seconds before answering (hang and drop: before hanging or dropping)
    retry_after: int | None = None
    accepted: bool = False  # hang, drop: the call was carried out all the same

    def after(self, seconds: float) -> "Answer":
        return replace(self, delay=seconds)


def accept(delay: float = 0.0) -> Answer:
    return Answer(delay=delay)


def hang(accepted: bool = False) -> Answer:
    """Never answer: the request waits until the client hangs up or the fake stops."""
    return Answer("hang", accepted=accepted)


def drop(accepted: bool = False) -> Answer:
    """Read the request, then close the connection without an answer."""
    return Answer("drop", accepted=accepted)


def telegram_error(status: int, description: str, retry_after: int | None = None) -> Answer:
    return Answer("error", status, description, retry_after=retry_after)


def too_many(retry_after: int = 3) -> Answer:
    return telegram_error(429, f"Too Many Requests: retry after {retry_after}", retry_after)


def server_error(status: int = 500) -> Answer:
    return telegram_error(status, "Internal Server Error")


def blocked() -> Answer:
    return telegram_error(403, "Forbidden: bot was blocked by the user")


def chat_not_found() -> Answer:
    return telegram_error(400, "Bad Request: chat not found")


@dataclass(frozen=True)
class Call:
    number: int
    method: str
    authorized: bool
    payload: dict
    answer: Answer | None  # None when refused before any answer was chosen (401, 404, 400)
    received_at: float = 0.0


@dataclass(frozen=True)
class SentMessage:
    message_id: int
    chat_id: str
    text: str


def message_update(update_id: int, chat_id: int, text: str | None = "Hi", *,
                   first_name: str = "Ada", last_name: str | None = "Lovelace",
                   username: str | None = "ada", kind: str = "message", **extra) -> dict:
    """An Update as Telegram posts it to a webhook: a private chat's message (its `text`, or
    with text None the other fields given, e.g. sticker={...})."""
    sender = {"id": chat_id, "is_bot": False, "first_name": first_name}
    if last_name:
        sender["last_name"] = last_name
    if username:
        sender["username"] = username
    chat = {k: v for k, v in sender.items() if k != "is_bot"} | {"type": "private"}
    message = {"message_id": update_id % 100_000 + 1, "from": sender, "chat": chat,
               "date": int(time.time()), **extra}
    if text is not None:
        message["text"] = text
    return {"update_id": update_id, kind: message}


class BotApiHandler(FakeHandler):
    """FakeHandler (keep-alive, hanging, stopping), speaking the Bot API."""

    server_version = "FakeTelegram/1"

    def do_GET(self) -> None:
        self._refuse(405, "Method Not Allowed")

    def do_POST(self) -> None:
        fake = self.server.fake
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        payload = _payload(raw, self.headers.get("Content-Type", ""))
        token, _, method = self.path.removeprefix("/bot").partition("/")
        authorized = self.path.startswith("/bot") and token == fake.token
        refusal = ((401, "Unauthorized") if not authorized
                   else (404, "Not Found") if method not in METHODS
                   else _bad_request(method, payload))
        answer = fake._record(method, authorized, payload, choose=refusal is None)
        if refusal:
            return self._refuse(*refusal)
        taken = answer.action == "accept" or answer.accepted
        result = fake._result(method, payload) if taken else None
        if self._held(answer):
            return
        if answer.action == "error":
            self._refuse(answer.status, answer.description, answer.retry_after)
        else:
            body = {"ok": True, "result": result}
            if method == "setWebhook":
                body["description"] = "Webhook was set"
            self._send(200, body)

    def _refuse(self, status: int, description: str, retry_after: int | None = None) -> None:
        body = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        self._send(status, body)


class FakeTelegram(FakeServer):
    """Start with `with FakeTelegram(token) as fake:` (or start()/stop()); see the module."""

    handler, answer_type, call_type = BotApiHandler, Answer, Call
    thread_name = "fake-telegram"

    def __init__(self, token: str, username: str = "pawline_test_bot",
                 first_name: str = "Paw-line test"):
        super().__init__()
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.username, self.first_name = username, first_name
        self.webhook: dict | None = None

    # -- used by the handler --

    def _result(self, method: str, payload: dict):
        """What the method answers once accepted (and what it changes)."""
        if method == "getMe":
            return {"id": self.bot_id, "is_bot": True, "first_name": self.first_name,
                    "username": self.username, "can_join_groups": True,
                    "can_read_all_group_messages": False, "supports_inline_queries": False}
        if method == "setWebhook":
            with self._lock:
                self.webhook = {"url": payload.get("url"),
                                "secret_token": payload.get("secret_token")}
            return True
        with self._lock:
            message_id = len(self._messages) + 1
            self._messages.append(SentMessage(message_id, str(payload["chat_id"]),
                                              payload["text"]))
        return {"message_id": message_id, "date": int(time.time()), "text": payload["text"],
                "from": {"id": self.bot_id, "is_bot": True, "first_name": self.first_name,
                         "username": self.username},
                "chat": {"id": int(payload["chat_id"]), "type": "private"}}


def _payload(raw: bytes, content_type: str) -> dict:
    """The call's parameters, sent as JSON or as a form (the Bot API takes both)."""
    try:
        if content_type.startswith("application/json"):
            loaded = json.loads(raw or b"{}")
            return loaded if isinstance(loaded, dict) else {}
        return {key: values[0] for key, values in parse_qs(raw.decode()).items()}
    except (ValueError, UnicodeDecodeError):
        return {}


def _bad_request(method: str, payload: dict):
    """The Bot API's 400 for a sendMessage it cannot take (before any answer is chosen)."""
    if method != "sendMessage":
        return None
    chat = str(payload.get("chat_id", ""))
    if not chat.lstrip("-").isdigit():
        return 400, "Bad Request: chat not found"
    text = payload.get("text")
    if not isinstance(text, str) or not text.strip():
        return 400, "Bad Request: message text is empty"
    if len(text) > TEXT_MAX:
        return 400, "Bad Request: message is too long"
    return None
