"""A fake Telegram Bot API on 127.0.0.1, for the tests and the demo.

pawline.telegram.BotClient talks to it (TELEGRAM_API_BASE = fake.base_url) through its real
HTTP code. It speaks the calls Paw-line makes, POST /bot<token>/getMe, /setWebhook,
/sendMessage and /getFile, with a JSON or form body, and answers as the Bot API documents it:
200 with `{"ok": true, "result": ...}`, or `{"ok": false, "error_code": ..., "description": ...}`
(and `parameters.retry_after` on a 429). A wrong token is 401 "Unauthorized", an unknown method
404, a file_id it never gave 400.

It keeps files as Telegram keeps what clients send: `add_file(data)` answers a file_id (and
`photo(data)`, `document(...)` the message fields carrying one), getFile answers its file_path,
and GET /file/bot<token>/<file_path> serves the bytes, after the answers queued with
`file_then(...)` (an error, a delay, hang, drop); `file_requests` lists those GETs.

Each accepted call takes the next answer queued with `then(...)`, or else asks
`rule(call_number)` (accept by default): accept, an error (too_many, server_error, blocked,
chat_not_found), hang until the client hangs up, or drop the connection, optionally after a
delay. `calls` holds every request, `messages` every message it took, `webhook` the last
setWebhook. The wire (threads, hanging, refusing addresses) is bench.fake_twilio_wire's.
"""

import json
import time
import uuid
from dataclasses import dataclass, replace
from urllib.parse import parse_qs

from bench.fake_twilio_wire import FakeHandler, FakeServer, full_backlog, refusing

__all__ = ["Answer", "Call", "FakeTelegram", "FileRequest", "SentMessage", "accept", "blocked",
           "chat_not_found", "drop", "full_backlog", "hang", "message_update", "refusing",
           "server_error", "telegram_error", "too_many"]

METHODS = ("getMe", "setWebhook", "sendMessage", "getFile")
FILE_TYPES = {"jpg": "image/jpeg", "pdf": "application/pdf"}
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


@dataclass(frozen=True)
class FileRequest:
    file_path: str
    authorized: bool


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
        """A file's download, GET /file/bot<token>/<file_path>, as getFile names it."""
        fake = self.server.fake
        if not self.path.startswith("/file/bot"):
            return self._refuse(405, "Method Not Allowed")
        token, _, path = self.path.removeprefix("/file/bot").partition("/")
        authorized = token == fake.token
        found, answer = fake._file_answer(path, authorized)
        if not authorized:
            return self._refuse(401, "Unauthorized")
        if found is None:
            return self._refuse(404, "Not Found")
        if self._held(answer):
            return
        if answer.action == "error":
            return self._refuse(answer.status, answer.description, answer.retry_after)
        self.send_response(200)
        self.send_header("Content-Type", FILE_TYPES.get(path.rsplit(".", 1)[-1],
                                                        "application/octet-stream"))
        self.send_header("Content-Length", str(len(found)))
        self.end_headers()
        self.wfile.write(found)

    def do_POST(self) -> None:
        fake = self.server.fake
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        payload = _payload(raw, self.headers.get("Content-Type", ""))
        token, _, method = self.path.removeprefix("/bot").partition("/")
        authorized = self.path.startswith("/bot") and token == fake.token
        refusal = ((401, "Unauthorized") if not authorized
                   else (404, "Not Found") if method not in METHODS
                   else _bad_request(method, payload) or fake._unknown_file(method, payload))
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
        self._files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, bytes)
        self._file_queued: list[Answer] = []
        self._file_requests: list[FileRequest] = []

    # -- files clients sent --

    def add_file(self, data: bytes, folder: str = "photos", extension: str = "jpg") -> str:
        """Keep a file as Telegram keeps one a client sent; answer its file_id."""
        file_id = "AgAC" + uuid.uuid4().hex + "-_x"
        with self._lock:
            path = f"{folder}/file_{len(self._files)}.{extension}"
            self._files[file_id] = (path, data)
        return file_id

    def photo(self, data: bytes, small: bytes = b"\xff\xd8\xff small") -> list[dict]:
        """A message's `photo`: the sizes Telegram makes, smallest first, each its own file."""
        return [{"file_id": self.add_file(small), "file_unique_id": uuid.uuid4().hex[:15],
                 "file_size": len(small), "width": 90, "height": 68},
                {"file_id": self.add_file(data), "file_unique_id": uuid.uuid4().hex[:15],
                 "file_size": len(data), "width": 1280, "height": 960}]

    def document(self, data: bytes, file_name: str, mime_type: str) -> dict:
        """A message's `document`."""
        return {"file_id": self.add_file(data, "documents", file_name.rsplit(".", 1)[-1]),
                "file_unique_id": uuid.uuid4().hex[:15], "file_name": file_name,
                "mime_type": mime_type, "file_size": len(data)}

    def file_then(self, *answers: Answer) -> None:
        """The next file downloads get these answers (error, delay, hang, drop), then the file."""
        with self._lock:
            self._file_queued.extend(answers)

    @property
    def file_requests(self) -> list[FileRequest]:
        with self._lock:
            return list(self._file_requests)

    # -- used by the handler --

    def _result(self, method: str, payload: dict):
        """What the method answers once accepted (and what it changes)."""
        if method == "getMe":
            return {"id": self.bot_id, "is_bot": True, "first_name": self.first_name,
                    "username": self.username, "can_join_groups": True,
                    "can_read_all_group_messages": False, "supports_inline_queries": False}
        if method == "getFile":
            with self._lock:
                path, data = self._files[payload["file_id"]]
            return {"file_id": payload["file_id"], "file_unique_id": payload["file_id"][-15:],
                    "file_size": len(data), "file_path": path}
        if method == "getFile":
            with self._lock:
                path, data = self._files[payload["file_id"]]
            return {"file_id": payload["file_id"], "file_unique_id": payload["file_id"][-15:],
                    "file_size": len(data), "file_path": path}
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

    def _unknown_file(self, method: str, payload: dict):
        """getFile's 400 for a file_id this bot never gave."""
        if method == "getFile" and payload.get("file_id") not in self._files:
            return 400, "Bad Request: invalid file_id"
        return None

    def _file_answer(self, path: str, authorized: bool):
        """(the bytes or None, the answer to give) for a file download, recorded."""
        with self._lock:
            self._file_requests.append(FileRequest(path, authorized))
            found = next((data for known, data in self._files.values() if known == path), None)
            answer = self._file_queued.pop(0) if found and self._file_queued else accept()
            return found, answer


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
