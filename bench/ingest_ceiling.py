"""The ingestion benchmark's yardsticks: the same statements straight through psycopg (the
ceiling no web stack can beat), and the seeds' way (look, then create) for comparison."""

import threading
import time
from datetime import UTC, datetime

import psycopg

from pawline.inbound import BUMP_THREAD, INSERT_MESSAGE, NUMBER_AND_REGION, PREVIEW_LENGTH
from pawline.threads import (
    INSERT_CONTACT,
    INSERT_GUEST,
    INSERT_OR_FIND_THREAD,
    OWNER_OF_PHONE,
    THREAD_OF_CLIENT,
    guest_name,
)


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
            "sid": form["MessageSid"], "media": 0, "flag": None, "now": now,
            "channel": "sms"}).fetchone()
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
