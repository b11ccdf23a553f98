"""The one benchmark command, tiny, end to end: it builds, measures and prints the table.

The job-queue benchmarks' rows are checked by tests/test_bench_jobs.py, through the same command
(`--only jobs`), so that no tiny benchmark runs twice in the suite."""

import pytest

from bench import run
from tests.conftest import direct_only

pytestmark = [pytest.mark.concurrency, direct_only]


def test_the_bench_command_prints_a_row_for_every_benchmark(server_url, capsys):
    server = server_url.replace("postgresql+psycopg://", "postgresql://", 1)

    # raises SystemExit if a row was lost or doubled
    run.main(["--tiny", "--only", "ingest", "--only", "inbox", "--server", server])

    table = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    names = [line.split("|")[1].strip() for line in table[1:]]
    assert names[:3] == ["Ingestion: app under gunicorn",
                         "Ingestion: ceiling (same SQL via psycopg)", "Ingestion: app / ceiling"]
    assert "Ingestion: exact, nothing lost or doubled" in names
    assert "Inbox: search by name" in names and "Inbox: doctor --full (re-reads every row)" in names
    assert len(names) == 19
    exact = next(line for line in table if "nothing lost or doubled" in line)
    assert "| yes |" in exact
