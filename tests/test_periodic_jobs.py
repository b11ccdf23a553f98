"""Periodic jobs: quarantines end and snoozes wake on time, in every organization, and each job
runs once per period however many workers run."""

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from pawline import jobs, numbers, scheduled, threads
from pawline.clock import utcnow
from pawline.db import db
from pawline.models import AuditEvent, Message, MessageNumber, Thread
from tests import factories
from tests.jobs import on_open_queue
from tests.workers import start_worker, stop, wait_for, worker_env

MINUTELY = ("recover_stalled_jobs", "release_quarantines", "send_booking_messages",
            "send_scheduled_messages", "wake_snoozed")


def quarantined(org_id: int, e164: str, release_at) -> int:
    number_id = factories.number(org_id, e164, "pool")
    numbers.quarantine(org_id, number_id, None, release_at, "spam reports", utcnow() - timedelta(
        days=30), "30")
    db.session.commit()
    return number_id


def snoozed(org_id: int, phone: str, until) -> int:
    thread_id = threads.find_or_create_thread(org_id, factories.client(org_id, "Ada", phone))
    db.session.execute(sa.update(Thread).where(Thread.id == thread_id).values(
        status="snoozed", snoozed_until=until))
    db.session.commit()
    return thread_id


def test_ended_quarantines_return_to_the_pool_with_the_system_as_actor(ctx):
    now = utcnow()
    first, second = factories.org(), factories.org()
    ended = quarantined(first.id, "+14155550101", now - timedelta(minutes=1))
    other_org = quarantined(second.id, "+14155550102", now - timedelta(days=1))
    later = quarantined(first.id, "+14155550103", now + timedelta(days=1))

    assert numbers.release_due_quarantines(now) == 2

    statuses = {n.id: (n.status, n.number_class, n.assigned_sitter_id)
                for n in db.session.scalars(sa.select(MessageNumber))}
    assert statuses[ended] == statuses[other_org] == ("active", "pool", None)
    assert statuses[later][0] == "quarantined"
    released = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "number.released")).all()
    assert {(e.entity_id, e.actor_user_id) for e in released} == {(ended, None), (other_org, None)}
    assert numbers.release_due_quarantines(now) == 0  # idempotent


def test_snoozes_that_ended_wake_in_every_organization(ctx):
    now = utcnow()
    first, second = factories.org(), factories.org()
    woke = [snoozed(first.id, "+14155552671", now - timedelta(seconds=1)),
            snoozed(second.id, "+14155552672", now - timedelta(hours=1))]
    sleeping = snoozed(first.id, "+14155552673", now + timedelta(hours=1))

    assert threads.wake_snoozed(None, now) == 2

    status = dict(db.session.execute(sa.select(Thread.id, Thread.status)).all())
    assert [status[t] for t in woke] == ["open", "open"] and status[sleeping] == "snoozed"


@pytest.mark.concurrency
def test_two_workers_run_each_periodic_job_once_per_minute_and_release_on_time(
        app, database_url):
    with app.app_context():
        org = factories.org()
        number_id = quarantined(org.id, "+14155550101", utcnow() - timedelta(minutes=1))
        thread_id = snoozed(org.id, "+14155552671", utcnow() - timedelta(minutes=1))
        factories.number(org.id, "+14155550109", "pool")
        due = [scheduled.schedule_message(org.id, thread_id, f"Reply {n}", utcnow() + timedelta(
            seconds=1), None) for n in range(5)]
        time.sleep(1)
    env = worker_env(database_url, "http://127.0.0.1:9")
    workers = [start_worker(env) for _ in range(2)]

    def all_ran():
        with app.app_context():
            return set(MINUTELY) <= set(db.session.scalars(sa.text(
                "SELECT task_name FROM procrastinate_jobs WHERE status = 'succeeded'")))
    try:
        wait_for(all_ran, timeout=30, every=0.2)
        time.sleep(1)  # a second worker's deferrer has had its chance to defer again
    finally:
        outputs = [stop(worker) for worker in workers]

    with app.app_context():
        per_tick = db.session.execute(sa.text("""
            SELECT j.task_name, count(*) AS jobs, count(DISTINCT d.defer_timestamp) AS ticks
            FROM procrastinate_jobs j JOIN procrastinate_periodic_defers d ON d.job_id = j.id
            GROUP BY j.task_name""")).all()
        assert per_tick and all(row.jobs == row.ticks for row in per_tick), (per_tick, outputs)
        assert db.session.get(MessageNumber, number_id).status == "active"
        assert db.session.get(Thread, thread_id).status == "open"
        tokens = db.session.scalars(sa.select(Message.client_token).where(
            Message.direction == "outbound")).all()
        assert sorted(tokens) == sorted(f"scheduled-{i}" for i in due)  # each once


@pytest.mark.concurrency
def test_pruning_forgets_finished_jobs_past_retention_and_keeps_the_rest(app):
    with app.app_context():
        ids = {}
        for name, status, age in (("old_done", "succeeded", "8 days"), ("new_done", "succeeded",
                                  "1 hour"), ("old_failed", "failed", "8 days"),
                                  ("waiting", "todo", "8 days")):
            ids[name] = db.session.scalar(sa.text(  # deferred, then finished: both events
                "INSERT INTO procrastinate_jobs (queue_name, task_name) VALUES ('sms', :name) "
                "RETURNING id"), {"name": name})
            db.session.execute(sa.text(
                "UPDATE procrastinate_jobs SET status = CAST(:status AS procrastinate_job_status) "
                "WHERE id = :id AND status <> CAST(:status AS procrastinate_job_status)"),
                {"status": status, "id": ids[name]})
            db.session.execute(sa.text(
                "UPDATE procrastinate_events SET at = now() - CAST(:age AS interval) "
                "WHERE job_id = :id"), {"age": age, "id": ids[name]})
        db.session.commit()

    on_open_queue(app, lambda queue: jobs.prune(queue, hours=7 * 24))

    with app.app_context():
        left = set(db.session.scalars(sa.text("SELECT task_name FROM procrastinate_jobs")))
    assert left == {"new_done", "old_failed", "waiting"}


def test_the_hourly_job_forgets_dead_sessions_and_expired_counters(app, ctx):
    from pawline.access_models import RateLimit, UserSession
    from pawline.models import User

    org = factories.org()
    user_id = db.session.scalar(sa.select(User.id).where(User.email == org.staff_email))
    now = utcnow()
    for n, seen in enumerate((now, now - timedelta(days=2))):
        db.session.add(UserSession(org_id=org.id, user_id=user_id, token_hash=f"{n}" * 64,
                                   created_at=seen, last_seen_at=seen))
    for key, ends in (("live", now + timedelta(minutes=5)), ("gone", now - timedelta(hours=1))):
        db.session.add(RateLimit(scope="sign-in", key=key, hits=1, window_ends_at=ends))
    db.session.commit()
    jobs.bind(app)

    jobs.forget_ended_sessions(timestamp=0)

    assert db.session.scalars(sa.select(UserSession.token_hash)).all() == ["0" * 64]
    assert db.session.scalars(sa.select(RateLimit.key)).all() == ["live"]
