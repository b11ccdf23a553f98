"""The restore drill of docs/operations.md, run for real: a populated database is dumped with
pg_dump, restored with pg_restore into a new database, and on the copy `flask doctor --full`
passes, every table holds the same rows, the app is ready and new rows get new ids.

pg_dump and pg_restore are the server's own major version (tests/pg_tools.py): the embedded
PostgreSQL 18 locally and in CI's first run, the machine's PostgreSQL in its second.
"""

import subprocess
import sys
from datetime import timedelta

import psycopg
import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from pawline import bookings, sitters
from pawline.clock import utcnow
from pawline.db import db
from pawline.inbound import receive_sms
from pawline.outbound import queue_message
from tests import factories
from tests.conftest import BEHIND_PGBOUNCER, make_app
from tests.pg_tools import tools_for
from tests.workers import ROOT

pytestmark = [
    pytest.mark.concurrency,  # commits, in databases of its own
    # pg_dump and pg_restore set session state (search_path) that transaction pooling does not
    # keep: a dump and a restore talk to PostgreSQL itself (docs/operations.md).
    pytest.mark.skipif(BEHIND_PGBOUNCER, reason="pg_dump/pg_restore go to PostgreSQL directly"),
]
POOL = "+14155550100"


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def populate(url: str) -> None:
    """Every kind of row the app writes: users and their sessions, clients and threads,
    messages both ways with a delivery job, a sitter with a number, a confirmed booking with
    its window, audit events and a failed sign-in's counters."""
    app = make_app(url)
    with app.app_context():
        upgrade()
        org = factories.org()
        factories.number(org.id, POOL, "pool")
        factories.number(org.id, "+14155550101", "pool")
        sitter = sitters.create_sitter(org.id, "Sam", factories.phone())
        sitters.activate_sitter(org.id, sitter.id, None)
        received = [receive_sms(POOL, factories.phone(), f"Woof {n}", f"SMrestore{n:024d}")
                    for n in range(5)]
        queue_message(org.id, received[0].thread_id, "On my way", None, "console")
        now = utcnow()
        booking = bookings.create_booking(org.id, received[0].client_id, sitter.id,
                                          now + timedelta(days=1), now + timedelta(days=2))
        bookings.confirm_booking(org.id, booking.id)
        email = org.owner_email
    client = app.test_client()
    assert client.post("/sign-in", data={"email": email, "password": "wrong"}).status_code == 400
    assert client.post("/sign-in", data={"email": email, "password": factories.PASSWORD}
                       ).status_code == 302
    with app.app_context():
        db.engine.dispose()


def row_counts(url: str) -> dict[str, int]:
    with psycopg.connect(libpq(url)) as conn:
        tables = [t for (t,) in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_a_dump_restores_into_a_new_database_that_doctor_full_passes(make_database, tmp_path):
    source, target = make_database(), make_database()
    populate(source)
    with psycopg.connect(libpq(source)) as conn:
        tools = tools_for(int(conn.execute("SHOW server_version_num").fetchone()[0]))
    dump = tmp_path / "pawline.dump"

    # The commands of docs/operations.md, "Backups and the restore drill".
    run([tools / "pg_dump", "--format=custom", f"--file={dump}", f"--dbname={libpq(source)}"])
    run([tools / "pg_restore", "--no-owner", "--no-acl", "--exit-on-error",
         "--single-transaction", f"--dbname={libpq(target)}", dump])

    counts = row_counts(target)
    assert counts == row_counts(source)
    for table in ("message", "audit_event", "booking", "assignment_window", "user_session",
                  "procrastinate_jobs", "alembic_version", "rate_limit"):
        assert counts[table] > 0, table  # the drill covered it
    doctor = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "doctor", "--full"], cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": target, "SECRET_KEY": "restore-drill"},
        capture_output=True, text=True, timeout=120)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "FAIL" not in doctor.stdout and " checks hold." in doctor.stdout

    restored = make_app(target)
    assert restored.test_client().get("/readyz").status_code == 200
    with restored.app_context():  # the sequences came along: a new message gets a new id
        receive_sms(POOL, factories.phone(), "After the restore", "SMafter0restore0000000001")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(sa.table("message"))
                                 ) == counts["message"] + 1
        db.engine.dispose()


def run(command: list) -> None:
    done = subprocess.run([str(part) for part in command], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, f"{command[0]}: {done.stderr}"
