"""The job-queue benchmarks through the bench command, tiny, so they cannot rot: every message
reaches the (fake) provider exactly once and the table has its rows; never speed."""

import pytest

from bench import jobs, run
from tests.conftest import direct_only

pytestmark = [pytest.mark.concurrency, direct_only]

ROWS = ["Jobs, mixed: inbound p99 alone / with sends",
        "Jobs, mixed: app / ceiling alone / with sends",
        "Jobs, mixed: staff sends during the load",
        "Jobs, mixed: inbound rows exact, sends exact",
        "Jobs: delivery throughput", "Jobs: queue latency p50 / p95 / p99",
        "Jobs: recovery after a 2 s outage (503)", "Jobs: each message with the provider once"]


def test_the_tiny_job_benchmarks_deliver_every_message_once(server_url, capsys):
    server = server_url.replace("postgresql+psycopg://", "postgresql://", 1)

    result = run.main(["--tiny", "--only", "jobs", "--server", server])["jobs"]

    table = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert [line.split("|")[1].strip() for line in table[1:]] == ROWS
    assert result["exact"]
    sizes = jobs.TINY
    for name in ("throughput", "latency", "recovery"):
        checks = result[name]["checks"]
        warm_up = 0 if name == "throughput" else 3
        assert checks["queued"] == sizes[name]["messages"] + warm_up
        assert checks["with_sid"] == checks["distinct_sids"] == checks["accepted"]
        assert checks["with_sid"] == checks["queued"] and checks["accepted_twice"] == 0
    assert result["recovery"]["checks"]["provider_calls"] > result["recovery"]["checks"]["queued"]
    mixed = result["mixed"]
    assert mixed["inbound_exact"] and mixed["sends_exact"]
    assert mixed["alone"]["statuses"] == mixed["mixed"]["statuses"] == {200: 330}
    [sends] = mixed["sends"]
    assert sends["queued"] >= 1 and set(mixed["send_statuses"]) == {200}
    assert sends["with_sid"] + sends["unconfirmed"] == sends["queued"]
    assert mixed["worker_exits"] == [0, 0]
