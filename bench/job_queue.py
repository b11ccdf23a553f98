"""The job queue alone: delivery throughput, queue latency at idle, recovery after an outage.

Each benchmark gets an organization of its own in one migrated database, its own fake Twilio and
its own worker processes, with the app's defaults (LISTEN/NOTIFY on, JOB_POLL_SECONDS 5) unless
said otherwise. Every message is checked to have reached the provider exactly once.
"""

import random
import statistics
import time

from bench.fake_twilio import accept, server_error
from bench.job_world import (
    Queuer,
    Workers,
    analyze_job_tables,
    outcome,
    seed_senders,
    server_cpu_seconds,
    start_fake,
    wait_until_settled,
    worker_env,
)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def _warm(queuer: Queuer, fake, count: int = 3) -> None:
    """Untimed messages through the whole path: the workers are up and listening after this."""
    before = len(fake.messages)
    for n in range(count):
        queuer.send(n, f"{queuer.senders.slug} warm-up {n}")
    deadline = time.monotonic() + 60
    while len(fake.messages) < before + count:
        if time.monotonic() > deadline:
            raise TimeoutError("the workers did not deliver the warm-up messages")
        time.sleep(0.02)


def throughput(db_url: str, messages: int, workers: int = 2, concurrency: int = 6) -> dict:
    """Queue `messages` (committed), then start the workers; time until all have a provider id.

    The clock starts when the worker processes are spawned, so it includes their start-up.
    """
    senders = seed_senders(db_url, "throughput", min(messages, 200), "+14157770001")
    queuer, fake = Queuer(senders), start_fake()  # answers at once
    bodies = [f"Throughput {n}" for n in range(messages)]
    try:
        for n, body in enumerate(bodies):
            queuer.send(n, body)
        analyze_job_tables(db_url)
        pool = Workers(worker_env(db_url, fake.base_url), workers, concurrency)
        try:
            while not fake.calls:  # started up: the CPU from here on is the messages'
                time.sleep(0.005)
            cpu_before, calls_before = pool.cpu_seconds(), len(fake.calls)
            server_before = server_cpu_seconds(db_url)
            done = wait_until_settled(db_url, senders.org_id, timeout=600)
            elapsed = done - pool.started
            cpu = (pool.cpu_seconds() - cpu_before) / (messages - calls_before)
            server = server_cpu_seconds(db_url)
            if server is not None and server_before is not None:  # the bench's polls included
                server = (server - server_before) / (messages - calls_before)
        finally:
            pool.close()
        calls = [c.received_at for c in fake.calls]
        checks = outcome(db_url, senders.org_id, fake, bodies)
    finally:
        fake.stop()
        queuer.close()
    steady = (max(calls) - min(calls)) if len(calls) > 1 else 0.0
    return {"messages": messages, "workers": workers, "concurrency": concurrency,
            "seconds": elapsed, "rate": messages / elapsed,
            "steady_rate": (len(calls) - 1) / steady if steady else 0.0,
            "start_up_s": elapsed - steady, "worker_cpu_ms": cpu * 1000,
            "server_cpu_ms": None if server is None else server * 1000,
            "checks": checks}


def latency(db_url: str, messages: int, gap: float = 0.1, concurrency: int = 4) -> dict:
    """One worker at idle: each message queued alone, `gap` seconds apart on average; the time
    from its commit to the fake Twilio reading its request."""
    senders = seed_senders(db_url, "latency", 50, "+14157770002")
    queuer, fake = Queuer(senders), start_fake()
    pool = Workers(worker_env(db_url, fake.base_url), 1, concurrency)
    rng = random.Random(3)
    committed: dict[str, float] = {}
    try:
        _warm(queuer, fake)
        for n in range(messages):
            body = f"Latency {n}"
            committed[body] = queuer.send(n, body)
            time.sleep(gap * rng.uniform(0.5, 1.5))
        wait_until_settled(db_url, senders.org_id, timeout=120)
        received = {c.form.get("Body"): c.received_at for c in reversed(fake.calls)}
        waits = [(received[body] - at) * 1000 for body, at in committed.items()]
        warm = [f"latency warm-up {n}" for n in range(3)]
        checks = outcome(db_url, senders.org_id, fake, warm + list(committed))
    finally:
        pool.close()
        fake.stop()
        queuer.close()
    return {"messages": messages, "gap_s": gap, "concurrency": concurrency,
            "p50": statistics.median(waits), "p95": percentile(waits, 95),
            "p99": percentile(waits, 99), "max": max(waits), "checks": checks}


def recovery(db_url: str, outage_s: float, messages: int, workers: int = 2,
             concurrency: int = 4, poll_s: float = 5) -> dict:
    """The fake answers 503 for `outage_s` while `messages` are queued evenly over it; then it
    accepts. The time from the outage's end until every message is with the provider.

    A retry is a job scheduled for later: no NOTIFY wakes a worker when it falls due, so the
    workers' polling interval (JOB_POLL_SECONDS, 5 s by default) adds to each backoff.
    """
    senders = seed_senders(db_url, "recovery", 50, "+14157770003")
    queuer, fake = Queuer(senders), start_fake()
    pool = Workers(worker_env(db_url, fake.base_url, JOB_POLL_SECONDS=poll_s), workers,
                   concurrency)
    bodies = [f"Recovery {n}" for n in range(messages)]
    try:
        _warm(queuer, fake)
        fake.always(server_error(503))
        began = time.perf_counter()
        for n, body in enumerate(bodies):
            _sleep_until(began + n * outage_s / messages)
            queuer.send(n, body)
        _sleep_until(began + outage_s)
        fake.always(accept())
        ended, ended_wall = time.perf_counter(), time.time()
        done = wait_until_settled(db_url, senders.org_id, timeout=outage_s * 2 + 300)
        accepted = {m.body: m for m in fake.messages}
        first_ok = {}
        for call in fake.calls:
            body = call.form.get("Body")
            if body in accepted and body not in first_ok and call.answer.action == "accept":
                first_ok[body] = call.received_at - ended_wall
        checks = outcome(db_url, senders.org_id, fake,
                         [f"recovery warm-up {n}" for n in range(3)] + bodies)
    finally:
        pool.close()
        fake.stop()
        queuer.close()
    after = [first_ok[b] for b in bodies]
    tries = checks["provider_calls"] - 3  # the warm-up's calls each succeeded at once
    return {"outage_s": outage_s, "messages": messages, "workers": workers,
            "concurrency": concurrency, "poll_s": poll_s, "recovery_s": done - ended,
            "p50_after_s": statistics.median(after), "last_after_s": max(after),
            "calls_per_message": tries / messages, "checks": checks}


def _sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.perf_counter()))
