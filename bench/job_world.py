"""What the job-queue benchmarks share: an organization to send from, worker processes, a fake
Twilio, and the check that every message reached the provider once.

Workers are real processes (`flask --app app worker`, as production runs them) talking to the
fake Twilio through the real SDK; messages are queued by `outbound.queue_message` (stored and
deferred in one transaction) or, in the mixed load, by the web's send route.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import psycopg

from bench import servers
from bench.fake_twilio import FakeTwilio
from bench.servers import bench_app

ROOT = Path(__file__).resolve().parent.parent
SID = "AC" + "0" * 32
TOKEN = servers.TOKEN  # the one auth token of the mixed load's web and workers
STAFF_EMAIL, STAFF_PASSWORD = "staff@{slug}.example", "bench-password"


@dataclass(frozen=True)
class Senders:
    """An organization with one pool number and a thread for each of its clients."""

    db_url: str
    org_id: int
    user_id: int
    slug: str
    thread_ids: list[int]


def seed_senders(db_url: str, slug: str, clients: int, pool: str,
                 first_phone: int = 0, texted: bool = False) -> Senders:
    """A new organization in a migrated database: owner, pool number, clients with threads.
    `texted`: each client has texted the pool number once (pawline.inbound, as the webhook
    stores it), so a reply is an answer on the line the client wrote to, as staff replies are."""
    from pawline import accounts, inbound, numbers
    from pawline.db import db

    app = bench_app(db_url)
    with app.app_context():
        email = STAFF_EMAIL.format(slug=slug)
        org_id = accounts.register_org(f"Jobs {slug}", email, STAFF_PASSWORD, slug=slug).id
        numbers.add_number(org_id, pool, "pool")
        user_id = db.session.scalar(db.text("SELECT id FROM app_user WHERE email = :e"),
                                    {"e": email})
        thread_ids = db.session.scalars(db.text("""
            WITH phones AS (
                SELECT '+1628' || (7000000 + :first + n) AS e164 FROM generate_series(1, :n) n),
            clients AS (
                INSERT INTO client (org_id, name) SELECT :org, 'Client ' || e164 FROM phones
                RETURNING id, name),
            contacts AS (
                INSERT INTO client_contact (org_id, client_id, e164)
                SELECT :org, id, substr(name, 8) FROM clients RETURNING client_id)
            INSERT INTO thread (org_id, client_id) SELECT :org, client_id FROM contacts
            RETURNING id
        """), {"org": org_id, "n": clients, "first": first_phone}).all()
        db.session.commit()
        for n in range(1, clients + 1) if texted else ():
            inbound.receive_sms(pool, f"+1628{7000000 + first_phone + n}", "Hi, a question",
                                f"SMseed{slug[:4]}{n:024x}")  # none of the load's SIDs
        db.engine.dispose()
    return Senders(db_url, org_id, user_id, slug, sorted(thread_ids))


class Queuer:
    """Queues messages the way the domain does: `outbound.queue_message`, committed."""

    def __init__(self, senders: Senders):
        self.senders = senders
        self.app = bench_app(senders.db_url)

    def send(self, n: int, body: str) -> float:
        """Queue `body` on the n-th thread (round robin); answer time.time() after its commit."""
        from pawline import outbound
        from pawline.db import db

        threads = self.senders.thread_ids
        with self.app.app_context():
            outbound.queue_message(self.senders.org_id, threads[n % len(threads)], body,
                                   self.senders.user_id, "twilio")
            committed = time.time()
            db.session.remove()
        return committed

    def close(self) -> None:
        from pawline.db import db

        with self.app.app_context():
            db.engine.dispose()


def worker_env(db_url: str, fake_url: str, **settings) -> dict:
    """A production worker's environment, talking to the fake Twilio; settings as strings."""
    return {**os.environ, "DATABASE_URL": db_url, "SECRET_KEY": "bench-worker",
            "SMS_PROVIDER": "twilio", "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_API_BASE_URL": fake_url,
            **{key: str(value) for key, value in settings.items()}}


class Workers:
    """`count` worker processes; their output goes to a file (a pipe left unread would fill)."""

    def __init__(self, env: dict, count: int, concurrency: int):
        self.log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed by close()
        self.started = time.perf_counter()
        self.processes = [subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "worker", "--concurrency",
             str(concurrency)], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
            for _ in range(count)]

    def cpu_seconds(self) -> float:
        """User and system CPU the running workers have used so far (Linux /proc)."""
        total = 0
        for process in self.processes:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> list[int]:
        """SIGTERM (each finishes its jobs), then wait; answer the exit codes."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = []
        for process in self.processes:
            try:
                codes.append(process.wait(timeout=60))
            except subprocess.TimeoutExpired:
                process.kill()
                codes.append(process.wait())
        return codes

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def close(self) -> None:
        self.stop()
        self.log.close()


def server_cpu_seconds(db_url: str) -> float | None:
    """CPU used so far by the PostgreSQL server's processes, when it runs on this machine and
    its data directory is readable (the embedded one); else None."""
    try:
        with psycopg.connect(db_url) as conn:
            folder = Path(conn.execute("SHOW data_directory").fetchone()[0])
        postmaster = (folder / "postmaster.pid").read_text().split()[0]
    except (OSError, psycopg.Error, IndexError):
        return None
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if fields[1] == postmaster or stat.parent.name == postmaster:  # ppid, or itself
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def start_fake() -> FakeTwilio:
    return FakeTwilio(SID, TOKEN).start()


PENDING = ("SELECT count(*) FROM message WHERE org_id = %s AND direction = 'outbound' "
           "AND provider_sid IS NULL AND status NOT IN ('unconfirmed', 'failed', 'canceled')")


def wait_until_settled(db_url: str, org_id: int, timeout: float, every: float = 0.05) -> float:
    """Poll until no message of the organization is pending; answer time.perf_counter() then.

    One connection for all the polls: a new one each 50 ms would cost PostgreSQL a backend
    start each time, CPU the throughput benchmark would count as the messages'.
    """
    deadline = time.perf_counter() + timeout
    with psycopg.connect(db_url, autocommit=True) as conn:
        while conn.execute(PENDING, (org_id,)).fetchone()[0]:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"messages still pending after {timeout:.0f} s")
            time.sleep(every)
    return time.perf_counter()


def analyze_job_tables(db_url: str) -> None:
    """Statistics for the job and message tables, as autovacuum keeps them on a running
    database: a new one has none until autovacuum's first pass (up to a minute), and without
    them the planner sorts every waiting job for each fetch."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("ANALYZE procrastinate_jobs, procrastinate_events, message")


def outcome(db_url: str, org_id: int, fake: FakeTwilio, bodies: list[str]) -> dict:
    """What reached the provider, against what was queued: each body once, nothing lost."""
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT body, status, provider_sid, attempts FROM message "
            "WHERE org_id = %s AND direction = 'outbound'", (org_id,)).fetchall()
        failed_jobs = conn.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'deliver_message' "
            "AND status = 'failed'").fetchone()[0]
    ours = set(bodies)
    accepted = Counter(m.body for m in fake.messages if m.body in ours)
    sids = [r[2] for r in rows if r[2]]
    fake_sids = {m.sid for m in fake.messages if m.body in ours}
    statuses = Counter(r[1] for r in rows)
    result = {
        "queued": len(bodies), "stored": len(rows), "with_sid": len(sids),
        "distinct_sids": len(set(sids)), "accepted": sum(accepted.values()),
        "accepted_twice": sum(1 for n in accepted.values() if n > 1),
        "unconfirmed": statuses["unconfirmed"], "failed": statuses["failed"],
        "attempts": sum(r[3] for r in rows), "provider_calls": sum(
            1 for c in fake.calls if c.form.get("Body") in ours),
        "failed_jobs": failed_jobs, "statuses": dict(statuses),
    }
    result["exact"] = (
        result["stored"] == len(bodies) and sorted(r[0] for r in rows) == sorted(bodies)
        and result["distinct_sids"] == result["with_sid"] == result["accepted"]
        and set(sids) == fake_sids and result["accepted_twice"] == 0
        and result["with_sid"] + result["unconfirmed"] == len(bodies)
        and result["failed"] == 0 and failed_jobs == 0)
    return result
