"""PgBouncer in transaction pooling mode: with DATABASE_BEHIND_PGBOUNCER the app's connections
prepare no statement. Through a real one (.ci/run's last stage, TEST_BEHIND_PGBOUNCER=1): the tests
really go through it, a prepared statement breaks there, and the app's busiest statements, run far
past psycopg's prepare threshold from many threads and two worker processes, store every webhook
and send every message once."""

from collections import Counter

import psycopg
import pytest
import sqlalchemy as sa

from bench.fake_twilio import FakeTwilio
from pawline import jobs
from pawline.db import db
from pawline.models import Message, Thread
from tests import factories
from tests.concurrency import race_ok
from tests.conftest import BEHIND_PGBOUNCER, make_app
from tests.test_concurrency_inbound import assert_invariants_hold
from tests.twilio_signing import post_signed, sms_params
from tests.workers import SID, TOKEN, finish, job_statuses, start_worker, worker_env

through_pgbouncer = pytest.mark.skipif(not BEHIND_PGBOUNCER,
                                       reason="needs a PgBouncer: TEST_BEHIND_PGBOUNCER=1")

POOL = "+14155550100"
SMS = "/webhooks/twilio/sms"
PREPARE_THRESHOLD = 5  # psycopg's default: the sixth run of a statement on a connection prepares it


def psycopg_url(database_url: str, database: str | None = None) -> str:
    url = sa.make_url(database_url).set(drivername="postgresql")
    return (url.set(database=database) if database else url).render_as_string(False)


def pgbouncer_setting(database_url: str, name: str) -> str:
    """A setting read from PgBouncer's admin console (its `pgbouncer` database)."""
    with psycopg.connect(psycopg_url(database_url, "pgbouncer"), autocommit=True) as console:
        return {row[0]: row[1] for row in console.execute("SHOW CONFIG")}[name]


def run_on_another_server_connection(database_url: str, **connect) -> str:
    """Run one statement seven times; before the seventh, another client's open transaction
    holds the server connection the sixth ran on (PgBouncer hands out the one freed last), so
    the seventh runs on another. Answers "ok" or the error."""
    url = psycopg_url(database_url)
    with psycopg.connect(url, autocommit=True, **connect) as runs, psycopg.connect(url) as holder:
        try:
            for n in range(PREPARE_THRESHOLD + 1):
                runs.execute("SELECT %s::int + 1", (n,))
            holder.execute("SELECT 1")  # BEGIN: this client now holds that server connection
            runs.execute("SELECT %s::int + 1", (7,))
            return "ok"
        except psycopg.Error as error:
            return str(error)


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


@through_pgbouncer
@pytest.mark.concurrency  # the stage runs these
def test_the_tests_run_through_a_pgbouncer_pooling_transactions(app, database_url):
    assert pgbouncer_setting(database_url, "pool_mode") == "transaction"
    assert prepare_threshold(app) is None

    # What prepare_threshold=None prevents, shown: psycopg's default breaks here, and not before
    # its threshold. This is why a test that runs statements only a few times proves nothing.
    default = run_on_another_server_connection(database_url)
    assert default == 'prepared statement "_pg3_0" does not exist'
    assert run_on_another_server_connection(database_url, prepare_threshold=None) == "ok"


@pytest.fixture
def fake():
    with FakeTwilio(SID, TOKEN) as server:
        yield server


@through_pgbouncer
@pytest.mark.concurrency
def test_webhooks_and_sends_from_threads_and_two_workers_store_and_send_each_once(
        app, database_url, fake):
    # Four pooled connections take every request: each runs the same statements many times.
    web = make_app(database_url, SQLALCHEMY_ENGINE_OPTIONS={
        "pool_size": 4, "max_overflow": 0, "pool_timeout": 60})
    checkouts: Counter = Counter()
    with web.app_context():
        sa.event.listen(db.engine, "checkout",
                        lambda dbapi, record, proxy: checkouts.update([id(dbapi)]))
        org = factories.org()
        factories.number(org.id, POOL)
    phones = [factories.phone() for _ in range(12)]

    inbound = [sms_params(POOL, phones[n % 12], f"in {n}") for n in range(60)]
    statuses = race_ok(None, [
        lambda form=form: post_signed(web.test_client(), SMS, form).status_code
        for form in inbound])
    assert statuses == [200] * 60

    with web.app_context():
        thread_ids = db.session.scalars(sa.select(Thread.id).order_by(Thread.id)).all()
    assert len(thread_ids) == 12
    staff = [web.test_client() for _ in range(8)]

    def send_five(n: int) -> None:
        client = staff[n]
        client.post("/sign-in", data={"email": org.staff_email, "password": factories.PASSWORD})
        for k in range(5):
            body = f"out {n}-{k}"
            response = client.post(f"/threads/{thread_ids[(n + k) % 12]}/messages",
                                   data={"body": body, "client_token": body})
            assert response.status_code == 302, response.get_data(as_text=True)

    race_ok(None, [lambda n=n: send_five(n) for n in range(8)])
    with web.app_context():  # and a second job for every message, as a double-clicked retry would
        outbound = db.session.scalars(sa.select(Message.id).where(
            Message.direction == "outbound")).all()
        for message_id in outbound:
            jobs.defer_delivery(message_id)
        db.session.commit()
    assert len(outbound) == 40 and len(checkouts) <= 4
    assert min(checkouts.values()) > PREPARE_THRESHOLD, checkouts

    # Two worker processes, each a pool of six connections, share the 80 jobs of one queue.
    env = worker_env(database_url, fake.base_url)
    outputs = [finish(worker) for worker in
               [start_worker(env, "--once", "--concurrency", "4") for _ in range(2)]]

    assert sorted(m.body for m in fake.messages) == sorted(
        f"out {n}-{k}" for n in range(8) for k in range(5))
    with web.app_context():
        sent = db.session.scalars(sa.select(Message).where(Message.direction == "outbound")).all()
        assert all(m.provider_sid and m.attempts == 1 for m in sent)
        assert {m.provider_sid for m in sent} == {m.sid for m in fake.messages}
        assert set(job_statuses(db.engine)) == {"succeeded"}
    assert not [line for output in outputs for line in output.splitlines()
                if "prepared statement" in line]
    assert_invariants_hold(web)
    with web.app_context():
        db.engine.dispose()
