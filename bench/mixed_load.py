"""Inbound webhooks while staff send: the ingestion load, alone and with sends, in one run.

Rounds alternate: the app alone, the ceiling (bench.ingest's same SQL through psycopg), then the
app again while staff members send replies through the web's send route (signed in, CSRF token,
htmx request) and two worker processes deliver them to a fake Twilio that answers in 2 s and
hangs on 5% of calls until the workers' read timeout. Each round gets a fresh database; the
inbound rows are checked exact, and every staff send must reach the provider once or be left
`unconfirmed` by a hung call, never both and never twice.
"""

import os
import re
import statistics
import threading
import time
import uuid
from collections import Counter

import requests

from bench import ingest, servers
from bench.fake_twilio import accept, hang
from bench.job_world import (
    SID,
    STAFF_PASSWORD,
    Workers,
    outcome,
    seed_senders,
    start_fake,
    wait_until_settled,
    worker_env,
)

ANSWER_S, HANG_SHARE, READ_TIMEOUT_S = 2.0, 0.05, 5
CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')  # base.html's hx-headers, on every page


class Staff:
    """A staff member's browser: signed in, sending replies as htmx does."""

    def __init__(self, port: int, email: str):
        self.base = f"http://127.0.0.1:{port}"
        self.http = requests.Session()
        token = CSRF.search(self.http.get(f"{self.base}/sign-in").text)[1]
        signed_in = self.http.post(f"{self.base}/sign-in", allow_redirects=False, data={
            "email": email, "password": STAFF_PASSWORD, "csrf_token": token})
        assert signed_in.status_code == 302, signed_in.status_code
        self.token = CSRF.search(self.http.get(f"{self.base}/inbox").text)[1]

    def send(self, thread_id: int, body: str) -> tuple[int, float]:
        """Post a reply with the fields of the thread page's reply form; answer the HTTP status
        and the milliseconds it took. Each thread shows the client's message, so its page
        carries `tail`, and a reply answers with only itself (pawline.inbox.appended_reply)."""
        started = time.perf_counter()
        fields = {"body": body, "client_token": uuid.uuid4().hex, "csrf_token": self.token,
                  "channel": "sms", "tail": "1"}
        response = self.http.post(
            f"{self.base}/threads/{thread_id}/messages", data=fields,
            headers={"HX-Request": "true", "X-CSRFToken": self.token})
        return response.status_code, (time.perf_counter() - started) * 1000


class Sending:
    """`staff` members each sending one reply every `every` seconds until stopped."""

    def __init__(self, port: int, senders, staff: int, every: float):
        self.senders, self.every = senders, every
        email = f"staff@{senders.slug}.example"
        self.people = [Staff(port, email) for _ in range(staff)]
        self.bodies: list[str] = []
        self.results: list[tuple[int, float]] = []
        self.lock, self.stopping = threading.Lock(), threading.Event()
        self.threads = []

    def one(self, person: Staff, n: int) -> None:
        body = f"Staff reply {n}"
        result = person.send(self.senders.thread_ids[n % len(self.senders.thread_ids)], body)
        with self.lock:
            self.bodies.append(body)
            self.results.append(result)

    def start(self) -> None:
        def loop(k: int, person: Staff):
            n, due = k, time.perf_counter()
            while not self.stopping.is_set():
                self.one(person, n)
                n += len(self.people)
                due += self.every
                self.stopping.wait(max(0.0, due - time.perf_counter()))

        for k, person in enumerate(self.people):
            self.threads.append(threading.Thread(target=loop, args=(k, person)))
            self.threads[-1].start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join()


def app_round(server_url: str, plan, name: str, concurrency: int, gunicorn: tuple,
              sends: dict | None, warm_up: int = 300) -> dict:
    """One timed inbound load on a fresh database, with staff sends if `sends` says how."""
    db_url = servers.create_database(server_url, name)
    servers.prepare_app_database(db_url, plan.existing)
    fake = pool = sending = None
    result: dict = {}
    try:
        env = {"SESSION_COOKIE_SECURE": "0", "SMS_PROVIDER": "twilio", "TWILIO_ACCOUNT_SID": SID}
        if sends:
            senders = seed_senders(db_url, "staff", 50, "+14157770004", texted=True)
            fake = start_fake()
            fake.fail_fraction(HANG_SHARE, hang(), accept(ANSWER_S), seed=len(name))
            pool = Workers(worker_env(db_url, fake.base_url, SMS_READ_TIMEOUT=READ_TIMEOUT_S),
                           sends["workers"], sends["concurrency"])
        server = servers.Gunicorn(db_url, *gunicorn, env=env)
        try:
            ingest.warm_up(server.port, concurrency, warm_up)
            if sends:
                sending = Sending(server.port, senders, sends["staff"], sends["every"])
                sending.one(sending.people[0], -1)  # the send route's first request, untimed
                sending.start()
            try:
                result["load"] = ingest.post_all(server.port, plan.requests, concurrency)
            finally:
                if sending:
                    sending.stop()
            if sends:
                stopped = time.perf_counter()
                settled = wait_until_settled(db_url, senders.org_id, timeout=300)
                result["drain_s"] = settled - stopped
        finally:
            server.stop()
            if pool:
                result["worker_exits"] = pool.stop()
                pool.close()
        result["checks"] = servers.counts(db_url)
        if sends:
            result["sends"] = outcome(db_url, senders.org_id, fake, sending.bodies)
            result["send_http"] = sending.results
    finally:
        if fake:
            fake.stop()
        servers.drop_database(server_url, name)
    return result


def run(server_url: str, messages: int = 10_000, phones: int = 2_000, retries: int = 1_000,
        concurrency: int = 32, rounds: int = 2, gunicorn_workers: int = 3, staff: int = 2,
        every: float = 0.5, workers: int = 2, worker_concurrency: int = 6,
        warm_up: int = 300) -> dict:
    """Alone, ceiling, with sends; `rounds` times, alternating. `warm_up` untimed messages to
    another organization come before each timed load (bench.ingest.warm_up)."""
    plan = ingest.make_plan(messages, phones, retries)
    sends = {"staff": staff, "every": every, "workers": workers,
             "concurrency": worker_concurrency}
    alone, mixed, ceilings = [], [], []
    for n in range(rounds):
        tag = f"{os.getpid()}_{n}"
        alone.append(app_round(server_url, plan, f"bench_alone_{tag}", concurrency,
                               (gunicorn_workers, 1), None, warm_up))
        name = f"bench_mixed_ceiling_{tag}"
        db_url = servers.create_database(server_url, name)
        servers.prepare_app_database(db_url, plan.existing)
        ceilings.append(ingest.ceiling(db_url, plan.requests, concurrency))
        servers.drop_database(server_url, name)
        mixed.append(app_round(server_url, plan, f"bench_mixed_{tag}", concurrency,
                               (gunicorn_workers, 1), sends, warm_up))
    expected = {"client_contact": phones, "client": phones, "thread": phones,
                "message": messages, "distinct_sids": messages, "unread_total": messages}
    ceiling = statistics.median(ceilings)
    http = [r for m in mixed for r in m["send_http"]]
    return {
        "alone": summary(alone, ceiling), "mixed": summary(mixed, ceiling),
        "ceiling_rate": ceiling, "ceiling_rates": ceilings, "settings": sends,
        "inbound_exact": all({k: r["checks"][k] for k in expected} == expected
                             and r["checks"]["doctor_ok"] for r in alone + mixed),
        "sends": [m["sends"] for m in mixed],
        "sends_exact": all(m["sends"]["exact"] for m in mixed),
        "send_statuses": dict(sorted({s: sum(1 for r in http if r[0] == s)
                                      for s, _ in http}.items())),
        "send_p50": statistics.median(ms for _, ms in http),
        "send_p99": _percentile([ms for _, ms in http], 99),
        "drain_s": max(m["drain_s"] for m in mixed),
        "worker_exits": [code for m in mixed for code in m["worker_exits"]],
    }


def summary(rounds: list[dict], ceiling: float) -> dict:
    loads = [r["load"] for r in rounds]
    rate = statistics.median(load.rate() for load in loads)
    return {"rate": rate, "rates": [load.rate() for load in loads], "ratio": rate / ceiling,
            "p50": statistics.median(load.percentile(50) for load in loads),
            "p99": statistics.median(load.percentile(99) for load in loads),
            "statuses": dict(sum((Counter(load.statuses) for load in loads), Counter()))}


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]
