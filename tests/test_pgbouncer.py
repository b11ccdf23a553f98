"""PgBouncer in transaction pooling mode: with DATABASE_BEHIND_PGBOUNCER the app's connections
prepare no statement."""

from pawline import jobs
from pawline.db import db
from tests.conftest import make_app

PREPARE_THRESHOLD = 5  # psycopg's default: the sixth run of a statement on a connection prepares it


def prepare_threshold(app) -> int | None:
    """psycopg's prepare threshold on a connection of the app's engine."""
    with app.app_context():
        with db.engine.connect() as connection:
            threshold = connection.connection.driver_connection.prepare_threshold
        db.engine.dispose()
    return threshold


def test_behind_pgbouncer_every_connection_the_app_opens_prepares_nothing(database_url):
    options = {"pool_size": 1, "connect_args": {"connect_timeout": 5}}

    app = make_app(database_url, DATABASE_BEHIND_PGBOUNCER=True, SQLALCHEMY_ENGINE_OPTIONS=options)

    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] == {
        "connect_timeout": 5, "prepare_threshold": None}
    assert options == {"pool_size": 1, "connect_args": {"connect_timeout": 5}}  # not changed
    assert prepare_threshold(app) is None
    # a worker's pool; deferring a job runs on the web's own connection
    assert jobs.connector_for(app, 3)._pool_args["kwargs"] == {"prepare_threshold": None}
    direct = make_app(database_url, DATABASE_BEHIND_PGBOUNCER=False)
    assert prepare_threshold(direct) == PREPARE_THRESHOLD
    assert jobs.connector_for(direct, 3)._pool_args["kwargs"] == {}
