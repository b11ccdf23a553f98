"""Background work: procrastinate tasks on the PostgreSQL the app already uses.

procrastinate over RQ, Dramatiq or Celery: they need a broker, so storing a message and queueing
its delivery would be two writes to two systems, one of which can be lost. Here a delivery job is
a row deferred on the request's own connection, inside its transaction (an outbox): the message
and its job commit together or not at all. Workers fetch jobs with SKIP LOCKED, heartbeat, and
are woken by NOTIFY (or poll, behind PgBouncer).

Tasks run in worker threads, each inside the Flask app's context (`bind`), so they use the same
domain functions as the web.
"""

import asyncio
import logging
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import procrastinate
import sqlalchemy as sa
from flask import url_for
from procrastinate.manager import JobManager
from procrastinate.tasks import configure_task
from procrastinate.worker import Worker

from pawline import delivery, media, media_fetch, numbers, rate_limits, sessions, threads
from pawline.clock import utcnow
from pawline.db import db, driver_connection
from pawline.providers import provider_from_config

log = logging.getLogger("pawline.jobs")
RESTART_PAUSE = 2  # seconds before a worker that stopped by itself starts again

queue = procrastinate.App(connector=procrastinate.PsycopgConnector())
_bound: dict = {}  # "app": the Flask app the tasks run in, "provider": its provider
# Deferring always runs on the caller's own connection, so it needs no pool of its own and is
# independent of a worker's connector, even one running in the same process.
_deferrer = JobManager(procrastinate.SyncPsycopgConnector())


def bind(flask_app) -> None:
    """Run tasks in this Flask app's context, with its configured provider."""
    _bound["app"] = flask_app
    _bound["provider"] = provider_from_config(flask_app.config)
    _bound["fetcher"] = media_fetch.fetcher_from_config(flask_app.config)
    _bound["media_link"] = media.link_maker(flask_app.config)


def _app():
    if "app" not in _bound:
        raise RuntimeError("pawline.jobs.bind(app) must run before a worker takes jobs")
    return _bound["app"]


# A database that was unreachable for the claim or the outcome: run the job again (a message it
# had claimed is then found `sending` and marked unconfirmed, never resent).
DATABASE_BLIP = procrastinate.RetryStrategy(
    max_attempts=10, wait=2, retry_exceptions={sa.exc.OperationalError, sa.exc.InterfaceError,
                                               sa.exc.InternalError})


@queue.task(name="deliver_message", queue="sms", retry=DATABASE_BLIP)
def deliver_message(message_id: int, status_callback: str | None = None) -> None:
    """Hand one queued message to the provider (pawline.delivery.attempt)."""
    with _app().app_context():
        delivery.attempt(message_id, _bound["provider"], status_callback,
                         media_link=_bound["media_link"])


def defer_delivery(message_id: int, status_callback: str | None = None,
                   at: datetime | None = None) -> None:
    """Queue a delivery job in the session's transaction: it commits with the message or not.

    A message's jobs share one lock, so procrastinate never runs two of them at once.
    """
    connection = driver_connection()
    with db.session.begin_nested():  # a failing defer must not abort the caller's transaction
        configure_task(
            name=deliver_message.name, job_manager=_deferrer, connection=connection,
            queue=deliver_message.queue, lock=f"message:{message_id}", schedule_at=at,
        ).defer(message_id=message_id, status_callback=status_callback)


@queue.task(name="fetch_attachment", queue="media", retry=DATABASE_BLIP)
def fetch_attachment(attachment_id: int) -> None:
    """Copy one inbound MMS file into our storage (pawline.media_fetch.fetch)."""
    with _app().app_context():
        media_fetch.fetch(attachment_id, _bound["fetcher"], defer_fetch)


def defer_fetch(attachment_id: int, at: datetime | None = None) -> None:
    """Queue a fetch job in the session's transaction: it commits with its attachment row."""
    connection = driver_connection()
    with db.session.begin_nested():
        configure_task(
            name=fetch_attachment.name, job_manager=_deferrer, connection=connection,
            queue=fetch_attachment.queue, lock=f"attachment:{attachment_id}", schedule_at=at,
        ).defer(attachment_id=attachment_id)


@queue.periodic(cron="* * * * *")
@queue.task(name="release_quarantines", queue="periodic", queueing_lock="release_quarantines")
def release_quarantines(timestamp: int) -> None:
    """Every minute: numbers whose quarantine has ended go back to the pool."""
    with _app().app_context():
        released = numbers.release_due_quarantines()
    if released:
        log.info("released %d quarantined numbers", released)


@queue.periodic(cron="* * * * *")
@queue.task(name="wake_snoozed", queue="periodic", queueing_lock="wake_snoozed")
def wake_snoozed(timestamp: int) -> None:
    """Every minute: threads whose snooze has ended reopen, in every organization."""
    with _app().app_context():
        threads.wake_snoozed(None)


@queue.periodic(cron="* * * * *")
@queue.task(name="send_scheduled_messages", queue="periodic",
            queueing_lock="send_scheduled_messages")
def send_scheduled_messages(timestamp: int) -> None:
    """Every minute: replies scheduled for now or earlier are sent, each once."""
    from pawline import scheduled  # it sends through pawline.outbound, which imports this module

    app = _app()
    with app.app_context():
        sent = scheduled.send_due(app.config["SMS_PROVIDER"],
                                  status_callback=_status_callback(app),
                                  photo_base_url=media.photo_base_url(app.config))
    if sent:
        log.info("sent %d scheduled messages", sent)


@queue.periodic(cron="* * * * *")
@queue.task(name="send_booking_messages", queue="periodic",
            queueing_lock="send_booking_messages")
def send_booking_messages(timestamp: int) -> None:
    """Every minute: booking confirmations and reminders now due are sent, each once."""
    from pawline import booking_messages

    app = _app()
    with app.app_context():
        sent = booking_messages.send_due(app.config["SMS_PROVIDER"],
                                         status_callback=_status_callback(app))
    if sent:
        log.info("sent %d booking messages", sent)


def _status_callback(app) -> str | None:
    """Where Twilio reports a message's status, when the app knows its public address."""
    base = app.config.get("PUBLIC_BASE_URL")
    if app.config["SMS_PROVIDER"] != "twilio" or not base:
        return None
    with app.test_request_context():
        return base.rstrip("/") + url_for("webhooks.twilio_status")


@queue.periodic(cron="41 * * * *")
@queue.task(name="forget_ended_sessions", queue="periodic",
            queueing_lock="forget_ended_sessions")
def forget_ended_sessions(timestamp: int) -> None:
    """Every hour: sessions that can never open a page again, and expired rate-limit counters."""
    with _app().app_context():
        now = utcnow()
        sessions.prune_sessions(now)
        rate_limits.prune_rate_limits(now)


@queue.periodic(cron="* * * * *")
@queue.task(name="recover_stalled_jobs", queue="periodic", pass_context=True,
            queueing_lock="recover_stalled_jobs")
async def recover_stalled_jobs(context, timestamp: int) -> None:
    """Every minute: jobs of workers that stopped heartbeating run again."""
    await recover_stalled(context.app, _app().config["JOB_STALLED_AFTER_SECONDS"])


async def recover_stalled(app: procrastinate.App, after_seconds: float) -> int:
    """Put back to `todo` the running jobs of workers silent for `after_seconds`."""
    stalled = list(await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=after_seconds))
    for job in stalled:
        log.warning("job %s (%s) stalled; running it again", job.id, job.task_name)
        await app.job_manager.retry_job(job)
    return len(stalled)


@queue.periodic(cron="17 * * * *")
@queue.task(name="prune_finished_jobs", queue="periodic", pass_context=True,
            queueing_lock="prune_finished_jobs")
async def prune_finished_jobs(context, timestamp: int) -> None:
    """Every hour: forget jobs that succeeded or were cancelled before the retention period."""
    await prune(context.app, _app().config["JOB_RETENTION_HOURS"])


async def prune(app: procrastinate.App, hours: int) -> None:
    """Delete jobs that succeeded or were cancelled over `hours` ago (failed ones stay)."""
    await app.job_manager.delete_old_jobs(nb_hours=hours, include_cancelled=True)


def connector_for(flask_app, pool_size: int) -> procrastinate.PsycopgConnector:
    """A worker's own connection pool to the app's database."""
    url = sa.make_url(flask_app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
    connect_args = {}
    if flask_app.config.get("DATABASE_BEHIND_PGBOUNCER"):
        connect_args["prepare_threshold"] = None  # transaction pooling: no prepared statements
    return procrastinate.PsycopgConnector(
        conninfo=url.render_as_string(hide_password=False), min_size=1, max_size=pool_size,
        kwargs=connect_args)


def run_worker(flask_app, concurrency: int = 2, wait: bool = True,
               install_signal_handlers: bool = True, name: str | None = None) -> None:
    """Take jobs until stopped by SIGINT/SIGTERM (or, with wait=False, until none is left).

    A worker that stops by itself (procrastinate stops one whose database connection for
    LISTEN died, as in a PostgreSQL restart) is started again after a pause: it carries on.
    """
    bind(flask_app)
    config = flask_app.config
    options = {
        "concurrency": concurrency, "wait": wait, "install_signal_handlers": False,
        # LISTEN does not survive a PgBouncer in transaction mode: poll instead.
        "listen_notify": not config.get("DATABASE_BEHIND_PGBOUNCER"),
        "fetch_job_polling_interval": config["JOB_POLL_SECONDS"],
        "update_heartbeat_interval": config["JOB_HEARTBEAT_SECONDS"],
        "stalled_worker_timeout": config["JOB_STALLED_AFTER_SECONDS"],
        "name": name or "worker",
    }

    async def main():
        # procrastinate runs a sync task in the loop's default executor, which has cpu + 4
        # threads: without this, --concurrency above that would wait for a thread.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(concurrency, thread_name_prefix="pawline-job"))
        stopping = asyncio.Event()
        current: list[Worker] = []

        def stop():
            stopping.set()
            for worker in current:
                worker.stop()

        if install_signal_handlers:
            for sig in (signal.SIGINT, signal.SIGTERM):
                asyncio.get_running_loop().add_signal_handler(sig, stop)
        while True:
            current[:] = [Worker(app=queue, **options)]
            try:
                async with queue.open_async():
                    await current[0].run()
            except Exception:  # noqa: BLE001 - the database is away: wait, then reconnect
                log.exception("worker stopped on an error")
            if stopping.is_set() or not wait:
                return
            log.warning("worker restarting in %s s", RESTART_PAUSE)
            await asyncio.sleep(RESTART_PAUSE)

    with queue.replace_connector(connector_for(flask_app, concurrency + 2)):
        asyncio.run(main())


def start_in_process(flask_app, concurrency: int = 2) -> threading.Thread:
    """A worker thread inside a web process: the demo sends with one command."""
    thread = threading.Thread(
        target=run_worker, args=(flask_app, concurrency),
        kwargs={"install_signal_handlers": False, "name": "in-process"},
        name="pawline-worker", daemon=True)
    thread.start()
    log.info("in-process worker started (concurrency %d)", concurrency)
    return thread
