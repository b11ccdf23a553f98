"""The fake Twilio on the wire: its HTTP server, Twilio's JSON, and addresses that never connect.

Used through bench.fake_twilio.FakeTwilio, which decides what each request is answered.
"""

import json
import re
import select
import socket
import time
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

if TYPE_CHECKING:
    from bench.fake_twilio import FakeTwilio

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


class Server(ThreadingHTTPServer):
    daemon_threads = True  # a stuck handler never keeps the process alive; stop() joins them
    request_queue_size = 128
    fake: "FakeTwilio"  # set by FakeTwilio.start()

    def handle_error(self, request, client_address) -> None:
        pass  # a client that hung up mid-answer is normal here (timeouts are under test)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as api.twilio.com
    server_version = "FakeTwilio/1"
    # The headers and the body go out in two writes: with Nagle's algorithm the body waits for
    # the client's delayed ACK of the headers, and every answer took 40 ms more on loopback.
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        self.server.fake._opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._closed(self.connection)

    def log_message(self, format, *args) -> None:
        pass

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
        if answer.delay and self._client_left(answer.delay):
            return
        if answer.action == "hang":
            self._client_left(None)
        elif answer.action == "drop":
            self.close_connection = True
        elif answer.action == "error":
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
        if answer.delay and self._client_left(answer.delay):
            return
        if answer.action == "hang":
            self._client_left(None)
        elif answer.action == "drop":
            self.close_connection = True
        elif answer.action == "error":
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

    def _send(self, status: int, payload: dict, retry_after: int | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if retry_after is not None:
            self.send_header("Retry-After", str(retry_after))
        self.end_headers()
        self.wfile.write(body)

    def _client_left(self, seconds: float | None) -> bool:
        """Wait `seconds` (None: for ever); True, and close, once the client or the fake quits."""
        end = None if seconds is None else time.monotonic() + seconds
        while end is None or time.monotonic() < end:
            step = 0.05 if end is None else max(0.0, min(0.05, end - time.monotonic()))
            if self.server.fake._stopping.is_set() or _hung_up(self.connection, step):
                self.close_connection = True
                return True
        return False


def _hung_up(connection: socket.socket, wait: float) -> bool:
    """True once the peer has closed its side (readable, with nothing left to read)."""
    try:
        readable, _, _ = select.select([connection], [], [], wait)
        if readable and connection.recv(1, socket.MSG_PEEK):
            time.sleep(wait)  # it sent more (no client here pipelines): keep waiting, not spinning
            return False
        return bool(readable)
    except OSError:
        return True


def hang_up(connection: socket.socket) -> None:
    with suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)


@contextmanager
def refusing():
    """A base URL where connecting is refused at once: the port is bound but never listens."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{bound.getsockname()[1]}"


@contextmanager
def full_backlog():
    """A base URL where connecting never completes: its one-place accept queue is kept full,
    so the kernel drops further SYNs and the client's connect timeout fires."""
    with socket.socket() as listener, socket.socket() as filler:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        filler.connect(listener.getsockname())
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
