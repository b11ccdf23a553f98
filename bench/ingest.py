"""Inbound ingestion under concurrency: the app under gunicorn, its ceiling, the seeds' way.

Every figure that compares two things measures both in the same run, alternating, because the
machine is shared and absolute times drift.
"""

import os
import random
import resource
import socket
import statistics
import threading
import time
import urllib.parse
from dataclasses import dataclass

from twilio.request_validator import RequestValidator

from bench.ingest_ceiling import ceiling, in_parallel, seeds_way
from bench.servers import (
    PATH,
    POOL,
    TOKEN,
    WARM_UP_POOL,
    Gunicorn,
    counts,
    create_database,
    drop_database,
    prepare_app_database,
)


@dataclass(frozen=True)
class Plan:
    """The messages to post: phones (most new), bursts from a few, then retried sids."""

    existing: list[str]
    requests: list[dict]  # Twilio form fields, in posting order
    messages: int
    phones: int
    retries: int


def make_plan(messages: int, phones: int, retries: int, seed: int = 7) -> Plan:
    rng = random.Random(seed)
    numbers = [f"+1628{5550000 + n:07d}" for n in range(phones)]
    # Every phone sends once; the rest follow a long tail, so a few phones send many at once.
    senders = list(numbers) + rng.choices(
        numbers, weights=[1 / (rank + 1) for rank in range(phones)], k=messages - phones)
    rng.shuffle(senders)
    forms = [{"MessageSid": f"SM{i:032x}", "AccountSid": "AC" + "0" * 32, "From": phone,
              "To": POOL, "Body": f"Message {i} from {phone}", "NumMedia": "0"}
             for i, phone in enumerate(senders)]
    repeated = [dict(f) for f in rng.sample(forms, retries)]
    half = len(forms) // 2  # retries arrive among the second half, some racing their original
    tail = forms[half:] + repeated
    rng.shuffle(tail)
    existing = rng.sample(numbers, phones // 10)
    return Plan(existing, forms[:half] + tail, messages, phones, retries)


# ---- databases --------------------------------------------------------------------------------


@dataclass
class LoadResult:
    wall_s: float
    latencies_ms: list[float]
    statuses: dict
    generator_cpu_s: float
    rss_samples: list[list[int]]

    def rate(self) -> float:
        return len(self.latencies_ms) / self.wall_s

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def warm_up(port: int, concurrency: int, count: int = 300) -> None:
    """Each worker's first requests load phone metadata and compile SQL: do them untimed."""
    forms = [{"MessageSid": f"SMwarm{i:028x}", "AccountSid": "AC" + "0" * 32,
              "From": f"+1628{5900000 + i:07d}", "To": WARM_UP_POOL, "Body": "warm-up",
              "NumMedia": "0"} for i in range(count)]
    post_all(port, forms, concurrency)


def post_all(port: int, forms: list[dict], concurrency: int, sample_rss=None,
             sample_every: int = 0) -> LoadResult:
    """Post signed webhooks from `concurrency` threads, a new connection a request; time each.

    The requests are written out in full beforehand and sent as bytes on a plain socket: the
    generator shares the machine's cores with the app and the database, and http.client's
    request building and header parsing cost it 0.4 ms of CPU a request (Dec 6), counted
    against the app. The answer is read to the server's close; its status line is parsed.
    """
    url = f"http://127.0.0.1:{port}{PATH}"
    validator = RequestValidator(TOKEN)
    requests = [_request(port, urllib.parse.urlencode(f), validator.compute_signature(url, f))
                for f in forms]
    latencies: list[float] = []
    statuses: dict = {}
    samples: list[list[int]] = []
    lock = threading.Lock()
    cursor = iter(range(len(requests)))
    done = [0]

    def worker():
        while True:
            with lock:
                i = next(cursor, None)
            if i is None:
                break
            started = time.perf_counter()
            # A connection a request, as webhooks arrive from many senders: a kept-alive
            # connection would pin this client to one gunicorn worker.
            status = _send(port, requests[i])
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1
                done[0] += 1
                if sample_rss and sample_every and done[0] % sample_every == 0:
                    samples.append(sample_rss())

    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    wall = in_parallel(worker, concurrency)
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return LoadResult(wall, latencies, statuses, cpu, samples)


def _request(port: int, body: str, signature: str) -> bytes:
    """A webhook POST as Twilio sends it, with `Connection: close`."""
    data = body.encode()
    return (f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"X-Twilio-Signature: {signature}\r\nContent-Length: {len(data)}\r\n"
            "Connection: close\r\n\r\n").encode() + data


def _send(port: int, request: bytes) -> int:
    """Send one request on a new connection, read the answer to the close; its HTTP status."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    if not answer.startswith(b"HTTP/1."):
        raise ConnectionError(f"not an HTTP answer: {answer[:80]!r}")
    return int(answer[9:12])


# ---- the whole ingestion benchmark ----------------------------------------------------------

def run(server_url: str, messages: int = 10_000, phones: int = 2_000, retries: int = 1_000,
        concurrency: int = 32, rounds: int = 2, workers: int = 3, threads: int = 1,
        memory_requests: int = 20_000) -> dict:
    """Ingestion, ceiling and the seeds' way, alternating over `rounds`; then worker memory."""
    plan = make_plan(messages, phones, retries)
    app_runs, ceiling_rates, checks = [], [], []
    for n in range(rounds):
        name = f"bench_ingest_{os.getpid()}_{n}"
        db_url = create_database(server_url, name)
        prepare_app_database(db_url, plan.existing)
        server = Gunicorn(db_url, workers, threads)
        try:
            warm_up(server.port, concurrency)
            app_runs.append(post_all(server.port, plan.requests, concurrency))
        finally:
            server.stop()
        checks.append(counts(db_url))
        drop_database(server_url, name)

        name = f"bench_ceiling_{os.getpid()}_{n}"
        db_url = create_database(server_url, name)
        prepare_app_database(db_url, plan.existing)
        ceiling_rates.append(ceiling(db_url, plan.requests, concurrency))
        if n == 0:
            seeds = seeds_way(db_url, plan.requests, concurrency)
        drop_database(server_url, name)

    memory = worker_memory(server_url, memory_requests, concurrency, workers, threads)
    best = max(app_runs, key=LoadResult.rate)
    app_rate = statistics.median(r.rate() for r in app_runs)
    ceiling_rate = statistics.median(ceiling_rates)
    expected = {"client_contact": phones, "client": phones, "thread": phones,
                "message": messages, "distinct_sids": messages, "unread_total": messages}
    return {
        "plan": plan, "app_rates": [r.rate() for r in app_runs], "app_rate": app_rate,
        "ceiling_rates": ceiling_rates, "ceiling_rate": ceiling_rate,
        "ratio": app_rate / ceiling_rate,
        "p50": statistics.median(r.percentile(50) for r in app_runs),
        "p95": statistics.median(r.percentile(95) for r in app_runs),
        "p99": statistics.median(r.percentile(99) for r in app_runs),
        "statuses": best.statuses,
        "generator_cpu_share": statistics.median(r.generator_cpu_s / r.wall_s
                                                 for r in app_runs),
        "checks": checks, "expected": expected,
        "exact": all({k: c[k] for k in expected} == expected and c["doctor_ok"]
                     for c in checks),
        "seeds_way": seeds, "memory": memory,
    }


def worker_memory(server_url: str, requests: int, concurrency: int, workers: int,
                  threads: int) -> dict:
    """Worker RSS sampled every tenth of `requests` new messages through one gunicorn."""
    plan = make_plan(requests, max(requests // 5, 1), 0, seed=11)
    name = f"bench_memory_{os.getpid()}"
    db_url = create_database(server_url, name)
    prepare_app_database(db_url, plan.existing)
    server = Gunicorn(db_url, workers, threads)
    try:
        result = post_all(server.port, plan.requests, concurrency,
                          sample_rss=server.worker_rss_kib,
                          sample_every=max(requests // 10, 1))
    finally:
        server.stop()
    drop_database(server_url, name)
    totals = [sum(s) for s in result.rss_samples]
    peaks = [max(s) for s in result.rss_samples if s]
    return {
        "requests": requests, "samples_kib": totals,
        "peak_worker_kib": max(peaks) if peaks else 0,
        "first_kib": totals[0] if totals else 0, "last_kib": totals[-1] if totals else 0,
        "growth_after_warmup": (totals[-1] - totals[1]) / totals[1] if len(totals) > 2 else 0.0,
    }
