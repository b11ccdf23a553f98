"""A pooled connection whose server ended it is replaced at checkout, and checking a live one out
sends the server nothing (pawline.db.refuse_dead_connections, instead of a ping a checkout).

Direct connections only: behind a PgBouncer the server connections are PgBouncer's (it replaces
them itself), and the admin connection that ends a backend may be handed that same backend."""

import time

import psycopg
import pytest
from sqlalchemy import text

from pawline.db import db
from tests.conftest import direct_only, make_app

pytestmark = [pytest.mark.concurrency, direct_only]


def _one_connection_app(database_url):
    return make_app(database_url, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0})


def _backend_pid(app) -> int:
    with app.app_context():
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        db.session.remove()  # the connection goes back to the pool
    return pid


def _admin(database_url):
    return psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://", 1),
                           autocommit=True)


def test_a_connection_the_server_ended_is_replaced_and_the_request_carries_on(database_url):
    app = _one_connection_app(database_url)
    first = _backend_pid(app)
    with _admin(database_url) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (first,))
        deadline = time.monotonic() + 10
        while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s",
                            (first,)).fetchone():
            assert time.monotonic() < deadline, "the backend did not end"
            time.sleep(0.02)

    second = _backend_pid(app)  # no error: the dead connection was never handed out

    assert second != first
    with app.app_context():
        db.engine.dispose()


def test_checking_a_live_connection_out_sends_the_server_nothing(database_url):
    app = _one_connection_app(database_url)
    pid = _backend_pid(app)
    with _admin(database_url) as admin:
        def last_statement():
            return admin.execute("SELECT query FROM pg_stat_activity WHERE pid = %s",
                                 (pid,)).fetchone()[0]

        before = last_statement()  # the ROLLBACK that returned it to the pool
        with app.app_context():
            db.session.connection()  # checked out of the pool, and nothing run on it
            db.session.remove()
            after = last_statement()
            db.engine.dispose()

    assert (before, after) == ("ROLLBACK", "ROLLBACK")  # a ping would be the last statement
