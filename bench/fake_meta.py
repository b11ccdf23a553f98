"""A fake Meta Graph API (the Send API) on 127.0.0.1, for the tests and the demo.

pawline.meta.SendApi talks to it with META_GRAPH_BASE = fake.base_url (which ends in the API
version, as https://graph.facebook.com/v21.0 does). It speaks the one call Paw-line makes,
POST /v21.0/me/messages with a JSON body, and answers as Graph does: 200 with
`{"recipient_id", "message_id"}`, or Graph's error JSON
`{"error": {"message", "type", "code", "error_subcode", "fbtrace_id", "is_transient"}}`.

The page access token comes as `Authorization: Bearer <token>` or the `access_token` query
parameter (Graph takes either); `pages` maps each valid token to its page id. An unknown token
is refused with code 190, a body without recipient.id or message.text with code 100, before any
queued answer is used. Each other request takes the next answer queued with `then(...)`, or
`rule(call_number)` (accept by default): accept, a Graph error, hang until the client hangs up,
or drop the connection, each optionally after a delay. `calls` holds every request it saw and
`messages` every message it accepted (thread-safe copies).

It is also Meta's CDN, where the files people send wait for us: `add_cdn_file(data, type)`
answers a temporary URL like a webhook's `attachments[].payload.url` (no credentials asked);
GETs of it take the answers queued with `cdn_then(...)` (an error such as `expired()`, a delay,
hang, drop) before serving the bytes; `cdn_requests` lists them.

Run it alone for the demo: `python -m bench.fake_meta PAGE_ID TOKEN [PORT]`.
"""

import json
import sys
import time
import uuid
from dataclasses import dataclass, replace
from urllib.parse import parse_qs, urlsplit

from bench.fake_twilio_wire import FakeHandler, FakeServer, full_backlog, refusing

__all__ = ["Answer", "Call", "CdnRequest", "FakeMeta", "Sent", "accept", "drop", "expired",
           "full_backlog", "graph_error", "hang", "outside_window", "rate_limited", "refusing",
           "server_error", "unavailable"]

VERSION = "v21.0"


@dataclass(frozen=True)
class Answer:
    action: str = "accept"  # accept | error | hang | drop
    status: int = 200
    code: int | None = None
    subcode: int | None = None
    message: str = ""
    transient: bool | None = None  # is_transient in the error JSON, when not None
    delay: float = 0.0  # seconds before answering (hang and drop: before hanging or dropping)
    retry_after: int | None = None
    accepted: bool = False  # hang, drop: the message was taken (recorded) all the same

    def after(self, seconds: float) -> "Answer":
        return replace(self, delay=seconds)


def accept(delay: float = 0.0) -> Answer:
    return Answer(delay=delay)


def graph_error(code: int, message: str, status: int = 400, subcode: int | None = None,
                transient: bool | None = None, retry_after: int | None = None) -> Answer:
    return Answer("error", status, code, subcode, message, transient, retry_after=retry_after)


def outside_window() -> Answer:
    return graph_error(10, "(#10) This message is sent outside of allowed window.",
                       subcode=2018278)


def unavailable() -> Answer:
    return graph_error(551, "(#551) This person isn't available right now.", subcode=1545041)


def rate_limited(status: int = 400, retry_after: int | None = None) -> Answer:
    return graph_error(613, "(#613) Calls to this api have exceeded the rate limit.", status,
                       retry_after=retry_after)


def server_error(status: int = 500, transient: bool | None = None) -> Answer:
    return graph_error(2 if transient else 1, "An unexpected error has occurred. Please retry "
                       "your request later." if transient else "An unknown error has occurred.",
                       status, transient=transient)


def expired() -> Answer:
    """The CDN's refusal of a URL past its `oe` expiry."""
    return Answer("error", 403, message="URL signature expired")


def hang(accepted: bool = False) -> Answer:
    """Never answer: the request waits until the client hangs up or the fake stops."""
    return Answer("hang", accepted=accepted)


def drop(accepted: bool = False) -> Answer:
    """Read the request, then close the connection without an answer."""
    return Answer("drop", accepted=accepted)


@dataclass(frozen=True)
class Call:
    number: int  # 1 for the first request the fake saw
    path: str
    token: str | None
    body: dict | None
    answer: Answer | None  # None when refused before any answer was chosen (190, 100, 404)
    received_at: float = 0.0


@dataclass(frozen=True)
class Sent:
    message_id: str
    page_id: str
    recipient_id: str
    text: str
    messaging_type: str | None


@dataclass(frozen=True)
class CdnRequest:
    path: str
    authorization: str | None


class GraphHandler(FakeHandler):
    server_version = "FakeGraph/1"
    content_type = "application/json; charset=UTF-8"

    def do_GET(self) -> None:
        """A file on the CDN, as a webhook's payload.url names it."""
        fake = self.server.fake
        found, answer = fake._cdn_answer(self.path, self.headers.get("Authorization"))
        if found is None:
            return self._plain(404, "Not Found")
        if self._held(answer):
            return
        if answer.action == "error":
            return self._plain(answer.status, answer.message)
        data, content_type = found
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _plain(self, status: int, text: str) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        fake = self.server.fake
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        url = urlsplit(self.path)
        token = _token(self.headers.get("Authorization", ""), parse_qs(url.query))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        refusal = None
        if url.path != f"/{VERSION}/me/messages":
            refusal = (404, 100, "Unsupported post request.")
        elif token not in fake.pages:
            refusal = (400, 190, "Invalid OAuth access token - Cannot parse access token")
        elif not _recipient(body):
            refusal = (400, 100, "(#100) The parameter recipient is required")
        elif not _text(body):
            refusal = (400, 100, "(#100) Param message[text] must be a non-empty UTF-8 "
                                 "encoded string")
        answer = fake._record(self.path, token, body, choose=refusal is None)
        if refusal:
            status, code, message = refusal
            return self._error(Answer("error", status, code, message=message))
        taken = answer.action == "accept" or answer.accepted
        message_id = fake._accept(token, body) if taken else None
        if self._held(answer):
            return
        if answer.action == "error":
            self._error(answer)
        else:
            self._send(200, {"recipient_id": body["recipient"]["id"], "message_id": message_id})

    def _error(self, answer: Answer) -> None:
        error = {"message": answer.message or "An unknown error has occurred.",
                 "type": "OAuthException", "code": answer.code,
                 "fbtrace_id": uuid.uuid4().hex[:11]}
        if answer.subcode is not None:
            error["error_subcode"] = answer.subcode
        if answer.transient is not None:
            error["is_transient"] = answer.transient
        self._send(answer.status, {"error": error}, answer.retry_after)


class FakeMeta(FakeServer):
    """Start with `with FakeMeta({token: page_id}) as fake:` (or start()/stop()); see above."""

    handler, answer_type, call_type = GraphHandler, Answer, Call
    thread_name, base_path = "fake-meta", f"/{VERSION}"

    def __init__(self, pages: dict[str, str] | None = None, port: int = 0):
        super().__init__(port)
        self.pages = dict(pages or {})
        self._cdn: dict[str, tuple[bytes, str]] = {}  # path and query -> (bytes, type)
        self._cdn_queued: list[Answer] = []
        self._cdn_requests: list[CdnRequest] = []

    def add_cdn_file(self, data: bytes, content_type: str = "image/jpeg") -> str:
        """Keep a file a person sent; answer its temporary CDN URL (signed and expiring, as
        Meta's are: here the query is only its shape)."""
        name = uuid.uuid4().hex
        path = (f"/v/t1.15752-9/{name}_n.{content_type.rsplit('/', 1)[-1]}?_nc_cat=1"
                f"&ccb=1-7&_nc_sid=b70caf&oh=03_{uuid.uuid4().hex}&oe={int(time.time()) + 3600:X}")
        with self._lock:
            self._cdn[path] = (data, content_type)
        return self.base_url.removesuffix(self.base_path) + path

    def cdn_then(self, *answers: Answer) -> None:
        """The next CDN GETs get these answers (expired, delay, hang, drop), then the file."""
        with self._lock:
            self._cdn_queued.extend(answers)

    @property
    def cdn_requests(self) -> list[CdnRequest]:
        with self._lock:
            return list(self._cdn_requests)

    def _cdn_answer(self, path: str, authorization: str | None):
        """(the file or None, the answer to give) for a CDN GET, recorded."""
        with self._lock:
            self._cdn_requests.append(CdnRequest(path, authorization))
            found = self._cdn.get(path)
            answer = self._cdn_queued.pop(0) if found and self._cdn_queued else accept()
            return found, answer

    def _accept(self, token: str, body: dict) -> str:
        message_id = "m_" + uuid.uuid4().hex + uuid.uuid4().hex[:16]
        with self._lock:
            self._messages.append(Sent(message_id, self.pages[token], body["recipient"]["id"],
                                       body["message"]["text"], body.get("messaging_type")))
        return message_id


def _token(authorization: str, query: dict) -> str | None:
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() in ("bearer", "oauth") and value.strip():
        return value.strip()
    return (query.get("access_token") or [None])[0]


def _recipient(body) -> bool:
    recipient = body.get("recipient") if isinstance(body, dict) else None
    return isinstance(recipient, dict) and isinstance(recipient.get("id"), str) \
        and bool(recipient["id"])


def _text(body) -> bool:
    message = body.get("message") if isinstance(body, dict) else None
    return isinstance(message, dict) and isinstance(message.get("text"), str) \
        and bool(message["text"])


if __name__ == "__main__":  # pragma: no cover - the demo's Graph API
    page_id, token = sys.argv[1], sys.argv[2]
    fake = FakeMeta({token: page_id}, port=int(sys.argv[3]) if len(sys.argv) > 3 else 0).start()
    print(f"META_GRAPH_BASE={fake.base_url}", flush=True)
    shown = 0
    try:
        while True:
            time.sleep(1)
            for sent in fake.messages[shown:]:
                print(f"{sent.page_id} -> {sent.recipient_id}: {sent.text}", flush=True)
                shown += 1
    except KeyboardInterrupt:
        fake.stop()
