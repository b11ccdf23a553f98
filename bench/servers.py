"""The benchmarks' databases and web processes: a fresh migrated database per run, seeded like
production, and the app under a real gunicorn."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-auth-token"
POOL = "+14155550100"
WARM_UP_POOL = "+14155550199"  # another organization's number, to warm workers up before timing
PATH = "/webhooks/twilio/sms"


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
