"""Fixtures: one real PostgreSQL per run, one transaction per test, rolled back.

PostgreSQL comes from TEST_DATABASE_URL (a fresh database is created in that server and dropped
after the run) or, when unset, from the embedded server started once in a temporary folder.
Through a PgBouncer in transaction pooling mode (.ci/run's last stage), TEST_DATABASE_URL names
the PgBouncer and TEST_BEHIND_PGBOUNCER=1 sets DATABASE_BEHIND_PGBOUNCER for every app and worker.
Tests marked `concurrency` or `browser` need data other connections can see: they commit for
real, and every table is truncated after them.
"""

import os
import time
import uuid

import psycopg
import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from pawline.config import normalize_database_url
from pawline.db import db
from pawline.embedded import embedded_database_url

PASSWORD = "correct horse battery"
BEHIND_PGBOUNCER = os.environ.get("TEST_BEHIND_PGBOUNCER") == "1"
# The benchmarks measure PostgreSQL itself: their ceiling prepares statements and sets
# search_path at connect (a startup parameter PgBouncer refuses).
direct_only = pytest.mark.skipif(BEHIND_PGBOUNCER, reason="measures PostgreSQL, not a PgBouncer")
JOB_TABLES = ("procrastinate_jobs", "procrastinate_events", "procrastinate_periodic_defers",
              "procrastinate_workers")


def _psycopg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture(scope="session")
def server_url(tmp_path_factory):
    """A PostgreSQL server URL (its maintenance database)."""
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        return normalize_database_url(given)
    return embedded_database_url(tmp_path_factory.mktemp("pgdata"))


@pytest.fixture(scope="session")
def make_database(server_url):
    """Create empty databases on the test server; drop them all after the run.

    Through a PgBouncer too: it forwards CREATE and DROP DATABASE (autocommit, one statement a
    transaction), and its `*` entry pools the new databases as they are named."""
    created = []
    admin = _psycopg_url(server_url)

    def make() -> str:
        name = f"pawline_test_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)

    yield make
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in created:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_app(database_url: str, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        # Small idle pools: several apps share one server (max_connections 100) in a run.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 5, "max_overflow": 25},
        "WTF_CSRF_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
        "SESSION_COOKIE_NAME": "pawline",
        "SMS_PROVIDER": "console",
        "TWILIO_AUTH_TOKEN": "test-auth-token",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "PUBLIC_BASE_URL": "",
        # never the real Bot API: a test that talks to Telegram starts a fake and points here
        "TELEGRAM_API_BASE": "http://127.0.0.1:9",
        "META_APP_SECRET": "test-meta-app-secret",  # tests/meta_signing.py signs with it
        "META_VERIFY_TOKEN": "test-meta-verify-token",
        "WORKER_IN_PROCESS": False,
        "DATABASE_BEHIND_PGBOUNCER": BEHIND_PGBOUNCER,
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session")
def database_url(make_database):
    """The suite's database, migrated to head once."""
    url = make_database()
    app = make_app(url)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture(scope="session")
def app(database_url):
    return make_app(database_url)


@pytest.fixture(autouse=True)
def _isolated(request, app):
    """Per test: a connection in a transaction stands in for the engine, rolled back after."""
    committing = any(request.node.get_closest_marker(m) for m in ("concurrency", "browser"))
    if committing:
        yield
        _truncate_all(app)
        return
    with app.app_context():
        engines = db._app_engines[app]
        engine = engines[None]
        connection = engine.connect()
        transaction = connection.begin()
        engines[None] = connection
    try:
        yield
    finally:
        with app.app_context():
            db.session.remove()
        transaction.rollback()
        connection.close()
        engines[None] = engine


# Triggers that refuse TRUNCATE (I9, I10, consent events): the suite, as the tables' owner,
# switches them off for its own cleanup, in the same transaction, so no other session sees them
# off.
NO_TRUNCATE = (("audit_event", "audit_event_never_truncated"),
               ("message", "message_never_truncated"),
               ("consent_event", "consent_event_never_truncated"))


def _truncate_all(app) -> None:
    with app.app_context():
        db.session.remove()
        tables = ", ".join([t.name for t in db.metadata.sorted_tables] + list(JOB_TABLES))
        for attempt in range(5):
            try:
                with db.engine.begin() as conn:
                    for table, trigger in NO_TRUNCATE:
                        conn.execute(sa.text(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}"))
                    conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
                    for table, trigger in NO_TRUNCATE:
                        conn.execute(sa.text(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}"))
                return
            except sa.exc.OperationalError:  # a browser's last poll still in flight: deadlock
                if attempt == 4:
                    raise
                time.sleep(0.2)


@pytest.fixture
def ctx(app):
    """An app context for tests that call the domain layer directly (no requests inside)."""
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def statements():
    """Every SQL statement sent to PostgreSQL while the fixture is alive (N+1 checks)."""
    seen = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", count)
    yield seen
    sa.event.remove(sa.engine.Engine, "before_cursor_execute", count)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Auth:
    def __init__(self, client):
        self._client = client

    def sign_in(self, email: str, password: str = PASSWORD):
        response = self._client.post("/sign-in", data={"email": email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    def sign_out(self):
        return self._client.post("/sign-out")


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture(scope="session")
def live_app(make_database, database_url):
    """The app on a real threaded HTTP server, CSRF on, as a browser meets it."""
    from threading import Thread

    from werkzeug.serving import make_server

    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["LIVE_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield app
    server.shutdown()


@pytest.fixture
def live_url(live_app):
    return live_app.config["LIVE_URL"]
