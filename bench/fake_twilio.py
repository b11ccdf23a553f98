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
import re
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import parse_qs

from bench.fake_twilio_wire import FakeHandler, FakeServer, full_backlog, refusing

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


MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json$")
MEDIA_PATH = re.compile(r"^/2010-04-01/Accounts/[^/]+/Messages/[^/]+/Media/[^/]+$")
TEXTS = {  # Twilio's wording for the codes the fake answers
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    20503: "Service Unavailable",
    21211: "Invalid 'To' Phone Number",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the "
           "'To' number",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21611: "This 'From' number has exceeded the maximum number of queued messages",
    21612: "The 'To' phone number is not currently reachable via SMS",
    21614: "'To' number is not a valid mobile number",
}


def message_resource(account_sid: str, sid: str, form: dict) -> dict:
    """The Message resource as Twilio answers a create (201)."""
    now = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    uri = f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}"
    return {"account_sid": account_sid, "api_version": "2010-04-01", "body": form["Body"],
            "date_created": now, "date_sent": None, "date_updated": now,
            "direction": "outbound-api", "error_code": None, "error_message": None,
            "from": form["From"], "messaging_service_sid": None,
            "num_media": str(form.get("num_media", 0)),
            "num_segments": "1", "price": None, "price_unit": "USD", "sid": sid,
            "status": "queued", "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": form["To"], "uri": f"{uri}.json"}


class TwilioHandler(FakeHandler):
    """The fake Twilio's: Messages.json and MMS media."""

    server_version = "FakeTwilio/1"

    def do_POST(self) -> None:
        fake = self.server.fake
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        lists = parse_qs(raw)
        form = {key: values[0] for key, values in lists.items()}
        media_urls = tuple(lists.get("MediaUrl", ()))
        match = MESSAGES_PATH.match(self.path)
        authorized = self.headers.get("Authorization") == fake._auth
        # Twilio takes a message with media and no body
        required = (("To", 21604), ("From", 21603)) + (() if media_urls else (("Body", 21602),))
        missing = next((c for field, c in required if not form.get(field)), None)
        refusal = ((404, 20404) if not match else (401, 20003) if not authorized
                   else (404, 20404) if match["account"] != fake.account_sid
                   else (400, missing) if missing else None)
        answer = fake._record(self.path, authorized, form, choose=refusal is None)
        if refusal:
            return self._error(*refusal)
        taken = answer.action == "accept" or answer.accepted  # before any answer goes back
        sid = fake._accept(match["account"], form, media_urls) if taken else None
        if self._held(answer):
            return
        if answer.action == "error":
            self._error(answer.status, answer.code, answer.retry_after)
        else:
            resource = message_resource(match["account"], sid,
                                        {"Body": "", **form, "num_media": len(media_urls)})
            self._send(201, resource)

    def do_GET(self) -> None:
        """An MMS's media file, as Twilio serves it to the account (basic auth)."""
        fake = self.server.fake
        authorized = self.headers.get("Authorization") == fake._auth
        found, answer = fake._media_answer(self.path, authorized)
        if not MEDIA_PATH.match(self.path) or found is None:
            return self._error(404, 20404)
        data, content_type, public = found
        if not (authorized or public):
            return self._error(401, 20003)
        if self._held(answer):
            return
        if answer.action == "error":
            self._error(answer.status, answer.code, answer.retry_after)
        elif answer.action == "redirect":
            self.send_response(answer.status)
            self.send_header("Location", answer.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    def _error(self, status: int, code: int, retry_after: int | None = None) -> None:
        self._send(status, {"code": code, "message": TEXTS.get(code, "Error"),
                            "more_info": f"https://www.twilio.com/docs/errors/{code}",
                            "status": status}, retry_after)


class FakeTwilio(FakeServer):
    """Start with `with FakeTwilio(sid, token) as fake:` (or start()/stop()); see the module."""

    handler, answer_type, call_type = TwilioHandler, Answer, Call
    thread_name = "fake-twilio"

    def __init__(self, account_sid: str, auth_token: str):
        super().__init__()
        self.account_sid = account_sid
        self._auth = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self._media: dict[str, tuple[bytes, str, bool]] = {}  # path -> (bytes, type, public)
        self._media_queued: list[Answer] = []
        self._media_requests: list[MediaRequest] = []

    # -- what it answers --

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

    # -- used by the handler --

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
