"""gunicorn reads ./gunicorn.conf.py in its master before it starts a worker: Paw-line's settings
are checked here once, so a bad one stops gunicorn with one line, where each worker would print
it (and gunicorn can trip over several workers failing at once).

With METRICS_TOKEN set, /metrics must add up every worker's counts: prometheus-client's
multiprocess mode, whose folder must be known before prometheus_client is first imported (by
`app`, below) and start empty. Unless PROMETHEUS_MULTIPROC_DIR names one, the master makes one
for this run and removes it when gunicorn stops.
"""

import os
import shutil
import tempfile
from pathlib import Path

MADE = "PAWLINE_MADE_METRICS_DIR"  # the folder this file made (a HUP reload reads it again)


def _metrics_folder() -> None:
    if not os.environ.get("METRICS_TOKEN", "").strip():
        return
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    if not folder:
        folder = tempfile.mkdtemp(prefix="pawline-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.environ[MADE] = folder
    elif Path(folder).is_dir():  # a missing one is refused by check_settings below
        for stale in Path(folder).glob("*.db"):  # an earlier run's counts are not this one's
            stale.unlink()


_metrics_folder()

from app import check_settings  # noqa: E402 - after the metrics folder is in the environment

check_settings()


def child_exit(server, worker):
    """A worker that ended: its live gauges go (prometheus-client's advice for gunicorn)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if os.environ.get(MADE):
        shutil.rmtree(os.environ[MADE], ignore_errors=True)
