"""Prometheus metrics: the web tier's requests, and the job queue's figures read at scrape time.

Under gunicorn each worker is a process of its own, and a scrape reaches one of them. So, as
prometheus-client documents for gunicorn, its multiprocess mode: with PROMETHEUS_MULTIPROC_DIR
set before prometheus_client is first imported (gunicorn.conf.py does it in the master), every
worker writes its counts to files there and a scrape adds up all of them. Without it (`flask run`,
one process) the counts live in memory and the process's own figures are shown too.

The queue's figures are not counted by any process: they are read from PostgreSQL when scraped
(pawline.queue_health, one statement), so it does not matter which worker answers.
"""

import os
from collections.abc import Callable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from pawline.queue_health import QueueHealth

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds: pages and webhooks take milliseconds; a slow database shows in the upper buckets.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# Not registered anywhere at import: each scrape builds its registry (see `exposition`).
REQUESTS = Counter("pawline_http_requests", "HTTP requests answered, by endpoint and status.",
                   ["endpoint", "method", "status"], registry=None)
LATENCY = Histogram("pawline_http_request_duration_seconds",
                    "Time from the request's first hook to its response, by endpoint.",
                    ["endpoint", "method"], buckets=BUCKETS, registry=None)
_PROCESS = ProcessCollector(registry=None)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def observe_request(endpoint: str | None, method: str, status: int, seconds: float) -> None:
    """Count one answered request. The endpoint (a Flask endpoint name, never the path) keeps
    the labels few whatever is requested: an unknown path counts as `unmatched`."""
    endpoint = endpoint or "unmatched"
    method = method if method in METHODS else "other"
    REQUESTS.labels(endpoint, method, str(status)).inc()
    LATENCY.labels(endpoint, method).observe(seconds)


class QueueCollector:
    """The job queue's figures, read when scraped; `pawline_queue_up` 0 when they could not be
    (the database is away), so an alert can tell "no jobs" from "no answer"."""

    def __init__(self, read: Callable[[], QueueHealth]):
        self._read = read

    def describe(self):
        return []  # names are not checked against other collectors: each scrape is new

    def collect(self):
        up = GaugeMetricFamily("pawline_queue_up",
                               "1 when the queue's figures were read at this scrape, else 0.")
        try:
            health = self._read()
        except Exception:  # noqa: BLE001 - any failure to read is "down", never a failed scrape
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        figures = {
            "waiting": ("Jobs due now and not yet taken by a worker.", health.waiting),
            "scheduled": ("Jobs due later: retries after a backoff, scheduled sends.",
                          health.scheduled),
            "running": ("Jobs a worker is running.", health.running),
            "stalled": ("Running jobs whose worker stopped heartbeating.", health.stalled),
            "failed": ("Jobs that failed after their last retry: a person should look.",
                       health.failed),
            "workers": ("Workers heartbeating.", health.workers),
        }
        for name, (text, value) in figures.items():
            yield GaugeMetricFamily(f"pawline_queue_{name}_jobs" if name != "workers"
                                    else "pawline_queue_workers", text, value=value)
        oldest = health.oldest_wait.total_seconds() if health.oldest_wait is not None else 0.0
        yield GaugeMetricFamily("pawline_queue_oldest_wait_seconds",
                                "How long the longest-waiting due job has waited (0: none).",
                                value=oldest)


def exposition(read_queue: Callable[[], QueueHealth]) -> bytes:
    """The text a scrape gets: the web tier's counts (every worker's, in multiprocess mode)
    and the queue's figures read now."""
    registry = CollectorRegistry()
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(registry)
    else:
        for collector in (REQUESTS, LATENCY, _PROCESS):
            registry.register(collector)
    registry.register(QueueCollector(read_queue))
    return generate_latest(registry)
