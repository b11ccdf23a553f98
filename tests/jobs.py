"""Running queued jobs in tests, with the tasks' own code.

Committed data (concurrency and browser tests): `work_off` runs a real procrastinate worker on
the test database until no job is due. A rolled-back test's jobs live in its own transaction,
which no worker can see: `run_jobs_here` runs them on that connection, as a worker would.
"""

import asyncio
import threading

import sqlalchemy as sa

from pawline import jobs
from pawline.db import db


def work_off(app, concurrency: int = 2) -> None:
    """A real worker takes every due job, then stops."""
    in_thread(jobs.run_worker, app, concurrency, wait=False, install_signal_handlers=False)


def in_thread(function, *args, **kwargs):
    """Run `function` in a thread of its own and answer its result: asyncio.run needs a thread
    without an event loop, and Playwright's sync API leaves one running in the main thread."""
    outcome = {}

    def run():
        try:
            outcome["result"] = function(*args, **kwargs)
        except BaseException as error:  # noqa: BLE001 - raised again in the caller
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def run_jobs_here(app) -> list[str]:
    """Run each due job this test's transaction holds; answer the task names run."""
    jobs.bind(app)
    with app.app_context():
        due = db.session.execute(sa.text(
            "DELETE FROM procrastinate_jobs WHERE status = 'todo' "
            "AND (scheduled_at IS NULL OR scheduled_at <= now()) "
            "RETURNING id, task_name, args")).all()
        db.session.commit()
    for job in sorted(due):
        jobs.queue.tasks[job.task_name](**job.args)
    return [job.task_name for job in sorted(due)]


def on_open_queue(app, work):
    """Run `work(queue)`, a coroutine function, with the job queue opened on the app's database:
    what a periodic task does, run now."""

    async def run():
        async with jobs.queue.open_async():
            return await work(jobs.queue)

    with jobs.queue.replace_connector(jobs.connector_for(app, 2)):
        return in_thread(asyncio.run, run())
