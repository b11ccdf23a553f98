"""Racing real connections: every call in its own thread, all released at the same moment."""

import threading
from contextlib import contextmanager

import sqlalchemy as sa

from pawline.db import db
from pawline.doctor import run_checks
from tests.conftest import make_app
from tests.twilio_signing import post_signed

POOL_SIZE = 16
SMS = "/webhooks/twilio/sms"


@contextmanager
def pool_capped_app(database_url, pool_size: int = POOL_SIZE, **config):
    """An app whose pool caps the connections in flight, so a busy shared server is not exhausted.

    Every call still runs in its own thread with its own session and connection; at most
    `pool_size` transactions are open at once, and they race on the same rows.
    """
    app = make_app(database_url, **config, SQLALCHEMY_ENGINE_OPTIONS={
        "pool_size": pool_size, "max_overflow": 0, "pool_timeout": 90})
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


def race(app, calls) -> list:
    """Run each call in its own thread, released together; answer each result or exception.

    With an `app`, each call runs in its own app context, so it has its own session and pooled
    connection. With None (calls that make test-client requests) the request provides both.
    """
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def work(i, call):
        try:
            barrier.wait(timeout=30)
            if app is None:
                outcomes[i] = call()
                return
            with app.app_context():
                try:
                    outcomes[i] = call()
                finally:
                    db.session.remove()
        except BaseException as error:  # noqa: BLE001 - the caller asserts on outcomes
            outcomes[i] = error

    threads = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def race_ok(app, calls) -> list:
    """`race`, asserting that no call raised; answers the results."""
    outcomes = race(app, calls)
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert not errors, errors
    return outcomes


def post_all_at_once(app, forms: list[dict], path: str = SMS) -> list[int]:
    """Post every signed form from its own thread, released together; answers the status codes."""
    return [response.status_code for response in race_ok(None, [
        lambda form=form: post_signed(app.test_client(), path, form) for form in forms])]


def row_counts(app, models) -> dict:
    """Rows of each model's table, by table name."""
    with app.app_context():
        return {model.__tablename__: db.session.scalar(
                    sa.select(sa.func.count()).select_from(model))
                for model in models}


def assert_invariants_hold(app) -> None:
    """Every invariant the doctor checks holds over the whole database."""
    with app.app_context(), db.engine.connect() as connection:
        broken = [(r.check.invariant, r.check.claim, r.violations)
                  for r in run_checks(connection, full=True) if not r.holds]
    assert broken == []
