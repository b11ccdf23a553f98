"""A fake Twilio Messages API on 127.0.0.1, for the tests and the benchmarks.

The real SDK talks to it (TwilioProvider(..., api_base_url=fake.base_url)). It speaks the one call
Paw-line makes, POST /2010-04-01/Accounts/{AccountSid}/Messages.json, checks HTTP basic auth, and
answers as Twilio does: 201 with the message resource, or Twilio's error JSON. `calls` holds every
request it saw, `messages` every message it accepted (thread-safe copies).

Each request takes the next answer queued with `then(...)`, or else asks `rule(call_number)`
(accept by default). An Answer accepts, fails with an HTTP status and a Twilio code, hangs until
the client hangs up, or drops the connection, optionally after a delay. `refusing()` and
`full_backlog()` give addresses where connecting is refused, or never completes.

It also serves MMS media as Twilio does, behind the same basic auth: `add_media(data, type)`
answers the file's URL, and GETs of media take the answers queued with `media_then(...)`
(accept, an error status, hang or drop) before serving the file; `media_requests` lists them.
"""

import base64
import random
import socket
import threading
import time
import uuid
from dataclasses import dataclass, replace

from bench.fake_twilio_wire import Handler, Server, full_backlog, hang_up, refusing

__all__ = ["Accepted", "Answer", "Call", "FakeTwilio", "MediaRequest", "accept", "drop",
           "full_backlog", "hang", "redirect", "refusing", "server_error", "too_many",
           "twilio_error"]


@dataclass(frozen=True)
class Answer:
    action: str = "accept"  # accept | error | hang | drop | redirect (media)
    status: int = 201
    code: int | None = None
    delay: float = 0.0  # seconds before answering (hang and drop: before hanging or dropping)
    retry_after: int | None = None
    accepted: bool = False  # hang, drop: the message was taken (recorded) all the same
    location: str = ""  # redirect: where to (Twilio sends media on to its CDN)

    def after(self, seconds: float) -> "Answer":
        return replace(self, delay=seconds)


def accept(delay: float = 0.0) -> Answer:
    return Answer(delay=delay)


def twilio_error(code: int, status: int = 400, retry_after: int | None = None) -> Answer:
    """A refusal with Twilio's error JSON: 21211 invalid number, 21610 opted out, 21614..."""
    return Answer("error", status, code, retry_after=retry_after)


def too_many(retry_after: int | None = None) -> Answer:
    return twilio_error(20429, 429, retry_after)


def server_error(status: int = 500, retry_after: int | None = None) -> Answer:
    return twilio_error(20000 + status, status, retry_after)


def hang(accepted: bool = False) -> Answer:
    """Never answer: the request waits until the client hangs up or the fake stops."""
    return Answer("hang", accepted=accepted)


def drop(accepted: bool = False) -> Answer:
    """Read the request, then close the connection without an answer."""
    return Answer("drop", accepted=accepted)


def redirect(location: str) -> Answer:
    """A media GET answered 307 to another address, as Twilio's API sends a file to its CDN."""
    return Answer("redirect", status=307, location=location)


@dataclass(frozen=True)
class Call:
    number: int  # 1 for the first request the fake saw
    path: str
    authorized: bool
    form: dict
    answer: Answer | None  # None when refused before any answer was chosen (404, 401, 400)
    received_at: float = 0.0  # time.time() once the request was read: latency benchmarks


@dataclass(frozen=True)
class Accepted:
    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    status_callback: str | None
    media_urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class MediaRequest:
    path: str
    authorized: bool


class FakeTwilio:
    """Start with `with FakeTwilio(sid, token) as fake:` (or start()/stop()); see the module."""

    def __init__(self, account_sid: str, auth_token: str):
        self.account_sid = account_sid
        self._auth = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._messages: list[Accepted] = []
        self._queued: list[Answer] = []
        self._media: dict[str, tuple[bytes, str, bool]] = {}  # path -> (bytes, type, public)
        self._media_queued: list[Answer] = []
        self._media_requests: list[MediaRequest] = []
        self.rule = lambda number: accept()  # call number -> Answer, when none is queued
        self._stopping = threading.Event()
        self._open: dict[socket.socket, threading.Thread] = {}
        self._server = self._thread = None

    # -- what it answers --

    def then(self, *answers: Answer) -> None:
        """The next requests get these answers, one each, before the rule applies again."""
        with self._lock:
            self._queued.extend(answers)

    def fail_next(self, count: int, answer: Answer) -> None:
        self.then(*[answer] * count)

    def always(self, answer: Answer) -> None:
        self.rule = lambda number: answer

    def fail_fraction(self, p: float, answer: Answer | None = None,
                      otherwise: Answer | None = None, seed: int = 0) -> None:
        """A fraction p of requests get `answer` (hang by default), the others `otherwise`."""
        chance, failing, passing = random.Random(seed), answer or hang(), otherwise or accept()
        self.rule = lambda number: failing if chance.random() < p else passing

    def add_media(self, data: bytes, content_type: str = "image/jpeg",
                  public: bool = False) -> str:
        """Keep a file as Twilio keeps an MMS's media (behind basic auth, unless `public`, as
        on its CDN); answer its MediaUrl."""
        path = (f"/2010-04-01/Accounts/{self.account_sid}/Messages/MM{uuid.uuid4().hex}"
                f"/Media/ME{uuid.uuid4().hex}")
        with self._lock:
            self._media[path] = (data, content_type, public)
        return self.base_url + path

    def media_then(self, *answers: Answer) -> None:
        """The next media GETs get these answers (error, hang, drop), then the file."""
        with self._lock:
            self._media_queued.extend(answers)

    @property
    def media_requests(self) -> list[MediaRequest]:
        with self._lock:
            return list(self._media_requests)

    # -- what it saw --

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    @property
    def messages(self) -> list[Accepted]:
        with self._lock:
            return list(self._messages)

    @property
    def open_connections(self) -> int:
        """Connections still served: each one that hung ends when its client gives up."""
        with self._lock:
            return len(self._open)

    # -- running --

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> "FakeTwilio":
        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                         name="fake-twilio", daemon=True)
        self._thread.start()
        return self

    def stop(self, wait: float = 5.0) -> None:
        """Stop accepting, end hanging and idle connections, and wait for their threads."""
        if self._server is None:
            return
        with self._lock:
            self._stopping.set()
            still_open = dict(self._open)
        self._server.shutdown()
        for connection, thread in still_open.items():
            hang_up(connection)
            thread.join(wait)
        self._server.server_close()
        self._thread.join(wait)
        self._server = None

    def __enter__(self) -> "FakeTwilio":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- used by the handler --

    def _opened(self, connection: socket.socket) -> None:
        with self._lock:
            if self._stopping.is_set():
                hang_up(connection)
            self._open[connection] = threading.current_thread()

    def _closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._open.pop(connection, None)

    def _record(self, path: str, authorized: bool, form: dict, choose: bool) -> Answer | None:
        with self._lock:
            answer = None
            if choose:
                answer = self._queued.pop(0) if self._queued else None
                answer = answer or self.rule(len(self._calls) + 1)
            self._calls.append(Call(len(self._calls) + 1, path, authorized, form, answer,
                                    time.time()))
            return answer

    def _accept(self, account_sid: str, form: dict, media_urls: tuple[str, ...] = ()) -> str:
        sid = ("MM" if media_urls else "SM") + uuid.uuid4().hex
        with self._lock:
            self._messages.append(Accepted(sid, account_sid, form["To"], form["From"],
                                           form.get("Body", ""), form.get("StatusCallback"),
                                           media_urls))
        return sid

    def _media_answer(self, path: str, authorized: bool):
        """(the file or None, the answer to give) for a media GET, recorded."""
        with self._lock:
            self._media_requests.append(MediaRequest(path, authorized))
            found = self._media.get(path)
            answer = self._media_queued.pop(0) if found and self._media_queued else accept()
            return found, answer
