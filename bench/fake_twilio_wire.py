"""The fakes on the wire: the server every fake runs (FakeServer), the handler it serves with
(FakeHandler: keep-alive, JSON, delays, hanging, dropping), and addresses that never connect.

bench.fake_twilio, bench.fake_telegram and bench.fake_meta each subclass both with their API:
what each request is answered, and what it kept.
"""

import json
import select
import socket
import threading
import time
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeServer:
    """A fake on 127.0.0.1: its server thread, the connections it serves, the answers queued with
    `then(...)` or else chosen by `rule(call_number)`, and the calls and messages it saw.

    A subclass names its `handler`, `answer_type` (whose default is to accept) and `call_type`
    (number, what the request said..., answer, received_at); start with `with Fake(...) as fake:`.
    """

    handler: type["FakeHandler"]
    answer_type: type
    call_type: type
    thread_name = "fake"
    base_path = ""  # what base_url ends in after the port

    def __init__(self, port: int = 0):
        self._port = port
        self._lock = threading.Lock()
        self._calls: list = []
        self._messages: list = []
        self._queued: list = []
        self.rule = lambda number: self.answer_type()  # call number -> answer, none queued
        self._stopping = threading.Event()
        self._open: dict[socket.socket, threading.Thread] = {}
        self._server = self._thread = None

    def then(self, *answers) -> None:
        """The next requests get these answers, one each, before the rule applies again."""
        with self._lock:
            self._queued.extend(answers)

    def always(self, answer) -> None:
        self.rule = lambda number: answer

    @property
    def calls(self) -> list:
        with self._lock:
            return list(self._calls)

    @property
    def messages(self) -> list:
        with self._lock:
            return list(self._messages)

    @property
    def open_connections(self) -> int:
        """Connections still served: each one that hung ends when its client gives up."""
        with self._lock:
            return len(self._open)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}{self.base_path}"

    def start(self):
        self._server = Server(("127.0.0.1", self._port), self.handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name=self.thread_name, daemon=True)
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

    def __enter__(self):
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

    def _record(self, *request, choose: bool):
        """Keep the call (what the `request` said); answer its answer when `choose`, else None."""
        with self._lock:
            answer = None
            if choose:
                answer = self._queued.pop(0) if self._queued else None
                answer = answer or self.rule(len(self._calls) + 1)
            self._calls.append(self.call_type(len(self._calls) + 1, *request, answer,
                                              time.time()))
            return answer


class Server(ThreadingHTTPServer):
    daemon_threads = True  # a stuck handler never keeps the process alive; stop() joins them
    request_queue_size = 128
    fake: FakeServer  # set by FakeServer.start()

    def handle_error(self, request, client_address) -> None:
        pass  # a client that hung up mid-answer is normal here (timeouts are under test)


class FakeHandler(BaseHTTPRequestHandler):
    """Keep-alive, connections the fake can end, JSON answers, delays, hanging and dropping."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the real APIs
    content_type = "application/json"
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

    def _send(self, status: int, payload: dict, retry_after: int | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(body)))
        if retry_after is not None:
            self.send_header("Retry-After", str(retry_after))
        self.end_headers()
        self.wfile.write(body)

    def _held(self, answer) -> bool:
        """Carry out the answer's delay, hang or drop; True when nothing more is to be sent."""
        if answer.delay and self._client_left(answer.delay):
            return True
        if answer.action == "hang":
            self._client_left(None)
        elif answer.action == "drop":
            self.close_connection = True
        return answer.action in ("hang", "drop")

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
