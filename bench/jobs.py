"""The job-queue benchmarks of the background-work issue, and their rows of the table.

1. mixed load: inbound webhooks alone and while staff send (bench/mixed_load.py);
2. delivery throughput, 3. queue latency at idle, 4. recovery after a provider outage
   (bench/job_queue.py), the last three in one migrated database of their own.
"""

import os

from bench import job_queue, mixed_load, servers

FULL = {
    "mixed": {"messages": 10_000, "phones": 2_000, "retries": 1_000, "concurrency": 32,
              "rounds": 3},
    "throughput": {"messages": 2_000, "workers": 2, "concurrency": 6},
    "latency": {"messages": 200, "gap": 0.1, "concurrency": 4},
    "recovery": {"outage_s": 120, "messages": 120, "workers": 2, "concurrency": 4,
                 "poll_s": 5},
}
TINY = {
    "mixed": {"messages": 300, "phones": 60, "retries": 30, "concurrency": 8, "rounds": 1,
              "warm_up": 60},
    "throughput": {"messages": 200, "workers": 2, "concurrency": 6},
    "latency": {"messages": 30, "gap": 0.1, "concurrency": 4},
    "recovery": {"outage_s": 2, "messages": 10, "workers": 2, "concurrency": 4, "poll_s": 1},
}


def run(server_url: str, settings: dict | None = None) -> dict:
    settings = settings or FULL
    result = {"settings": settings,
              "mixed": mixed_load.run(server_url, **settings["mixed"])}
    name = f"bench_jobs_{os.getpid()}"
    db_url = servers.create_database(server_url, name)
    try:
        servers.migrate(db_url)
        result["throughput"] = job_queue.throughput(db_url, **settings["throughput"])
        result["latency"] = job_queue.latency(db_url, **settings["latency"])
        result["recovery"] = job_queue.recovery(db_url, **settings["recovery"])
    finally:
        servers.drop_database(server_url, name)
    checks = [result[k]["checks"] for k in ("throughput", "latency", "recovery")]
    mixed = result["mixed"]
    result["exact"] = (all(c["exact"] for c in checks) and mixed["sends_exact"]
                       and mixed["inbound_exact"] and set(mixed["worker_exits"]) == {0})
    return result


def _each(rates: list[float]) -> str:
    return ", ".join(f"{rate:.0f}" for rate in rates)


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def rows(result: dict) -> list[tuple]:
    mixed, alone, loaded = result["mixed"], result["mixed"]["alone"], result["mixed"]["mixed"]
    work, sends = mixed["settings"], mixed["sends"]
    sent = sum(s["queued"] for s in sends)
    with_sid = sum(s["with_sid"] for s in sends)
    hung = sum(s["unconfirmed"] for s in sends)
    rate = work["staff"] / work["every"]
    put, lat, rec = result["throughput"], result["latency"], result["recovery"]
    return [
        ("Jobs, mixed: inbound p99 alone / with sends",
         f"{alone['p99']:.0f} / {loaded['p99']:.0f} ms",
         f"target < 250 ms with sends: {_met(loaded['p99'] < 250)}; "
         f"p50 {alone['p50']:.0f} / {loaded['p50']:.0f} ms"),
        ("Jobs, mixed: app / ceiling alone / with sends",
         f"{alone['ratio']:.2f} / {loaded['ratio']:.2f}",
         f"target >= 0.4 with sends: {_met(loaded['ratio'] >= 0.4)}; inbound "
         f"{alone['rate']:.0f} / {loaded['rate']:.0f} msg/s, ceiling "
         f"{mixed['ceiling_rate']:.0f} msg/s (medians; by round, in the order run: alone "
         f"{_each(alone['rates'])}, ceiling {_each(mixed['ceiling_rates'])}, with sends "
         f"{_each(loaded['rates'])})"),
        ("Jobs, mixed: staff sends during the load",
         f"{sent} sent via the web",
         f"{work['staff']} staff at {rate:g}/s in all, HTTP {mixed['send_statuses']}, "
         f"p50 / p99 {mixed['send_p50']:.0f} / {mixed['send_p99']:.0f} ms; {with_sid} with the "
         f"provider once, {hung} unconfirmed (hung to the {mixed_load.READ_TIMEOUT_S} s read "
         f"timeout); all settled {mixed['drain_s']:.1f} s after the load; "
         f"{work['workers']} workers x concurrency {work['concurrency']}"),
        ("Jobs, mixed: inbound rows exact, sends exact",
         "yes" if mixed["inbound_exact"] and mixed["sends_exact"] else "NO",
         "every round: ingestion counts and doctor; each send once at the provider"),
        ("Jobs: delivery throughput", f"{put['rate']:.0f} msg/s",
         f"target >= 200: {_met(put['rate'] >= 200)}; {put['messages']:,} queued, "
         f"{put['workers']} workers x concurrency {put['concurrency']}, instant provider, "
         f"timed from worker spawn ({put['seconds']:.1f} s, start-up {put['start_up_s']:.1f} "
         f"s); {put['steady_rate']:.0f} msg/s first to last call; CPU a message: workers "
         f"{put['worker_cpu_ms']:.1f} ms" + (f", PostgreSQL {put['server_cpu_ms']:.1f} ms"
                                             if put["server_cpu_ms"] is not None else "")),
        ("Jobs: queue latency p50 / p95 / p99",
         f"{lat['p50']:.0f} / {lat['p95']:.0f} / {lat['p99']:.0f} ms",
         f"target p99 < 1 s: {_met(lat['p99'] < 1000)}; {lat['messages']} queued one at a "
         f"time ~{lat['gap_s']:g} s apart, 1 worker, LISTEN/NOTIFY; max {lat['max']:.0f} ms"),
        (f"Jobs: recovery after a {rec['outage_s']:g} s outage (503)",
         f"{rec['recovery_s']:.1f} s",
         f"outage end to the last message with the provider; half within "
         f"{rec['p50_after_s']:.1f} s; {rec['messages']} queued during it, "
         f"{rec['calls_per_message']:.1f} calls a message; backoff 5 s doubling, jitter, "
         f"poll {rec['poll_s']:g} s"),
        ("Jobs: each message with the provider once",
         "yes" if result["exact"] else "NO",
         "; ".join(f"{k} {result[k]['checks']['with_sid']}/{result[k]['checks']['queued']}"
                   for k in ("throughput", "latency", "recovery"))
         + " with a provider id, unique, each body accepted once"),
    ]
