"""Worker processes for tests: `flask --app app worker`, as production runs it."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import BEHIND_PGBOUNCER

ROOT = Path(__file__).resolve().parent.parent
SID, TOKEN = "AC" + "0" * 32, "test-auth-token"


def worker_env(database_url: str, fake_base_url: str, **settings) -> dict:
    """The environment of a production worker talking to a fake Twilio (through a PgBouncer
    when the tests' apps are: see tests/conftest.py)."""
    return {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "worker-test",
            "SMS_PROVIDER": "twilio", "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_API_BASE_URL": fake_base_url, "SMS_READ_TIMEOUT": "5",
            "JOB_POLL_SECONDS": "0.2", "JOB_HEARTBEAT_SECONDS": "0.5",
            "DATABASE_BEHIND_PGBOUNCER": "1" if BEHIND_PGBOUNCER else "0",
            **{key: str(value) for key, value in settings.items()}}


def start_worker(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "worker", *args], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(process: subprocess.Popen, timeout: float = 60) -> str:
    """Wait for a worker started with --once; answer its output (fails if it failed)."""
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output
    return output


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> str:
    if process.poll() is None:
        process.send_signal(sig)
    output, _ = process.communicate(timeout=30)
    return output


def wait_for(condition, timeout: float = 30, every: float = 0.05):
    """Poll `condition` until it answers something true; answer that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {condition}")


def job_statuses(engine) -> list[str]:
    with engine.connect() as conn:
        return conn.scalars(sa.text(
            "SELECT status::text FROM procrastinate_jobs WHERE task_name = 'deliver_message' "
            "ORDER BY id")).all()
