"""The fault drills' harness (bench/drills.py): a sender that plays Twilio, and the app under
gunicorn with an access log that names the worker of each request.

The sender posts signed inbound-SMS webhooks at a steady rate, a connection per request, and
retries a failed one as Twilio does with the webhook URL's connection overrides
`#rc=5&rp=ct,rt,5xx`: up to `retries` more tries on a refused connection, a dropped one or a
5xx, all within Twilio's 15 s total time. Twilio does not document the pause between tries; the
sender waits `gap` seconds.
"""

import heapq
import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from twilio.request_validator import RequestValidator

from bench.servers import (
    PATH,
    POOL,
    ROOT,
    TOKEN,
    free_port,
)

RETRYABLE = ("refused", "reset", "timeout")  # ct, rt; and any 5xx
TOTAL_TIME = 15.0  # Twilio's `tt`, its most: every try of one webhook within this


@dataclass
class Attempt:
    sid: str
    number: int  # 0: the first try
    start: float
    end: float
    outcome: str  # the HTTP status, or refused / reset / timeout


@dataclass
class Sender:
    """Posts `forms` at `rate` per second from `concurrency` threads, retrying like Twilio."""

    port: int
    forms: list[dict]
    rate: float
    retries: int = 0
    gap: float = 1.0
    concurrency: int = 16
    attempts: list[Attempt] = field(default_factory=list)

    def run(self, t0: float) -> None:
        url = f"http://127.0.0.1:{self.port}{PATH}"
        validator = RequestValidator(TOKEN)
        self._due = [(t0 + i / self.rate, i, 0, t0 + i / self.rate) for i in range(len(self.forms))]
        self._bodies = [(urllib.parse.urlencode(f), validator.compute_signature(url, f))
                        for f in self.forms]
        self._busy, self._ready = 0, threading.Condition()
        threads = [threading.Thread(target=self._work) for _ in range(self.concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _work(self) -> None:
        while True:
            with self._ready:
                while True:
                    now = time.perf_counter()
                    if self._due and self._due[0][0] <= now:
                        _, i, number, first = heapq.heappop(self._due)
                        self._busy += 1
                        break
                    if not self._due and not self._busy:
                        return
                    self._ready.wait(min(self._due[0][0] - now, 0.05) if self._due else 0.05)
            start = time.perf_counter()
            outcome = self._post(*self._bodies[i])
            end = time.perf_counter()
            with self._ready:
                self.attempts.append(Attempt(self.forms[i]["MessageSid"], number, start, end,
                                             outcome))
                failed = outcome in RETRYABLE or outcome.startswith("5")
                if failed and number < self.retries and end + self.gap - first <= TOTAL_TIME:
                    heapq.heappush(self._due, (end + self.gap, i, number + 1, first))
                self._busy -= 1
                self._ready.notify_all()

    def _post(self, body: str, signature: str) -> str:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TOTAL_TIME)
        try:
            conn.request("POST", PATH, body, {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature, "Connection": "close"})
            response = conn.getresponse()
            response.read()
            return str(response.status)
        except ConnectionRefusedError:
            return "refused"
        except (ConnectionResetError, http.client.RemoteDisconnected, BrokenPipeError):
            return "reset"
        except TimeoutError:
            return "timeout"
        finally:
            conn.close()


def inbound_forms(count: int, tag: str) -> list[dict]:
    """Inbound SMS from count // 4 phones (well under the per-sender limit)."""
    return [{"MessageSid": f"SM{tag}{i:030x}", "AccountSid": "AC" + "0" * 32,
             "From": f"+1628{5550000 + i % max(count // 4, 1):07d}", "To": POOL,
             "Body": f"Drill message {i}", "NumMedia": "0"} for i in range(count)]


class App:
    """The app under gunicorn, its access log naming the worker (pid) of each request."""

    def __init__(self, db_url: str, workers: int):
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="drill-gunicorn-"))
        env = {**os.environ, "DATABASE_URL": db_url, "SECRET_KEY": "drill-secret",
               "TWILIO_AUTH_TOKEN": TOKEN, "SMS_PROVIDER": "console",
               "PUBLIC_BASE_URL": f"http://127.0.0.1:{self.port}",
               "WEBHOOK_REQUESTS_PER_MINUTE": "100000"}
        with (self.folder / "stderr").open("w") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b",
                 f"127.0.0.1:{self.port}", "--access-logfile", str(self.folder / "access"),
                 "--access-logformat", "%(p)s %(s)s", "app:create_app()"],
                cwd=ROOT, env=env, stdout=sink, stderr=sink)
        deadline = time.monotonic() + 60
        while len(self.workers()) < workers or self.get("/healthz") != 200:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("gunicorn did not start: " + self.stderr())
            time.sleep(0.2)

    def get(self, path: str) -> int | None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", path)
            return conn.getresponse().status
        except OSError:
            return None
        finally:
            conn.close()

    def workers(self) -> list[int]:
        found = []
        for children in Path(f"/proc/{self.process.pid}/task").glob("*/children"):
            found += [int(pid) for pid in children.read_text().split()]
        return found

    def served_by(self) -> set[int]:
        """The worker pids that have answered a request so far."""
        path = self.folder / "access"
        lines = path.read_text().splitlines() if path.exists() else []
        return {int(line.split()[0].strip("<>")) for line in lines if line.strip()}

    def stderr(self) -> str:
        return (self.folder / "stderr").read_text()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
        shutil.rmtree(self.folder, ignore_errors=True)
