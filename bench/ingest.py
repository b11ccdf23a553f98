"""Inbound ingestion under concurrency: the app under gunicorn, its ceiling, the seeds' way.

Every figure that compares two things measures both in the same run, alternating, because the
machine is shared and absolute times drift.
"""

import http.client
import os
import random
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from twilio.request_validator import RequestValidator

from pawline.inbound import BUMP_THREAD, INSERT_MESSAGE, NUMBER_AND_REGION, PREVIEW_LENGTH
from pawline.threads import (
    INSERT_CONTACT,
    INSERT_GUEST,
    INSERT_OR_FIND_THREAD,
    OWNER_OF_PHONE,
    THREAD_OF_CLIENT,
    guest_name,
)

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-auth-token"
POOL = "+14155550100"
WARM_UP_POOL = "+14155550199"  # another organization's number, to warm workers up before timing
PATH = "/webhooks/twilio/sms"


@dataclass(frozen=True)
class Plan:
    """The messages to post: phones (most new), bursts from a few, then retried sids."""

    existing: list[str]
    requests: list[dict]  # Twilio form fields, in posting order
    messages: int
    phones: int
    retries: int


def make_plan(messages: int, phones: int, retries: int, seed: int = 7) -> Plan:
    rng = random.Random(seed)
    numbers = [f"+1628{5550000 + n:07d}" for n in range(phones)]
    # Every phone sends once; the rest follow a long tail, so a few phones send many at once.
    senders = list(numbers) + rng.choices(
        numbers, weights=[1 / (rank + 1) for rank in range(phones)], k=messages - phones)
    rng.shuffle(senders)
    forms = [{"MessageSid": f"SM{i:032x}", "AccountSid": "AC" + "0" * 32, "From": phone,
              "To": POOL, "Body": f"Message {i} from {phone}", "NumMedia": "0"}
             for i, phone in enumerate(senders)]
    repeated = [dict(f) for f in rng.sample(forms, retries)]
    half = len(forms) // 2  # retries arrive among the second half, some racing their original
    tail = forms[half:] + repeated
    rng.shuffle(tail)
    existing = rng.sample(numbers, phones // 10)
    return Plan(existing, forms[:half] + tail, messages, phones, retries)


# ---- databases --------------------------------------------------------------------------------

def create_database(server_url: str, name: str) -> str:
    """A new empty database on the server; answers its psycopg URL."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urllib.parse.urlsplit(server_url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_app(db_url: str):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": db_url.replace("postgresql://",
                                                                 "postgresql+psycopg://", 1),
                       "SECRET_KEY": "bench", "TESTING": True, "WORKER_IN_PROCESS": False})


def migrate(db_url: str) -> None:
    """Bring a new database to the migrations' head."""
    from flask_migrate import upgrade

    from pawline.db import db

    with bench_app(db_url).app_context():
        upgrade()
        db.engine.dispose()


def prepare_app_database(db_url: str, existing: list[str]) -> None:
    """Migrate, then seed one organization with its pool number and the existing clients."""
    from pawline import accounts, numbers
    from pawline.db import db

    migrate(db_url)
    with bench_app(db_url).app_context():
        org = accounts.register_org("Bench Pets", "owner@bench.example", "bench-password",
                                    slug="bench")
        numbers.add_number(org.id, POOL, "pool")
        warm_up = accounts.register_org("Warm-up", "owner@warmup.example", "bench-password",
                                        slug="warm-up")
        numbers.add_number(warm_up.id, WARM_UP_POOL, "pool")
        db.session.execute(db.text("""
            WITH phones AS (SELECT unnest(CAST(:phones AS text[])) AS e164),
            clients AS (
                INSERT INTO client (org_id, name) SELECT :org, 'Client ' || e164 FROM phones
                RETURNING id, name)
            INSERT INTO client_contact (org_id, client_id, e164)
            SELECT :org, id, substr(name, 8) FROM clients
        """), {"phones": existing, "org": org.id})
        db.session.commit()
        db.engine.dispose()


def counts(db_url: str) -> dict:
    """Row counts and duplicate checks after a run, plus the doctor's verdict."""
    from sqlalchemy import create_engine

    from pawline.doctor import run_checks

    bench = "(SELECT id FROM organization WHERE slug = 'bench')"
    with psycopg.connect(db_url) as conn:
        got = {table: conn.execute(
            f"SELECT count(*) FROM {table} WHERE org_id = {bench}").fetchone()[0]
            for table in ("client_contact", "client", "thread", "message")}
        got["distinct_sids"] = conn.execute(
            f"SELECT count(DISTINCT provider_sid) FROM message WHERE org_id = {bench}"
        ).fetchone()[0]
        got["unread_total"] = conn.execute(
            f"SELECT sum(unread_count) FROM thread WHERE org_id = {bench}").fetchone()[0]
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        results = run_checks(conn, full=True)
    engine.dispose()
    got["doctor"] = f"{sum(r.holds for r in results)}/{len(results)} hold"
    got["doctor_ok"] = all(r.holds for r in results)
    return got


# ---- the app under gunicorn ----------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """The real app under gunicorn on loopback: sync workers, or gthread when threads > 1."""

    def __init__(self, db_url: str, workers: int, threads: int, env: dict | None = None):
        # threads == 1: sync workers, which close each connection after its request, so the
        # kernel spreads connections over the workers; gthread keeps a client's connection on
        # one worker, and with keep-alive one busy worker can hold most of the load.
        self.port = free_port()
        # The plan's busiest phones send far more than the per-sender webhook limit (120 a
        # minute) during a run: the limit is counted as usual, but never reached, as in the drills.
        env = {**os.environ, "DATABASE_URL": db_url, "SECRET_KEY": "bench-secret",
               "TWILIO_AUTH_TOKEN": TOKEN, "SMS_PROVIDER": "console",
               "PUBLIC_BASE_URL": f"http://127.0.0.1:{self.port}",
               "WEBHOOK_REQUESTS_PER_MINUTE": "1000000", **(env or {})}
        # Its output goes to a file: a pipe nobody reads fills up with the request log (a line
        # per request) and then blocks every worker.
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed by stop()
            "w+", prefix="bench-gunicorn-", suffix=".log")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-k", "sync" if threads == 1 else "gthread",
             "-w", str(workers), "--threads", str(threads), "-b", f"127.0.0.1:{self.port}",
             "--log-level", "warning", "app:create_app()"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not start: " + self.output())

    def output(self) -> str:
        """What gunicorn and the app have written to stderr so far."""
        self.log.flush()
        return Path(self.log.name).read_text()

    def worker_rss_kib(self) -> list[int]:
        """Resident memory of each worker process (children of the gunicorn master)."""
        found = []
        for child in Path(f"/proc/{self.process.pid}/task").glob("*/children"):
            for pid in child.read_text().split():
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        found.append(int(line.split()[1]))
        return found

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@dataclass
class LoadResult:
    wall_s: float
    latencies_ms: list[float]
    statuses: dict
    generator_cpu_s: float
    rss_samples: list[list[int]]

    def rate(self) -> float:
        return len(self.latencies_ms) / self.wall_s

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def warm_up(port: int, concurrency: int, count: int = 300) -> None:
    """Each worker's first requests load phone metadata and compile SQL: do them untimed."""
    forms = [{"MessageSid": f"SMwarm{i:028x}", "AccountSid": "AC" + "0" * 32,
              "From": f"+1628{5900000 + i:07d}", "To": WARM_UP_POOL, "Body": "warm-up",
              "NumMedia": "0"} for i in range(count)]
    post_all(port, forms, concurrency)


def post_all(port: int, forms: list[dict], concurrency: int, sample_rss=None,
             sample_every: int = 0) -> LoadResult:
    """Post signed webhooks from `concurrency` keep-alive connections; time each request."""
    url = f"http://127.0.0.1:{port}{PATH}"
    validator = RequestValidator(TOKEN)
    bodies = [(urllib.parse.urlencode(f), validator.compute_signature(url, f)) for f in forms]
    latencies: list[float] = []
    statuses: dict = {}
    samples: list[list[int]] = []
    lock = threading.Lock()
    cursor = iter(range(len(bodies)))
    done = [0]

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                i = next(cursor, None)
            if i is None:
                break
            body, sig = bodies[i]
            started = time.perf_counter()
            # A connection a request, as webhooks arrive from many senders: a kept-alive
            # connection would pin this client to one gunicorn worker.
            conn.request("POST", PATH, body, {
                "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig,
                "Connection": "close"})
            response = conn.getresponse()
            response.read()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                statuses[response.status] = statuses.get(response.status, 0) + 1
                done[0] += 1
                if sample_rss and sample_every and done[0] % sample_every == 0:
                    samples.append(sample_rss())
        conn.close()

    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    wall = in_parallel(worker, concurrency)
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return LoadResult(wall, latencies, statuses, cpu, samples)


# ---- the ceiling: the same statements straight through psycopg ------------------------------

def _ceiling_one(conn, form: dict) -> None:
    """The statements pawline.inbound.receive_sms runs for one message, its own SQL text, sent
    straight through psycopg: no HTTP, no Flask, no phone parsing, no SQLAlchemy."""
    now = datetime.now(UTC)
    with conn.transaction():
        number = conn.execute(NUMBER_AND_REGION, {"e164": form["To"]}).fetchone()
        key = {"org": number[1], "e164": form["From"]}
        row = conn.execute(OWNER_OF_PHONE, key).fetchone()
        if row is None:
            client = conn.execute(INSERT_GUEST, {**key, "name": guest_name(form["From"])}
                                  ).fetchone()[0]
            row = conn.execute(INSERT_CONTACT, {**key, "client": client}).fetchone()
            if row is None:
                conn.execute("DELETE FROM client WHERE id = %(client)s", {"client": client})
                row = conn.execute(OWNER_OF_PHONE, key).fetchone()
        key = {"org": number[1], "client": row[0]}
        thread = (conn.execute(INSERT_OR_FIND_THREAD, {**key, "now": now}).fetchone()
                  or conn.execute(THREAD_OF_CLIENT, key).fetchone())
        inserted = conn.execute(INSERT_MESSAGE, {
            "org": number[1], "thread": thread[0], "body": form["Body"], "from": form["From"],
            "to": number[2], "number": number[0], "provider": "twilio",
            "sid": form["MessageSid"], "media": 0, "flag": None, "now": now}).fetchone()
        if inserted is None:
            raise _Duplicate
        conn.execute(BUMP_THREAD, {"thread": thread[0], "body": form["Body"], "now": now,
                                   "preview": PREVIEW_LENGTH})


class _Duplicate(Exception):
    """A retried sid: the transaction rolls back, as the app's does."""


def ceiling(db_url: str, forms: list[dict], concurrency: int) -> float:
    """Messages per second for the same statements, same concurrency, straight to PostgreSQL."""
    def one(conn, form):
        for _attempt in range(3):
            try:
                _ceiling_one(conn, form)
                return
            except _Duplicate:
                return
            except psycopg.errors.DeadlockDetected:
                continue

    return len(forms) / per_connection(db_url, forms, concurrency, one)


def in_parallel(worker, concurrency: int) -> float:
    """Run `worker` in `concurrency` threads at once; answer the seconds until all have ended."""
    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


def per_connection(db_url: str, forms: list[dict], concurrency: int, handle,
                   **connect) -> float:
    """Hand out `forms` one at a time to `concurrency` connections, each running
    `handle(conn, form)`; answer the seconds until all are handled."""
    cursor = iter(forms)
    lock = threading.Lock()

    def worker():
        with psycopg.connect(db_url, **connect) as conn:
            while True:
                with lock:
                    form = next(cursor, None)
                if form is None:
                    return
                handle(conn, form)

    return in_parallel(worker, concurrency)


# ---- the seeds' way: look, then create, with no unique constraints -------------------------

SEEDS_SCHEMA = """
    CREATE TABLE seed_client (id bigserial PRIMARY KEY, org_id bigint, name text);
    CREATE TABLE seed_contact (id bigserial PRIMARY KEY, org_id bigint, client_id bigint,
                               e164 text);
    CREATE INDEX ON seed_contact (org_id, e164);  -- an index, as seed 000's "before": not unique
    CREATE TABLE seed_thread (id bigserial PRIMARY KEY, org_id bigint, client_id bigint);
    CREATE INDEX ON seed_thread (org_id, client_id);
    CREATE TABLE seed_message (id bigserial PRIMARY KEY, thread_id bigint, sid text, body text);
    CREATE INDEX ON seed_message (sid);
"""


def _seeds_one(conn, form: dict) -> None:
    """Seed 000's "before" and seed 004's code-level checks: look, and create when not found."""
    with conn.transaction():
        row = conn.execute("SELECT client_id FROM seed_contact WHERE org_id = 1 AND e164 = %s",
                           (form["From"],)).fetchone()
        if row is None:
            client = conn.execute("INSERT INTO seed_client (org_id, name) VALUES (1, %s) "
                                  "RETURNING id", (form["From"],)).fetchone()[0]
            conn.execute("INSERT INTO seed_contact (org_id, client_id, e164) VALUES (1, %s, %s)",
                         (client, form["From"]))
        else:
            client = row[0]
        thread = conn.execute("SELECT id FROM seed_thread WHERE org_id = 1 AND client_id = %s",
                              (client,)).fetchone()
        if thread is None:
            thread = conn.execute("INSERT INTO seed_thread (org_id, client_id) VALUES (1, %s) "
                                  "RETURNING id", (client,)).fetchone()
        if conn.execute("SELECT 1 FROM seed_message WHERE sid = %s",
                        (form["MessageSid"],)).fetchone() is None:
            conn.execute("INSERT INTO seed_message (thread_id, sid, body) VALUES (%s, %s, %s)",
                         (thread[0], form["MessageSid"], form["Body"]))


def seeds_way(db_url: str, forms: list[dict], concurrency: int) -> dict:
    """Run the same load the seeds' way in a scratch schema; count what it duplicated."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS seeds_way CASCADE")
        conn.execute("CREATE SCHEMA seeds_way")
        conn.execute("SET search_path = seeds_way")
        conn.execute(SEEDS_SCHEMA)
    wall = per_connection(db_url, forms, concurrency, _seeds_one,
                          options="-c search_path=seeds_way")
    with psycopg.connect(db_url, options="-c search_path=seeds_way") as conn:
        def scalar(sql):
            return conn.execute(sql).fetchone()[0]

        phones = scalar("SELECT count(DISTINCT e164) FROM seed_contact")
        result = {
            "rate": len(forms) / wall,
            "clients": scalar("SELECT count(*) FROM seed_client"),
            "duplicate_clients": scalar("SELECT count(*) FROM seed_client") - phones,
            "duplicate_threads": scalar("SELECT count(*) FROM seed_thread")
            - scalar("SELECT count(DISTINCT client_id) FROM seed_contact"),
            "duplicate_messages": scalar("SELECT count(*) FROM seed_message")
            - scalar("SELECT count(DISTINCT sid) FROM seed_message"),
            "phones_split": scalar("SELECT count(*) FROM (SELECT e164 FROM seed_contact "
                                   "GROUP BY e164 HAVING count(*) > 1) d"),
        }
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA seeds_way CASCADE")
    return result


# ---- the whole ingestion benchmark ----------------------------------------------------------

def run(server_url: str, messages: int = 10_000, phones: int = 2_000, retries: int = 1_000,
        concurrency: int = 32, rounds: int = 2, workers: int = 3, threads: int = 1,
        memory_requests: int = 20_000) -> dict:
    """Ingestion, ceiling and the seeds' way, alternating over `rounds`; then worker memory."""
    plan = make_plan(messages, phones, retries)
    app_runs, ceiling_rates, checks = [], [], []
    for n in range(rounds):
        name = f"bench_ingest_{os.getpid()}_{n}"
        db_url = create_database(server_url, name)
        prepare_app_database(db_url, plan.existing)
        server = Gunicorn(db_url, workers, threads)
        try:
            warm_up(server.port, concurrency)
            app_runs.append(post_all(server.port, plan.requests, concurrency))
        finally:
            server.stop()
        checks.append(counts(db_url))
        drop_database(server_url, name)

        name = f"bench_ceiling_{os.getpid()}_{n}"
        db_url = create_database(server_url, name)
        prepare_app_database(db_url, plan.existing)
        ceiling_rates.append(ceiling(db_url, plan.requests, concurrency))
        if n == 0:
            seeds = seeds_way(db_url, plan.requests, concurrency)
        drop_database(server_url, name)

    memory = worker_memory(server_url, memory_requests, concurrency, workers, threads)
    best = max(app_runs, key=LoadResult.rate)
    app_rate = statistics.median(r.rate() for r in app_runs)
    ceiling_rate = statistics.median(ceiling_rates)
    expected = {"client_contact": phones, "client": phones, "thread": phones,
                "message": messages, "distinct_sids": messages, "unread_total": messages}
    return {
        "plan": plan, "app_rates": [r.rate() for r in app_runs], "app_rate": app_rate,
        "ceiling_rates": ceiling_rates, "ceiling_rate": ceiling_rate,
        "ratio": app_rate / ceiling_rate,
        "p50": statistics.median(r.percentile(50) for r in app_runs),
        "p95": statistics.median(r.percentile(95) for r in app_runs),
        "p99": statistics.median(r.percentile(99) for r in app_runs),
        "statuses": best.statuses,
        "generator_cpu_share": statistics.median(r.generator_cpu_s / r.wall_s
                                                 for r in app_runs),
        "checks": checks, "expected": expected,
        "exact": all({k: c[k] for k in expected} == expected and c["doctor_ok"]
                     for c in checks),
        "seeds_way": seeds, "memory": memory,
    }


def worker_memory(server_url: str, requests: int, concurrency: int, workers: int,
                  threads: int) -> dict:
    """Worker RSS sampled every tenth of `requests` new messages through one gunicorn."""
    plan = make_plan(requests, max(requests // 5, 1), 0, seed=11)
    name = f"bench_memory_{os.getpid()}"
    db_url = create_database(server_url, name)
    prepare_app_database(db_url, plan.existing)
    server = Gunicorn(db_url, workers, threads)
    try:
        result = post_all(server.port, plan.requests, concurrency,
                          sample_rss=server.worker_rss_kib,
                          sample_every=max(requests // 10, 1))
    finally:
        server.stop()
    drop_database(server_url, name)
    totals = [sum(s) for s in result.rss_samples]
    peaks = [max(s) for s in result.rss_samples if s]
    return {
        "requests": requests, "samples_kib": totals,
        "peak_worker_kib": max(peaks) if peaks else 0,
        "first_kib": totals[0] if totals else 0, "last_kib": totals[-1] if totals else 0,
        "growth_after_warmup": (totals[-1] - totals[1]) / totals[1] if len(totals) > 2 else 0.0,
    }
