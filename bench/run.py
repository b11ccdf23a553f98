"""Run every benchmark and print one table: python -m bench.run [--server URL] [--tiny]
[--only ingest|inbox|jobs ...]  (--only may be given more than once).

With no --server, an embedded PostgreSQL is started in a temporary folder. Each benchmark works
in databases of its own on that server and drops them afterwards.
"""

import argparse
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

BENCHMARKS = ["ingest", "inbox", "jobs"]
TINY = {"messages": 300, "phones": 60, "retries": 30, "concurrency": 8, "rounds": 1,
        "memory_requests": 200}


def embedded_server(folder: Path) -> str:
    from pawline.embedded import embedded_database_url

    return embedded_database_url(folder).replace("postgresql+psycopg://", "postgresql://", 1)


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = Path("/proc/meminfo").read_text().split()[1]
    return (f"{os.cpu_count()} cores ({cpu}), {int(memory) // 1024 // 1024} GiB, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}")


def load_average() -> str:
    return " / ".join(Path("/proc/loadavg").read_text().split()[:3]) + " (1 / 5 / 15 min)"


def server_version(server_url: str) -> str:
    import psycopg

    with psycopg.connect(server_url) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def ingestion_rows(result: dict) -> list[tuple]:
    seeds, memory = result["seeds_way"], result["memory"]
    checks = result["checks"][0]
    return [
        ("Ingestion: app under gunicorn", f"{result['app_rate']:.0f} msg/s",
         " / ".join(f"{r:.0f}" for r in result["app_rates"]) + " per round"),
        ("Ingestion: ceiling (same SQL via psycopg)", f"{result['ceiling_rate']:.0f} msg/s",
         " / ".join(f"{r:.0f}" for r in result["ceiling_rates"]) + " per round"),
        ("Ingestion: app / ceiling", f"{result['ratio']:.2f}", "target >= 0.33"),
        ("Ingestion latency p50 / p95 / p99",
         f"{result['p50']:.0f} / {result['p95']:.0f} / {result['p99']:.0f} ms",
         "target p99 < 250 ms"),
        ("Ingestion: HTTP statuses", str(result["statuses"]), "200 for all, retries included"),
        ("Ingestion: rows after the run",
         ", ".join(f"{k}={checks[k]}" for k in result["expected"]),
         "expected " + ", ".join(f"{k}={v}" for k, v in result["expected"].items())),
        ("Ingestion: exact, nothing lost or doubled", "yes" if result["exact"] else "NO",
         f"every round; doctor {checks['doctor']}"),
        ("Load generator CPU / wall", f"{result['generator_cpu_share']:.2f} of one core",
         "well under 1.0: not the bottleneck"),
        ("Seeds' way (look, then create)", f"{seeds['rate']:.0f} msg/s",
         f"{seeds['duplicate_clients']} duplicate clients, {seeds['duplicate_threads']} "
         f"duplicate threads, {seeds['duplicate_messages']} duplicate messages, "
         f"{seeds['phones_split']} phones split over several clients"),
        ("Worker memory over the run", f"{memory['first_kib'] // 1024} -> "
         f"{memory['last_kib'] // 1024} MiB (all workers)",
         f"{memory['requests']} requests, peak worker {memory['peak_worker_kib'] // 1024} MiB, "
         f"growth after warm-up {memory['growth_after_warmup']:+.1%}"),
    ]


def inbox_rows(scale: dict) -> list[tuple]:
    small, large = scale["sizes"]["small"], scale["sizes"]["large"]
    rows = [("Inbox: the two organizations",
             f"{small['threads']:,} / {large['threads']:,} threads",
             f"{small['messages']:,} / {large['messages']:,} messages, built in "
             f"{small['build_s']:.0f} s / {large['build_s']:.0f} s")]
    return rows + [(f"Inbox: {r['benchmark']}",
                    f"{r['small_ms']:.1f} / {r['large_ms']:.1f} ms (x{r['ratio']:.2f})",
                    f"{r['target']}: {'met' if r['ok'] else 'MISSED'}; {r['plan']}")
                   for r in scale["rows"]]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server", help="PostgreSQL server URL (default: embedded)")
    parser.add_argument("--tiny", action="store_true", help="a few hundred rows: CI's check")
    parser.add_argument("--only", choices=BENCHMARKS, action="append",
                        help="run this benchmark (repeat for several); default all")
    args = parser.parse_args(argv)
    chosen = set(args.only or BENCHMARKS)

    from bench import ingest

    with tempfile.TemporaryDirectory() as folder:
        server = args.server or embedded_server(Path(folder) / "pgdata")
        print(f"Machine: {machine()}")
        kind = "a server" if args.server else "embedded"
        print(f"PostgreSQL {server_version(server)} ({kind})")
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, cwd=Path(__file__).parent).stdout.strip()
        print(f"Commit: {commit}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
        print(f"Load average at the start: {load_average()} (the machine is shared)\n")
        rows: list[tuple] = []
        results: dict = {}
        if "ingest" in chosen:
            result = results["ingest"] = ingest.run(server, **(TINY if args.tiny else {}))
            rows += ingestion_rows(result)
        if "inbox" in chosen:
            from bench import inbox_scale

            scale = inbox_scale.run(server, inbox_scale.TINY if args.tiny else None)
            results["inbox"] = scale
            rows += inbox_rows(scale)
        if "jobs" in chosen:
            from bench import jobs

            results["jobs"] = jobs.run(server, jobs.TINY if args.tiny else jobs.FULL)
            rows += jobs.rows(results["jobs"])
        width = max(len(r[0]) for r in rows)
        print(f"| {'benchmark':<{width}} | result | notes |")
        print(f"|{'-' * (width + 2)}|--------|-------|")
        for name, value, note in rows:
            print(f"| {name:<{width}} | {value} | {note} |")
        print(f"\nLoad average at the end: {load_average()}")
        if "ingest" in chosen and not result["exact"]:
            raise SystemExit("Ingestion lost or duplicated rows.")
        if "jobs" in chosen and not results["jobs"]["exact"]:
            raise SystemExit("The job queue lost or doubled a message (or a worker failed).")
    return results


if __name__ == "__main__":
    main()
