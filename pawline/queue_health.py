"""The job queue's health, for `doctor`: what waits, how long, and what is stuck or failed."""

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

HEALTH = sa.text("""
    WITH due AS (
        SELECT j.id, greatest(j.scheduled_at, d.at) AS since
        FROM procrastinate_jobs j
        LEFT JOIN procrastinate_events d ON d.job_id = j.id AND d.type = 'deferred'
        WHERE j.status = 'todo' AND (j.scheduled_at IS NULL OR j.scheduled_at <= now())
    ), alive AS (
        SELECT id FROM procrastinate_workers
        WHERE last_heartbeat >= now() - make_interval(secs => :stalled_after)
    )
    SELECT
        (SELECT count(DISTINCT id) FROM due) AS waiting,
        (SELECT now() - min(since) FROM due) AS oldest_wait,
        (SELECT count(*) FROM procrastinate_jobs
         WHERE status = 'todo' AND scheduled_at > now()) AS scheduled,
        (SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing') AS running,
        (SELECT count(*) FROM procrastinate_jobs
         WHERE status = 'doing' AND (worker_id IS NULL OR worker_id NOT IN (SELECT id FROM alive)))
            AS stalled,
        (SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed') AS failed,
        (SELECT count(*) FROM alive) AS workers
""")


@dataclass(frozen=True)
class QueueHealth:
    waiting: int  # due now, not yet taken
    oldest_wait: timedelta | None  # how long the longest-waiting due job has waited
    scheduled: int  # due later (retries after a backoff, scheduled sends)
    running: int
    stalled: int  # running on a worker that stopped heartbeating: recovery will rerun them
    failed: int  # a task raised until its retries ran out: a person should look
    workers: int  # workers that heartbeat

    @property
    def warnings(self) -> list[str]:
        found = []
        if self.workers == 0 and (self.waiting or self.scheduled):
            found.append("no worker is running: start `flask --app app worker`")
        if self.stalled:
            found.append(f"{self.stalled} stalled jobs (their worker stopped heartbeating)")
        if self.failed:
            found.append(f"{self.failed} failed jobs")
        return found


def queue_health(connection, stalled_after_seconds: float) -> QueueHealth:
    """Read the queue's figures in one statement."""
    row = connection.execute(HEALTH, {"stalled_after": stalled_after_seconds}).one()
    return QueueHealth(**row._asdict())


def describe(health: QueueHealth) -> list[str]:
    """The figures as lines for a person."""
    oldest = (f", the oldest for {health.oldest_wait.total_seconds():.0f} s"
              if health.oldest_wait is not None else "")
    return [
        f"jobs waiting: {health.waiting}{oldest}",
        f"jobs scheduled for later: {health.scheduled}; running: {health.running}",
        f"stalled: {health.stalled}; failed: {health.failed}; workers alive: {health.workers}",
    ]
