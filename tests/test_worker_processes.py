"""Real worker processes (`flask --app app worker`) against the real SDK and a fake Twilio.

Each test commits its data: workers are other processes on other connections.
"""

import os
import signal
import time

import pytest
import sqlalchemy as sa

from bench.fake_twilio import FakeTwilio, accept, hang, server_error
from pawline import jobs
from pawline.db import db
from pawline.models import Message
from pawline.outbound import queue_message
from pawline.threads import find_or_create_thread
from tests import factories
from tests.jobs import on_open_queue
from tests.workers import (
    SID,
    TOKEN,
    finish,
    job_statuses,
    start_worker,
    stop,
    wait_for,
    worker_env,
)

pytestmark = pytest.mark.concurrency


@pytest.fixture
def fake():
    with FakeTwilio(SID, TOKEN) as server:
        yield server


def queue(app, count: int, first: int = 0) -> list[int]:
    """`count` messages to as many clients of a new organization, queued with their jobs."""
    with app.app_context():
        org = factories.org()
        factories.number(org.id, f"+1415666{first:04d}", "pool")
        ids = []
        for n in range(first, first + count):
            client_id = factories.client(org.id, f"Client {n}", f"+1415555{n:04d}")
            thread_id = find_or_create_thread(org.id, client_id)
            db.session.commit()
            ids.append(queue_message(org.id, thread_id, f"Hello {n}", None, "twilio").message_id)
        return ids


def messages(app) -> list[Message]:
    with app.app_context():
        rows = db.session.scalars(sa.select(Message).order_by(Message.id)).all()
        db.session.expunge_all()
        return rows


def test_two_worker_processes_racing_one_queue_send_each_message_once(app, database_url, fake):
    ids = queue(app, 40)
    with app.app_context():  # and a second job for every message, as a double-clicked retry would
        for message_id in ids:
            jobs.defer_delivery(message_id)
        db.session.commit()
    env = worker_env(database_url, fake.base_url)

    workers = [start_worker(env, "--once", "--concurrency", "4") for _ in range(2)]
    outputs = [finish(worker) for worker in workers]

    assert sorted(m.body for m in fake.messages) == sorted(f"Hello {n}" for n in range(40))
    stored = messages(app)
    assert all(m.provider_sid and m.attempts == 1 for m in stored)
    assert {m.provider_sid for m in stored} == {m.sid for m in fake.messages}
    assert set(job_statuses(db_engine(app))) == {"succeeded"}
    assert all("Worker taking jobs" in output for output in outputs)


def db_engine(app):
    with app.app_context():
        return db.engine


def test_a_worker_killed_mid_send_leaves_a_job_recovery_runs_and_it_is_never_resent(
        app, database_url, fake):
    fake.then(hang(accepted=True))  # Twilio took it; the answer never comes back
    [message_id] = queue(app, 1)
    env = worker_env(database_url, fake.base_url, SMS_READ_TIMEOUT=60)
    worker = start_worker(env)
    wait_for(lambda: fake.calls)

    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)

    assert [m.status for m in messages(app)] == ["sending"]
    assert job_statuses(db_engine(app)) == ["doing"]
    time.sleep(1.2)  # the dead worker's last heartbeat grows old
    # (the dead worker's periodic jobs may have been running too: they are recovered as well)
    assert on_open_queue(app, lambda queue: jobs.recover_stalled(queue, 1)) >= 1
    assert job_statuses(db_engine(app)) == ["todo"]
    finish(start_worker(env, "--once"))

    [message] = messages(app)
    assert (message.id, message.status, message.provider_sid) == (message_id, "unconfirmed", None)
    assert len(fake.messages) == 1 and len(fake.calls) == 1  # never sent again by itself
    assert job_statuses(db_engine(app)) == ["succeeded"]


def test_a_send_that_times_out_is_unconfirmed_and_not_tried_again(app, database_url, fake):
    fake.then(hang(), accept())
    ids = queue(app, 1)
    env = worker_env(database_url, fake.base_url, SMS_READ_TIMEOUT=0.5)

    finish(start_worker(env, "--once"))

    [message] = messages(app)
    assert (message.id, message.status, message.attempts) == (ids[0], "unconfirmed", 1)
    assert len(fake.calls) == 1


def test_a_503_is_tried_again_when_its_backoff_is_due(app, database_url, fake):
    fake.then(server_error(503))
    queue(app, 1)
    env = worker_env(database_url, fake.base_url)

    finish(start_worker(env, "--once"))
    [waiting] = messages(app)
    assert (waiting.status, waiting.attempts, waiting.error_code) == ("queued", 1, "20503")
    assert job_statuses(db_engine(app)) == ["succeeded", "todo"]
    with db_engine(app).begin() as conn:  # the backoff has passed
        conn.execute(sa.text("UPDATE procrastinate_jobs SET scheduled_at = now() "
                             "WHERE status = 'todo'"))
    finish(start_worker(env, "--once"))

    [sent] = messages(app)
    assert (sent.attempts, sent.provider_sid) == (2, fake.messages[0].sid)
    assert sent.error_message is None and len(fake.calls) == 2


def test_a_worker_stopped_with_sigterm_finishes_its_job_first(app, database_url, fake):
    fake.always(accept(delay=1.0))
    queue(app, 1)
    worker = start_worker(worker_env(database_url, fake.base_url))
    wait_for(lambda: fake.calls)

    output = stop(worker, signal.SIGTERM)

    assert worker.returncode == 0, output
    [message] = messages(app)
    assert message.provider_sid == fake.messages[0].sid


def test_a_worker_sends_as_many_at_once_as_its_concurrency(app, database_url, fake):
    """More than the cpu + 4 threads asyncio's default executor would give sync tasks."""
    fake.always(accept(delay=1.5))
    queue(app, 12)
    env = worker_env(database_url, fake.base_url, SMS_CONNECT_TIMEOUT=5)

    finish(start_worker(env, "--once", "--concurrency", "12"))

    starts = sorted(call.received_at for call in fake.calls)
    at_once = sum(1 for start in starts if start < starts[0] + 1.0)  # before the first answered
    assert len(starts) == 12 and at_once > (os.cpu_count() or 1) + 4, starts
