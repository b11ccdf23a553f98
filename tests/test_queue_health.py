"""doctor reports the job queue: waiting jobs and their age, stalled and failed jobs, workers."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from pawline import jobs
from pawline.db import db
from pawline.outbound import queue_message
from pawline.queue_health import queue_health
from pawline.threads import find_or_create_thread
from tests import factories


@pytest.fixture
def queued(ctx):
    """Three messages queued, each with its delivery job (in this test's transaction)."""
    org = factories.org()
    factories.number(org.id, "+14155550101", "pool")
    thread_id = find_or_create_thread(org.id, factories.client(org.id, "Ada", "+14155552671"))
    db.session.commit()
    return [queue_message(org.id, thread_id, f"Hello {n}", None, "twilio").message_id
            for n in range(3)]


def set_jobs(sql: str) -> None:
    db.session.execute(sa.text(sql))
    db.session.flush()


def health():
    return queue_health(db.session.connection(), stalled_after_seconds=30)


def test_waiting_jobs_are_counted_with_the_age_of_the_oldest(queued):
    set_jobs("UPDATE procrastinate_events SET at = now() - interval '90 seconds' "
             "WHERE type = 'deferred' AND job_id = (SELECT min(id) FROM procrastinate_jobs)")

    seen = health()

    assert (seen.waiting, seen.scheduled, seen.running, seen.stalled, seen.failed) == (3, 0, 0,
                                                                                       0, 0)
    assert timedelta(seconds=89) < seen.oldest_wait < timedelta(seconds=120)
    assert seen.warnings == ["no worker is running: start `flask --app app worker`"]


def test_a_retry_due_later_is_scheduled_not_waiting(queued):
    jobs.defer_delivery(queued[0], at=db.session.scalar(sa.text("SELECT now()")) +
                        timedelta(minutes=5))
    assert (health().waiting, health().scheduled) == (3, 1)


def test_running_jobs_of_a_silent_worker_are_stalled_and_failed_jobs_are_counted(queued):
    set_jobs("INSERT INTO procrastinate_workers (last_heartbeat) "
             "VALUES (now() - interval '5 minutes'), (now())")
    set_jobs("""UPDATE procrastinate_jobs SET status = 'doing', worker_id = w.id
                FROM (SELECT min(id) AS id FROM procrastinate_workers) w
                WHERE procrastinate_jobs.id = (SELECT min(id) FROM procrastinate_jobs)""")
    set_jobs("""UPDATE procrastinate_jobs SET status = 'doing', worker_id = w.id
                FROM (SELECT max(id) AS id FROM procrastinate_workers) w
                WHERE procrastinate_jobs.id = (SELECT max(id) FROM procrastinate_jobs)""")
    set_jobs("""UPDATE procrastinate_jobs SET status = 'failed' WHERE id = (
                SELECT id FROM procrastinate_jobs WHERE status = 'todo')""")

    seen = health()

    assert (seen.waiting, seen.running, seen.stalled, seen.failed, seen.workers) == (0, 2, 1, 1,
                                                                                     1)
    assert seen.warnings == ["1 stalled jobs (their worker stopped heartbeating)",
                             "1 failed jobs"]
