"""The request log and /metrics under real gunicorn with two workers, as production runs them:
one log line per request whichever worker served it, and every scrape adds up both workers."""

import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from types import SimpleNamespace

import pytest

from bench.servers import free_port
from tests.workers import ROOT, wait_for

TOKEN = "scrape-" + "s" * 32
REQUESTS = 30
SIGN_IN = 'pawline_http_requests_total{endpoint="auth.sign_in",method="GET",status="200"}'


def get(url: str, **headers) -> tuple[int, dict, str]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


@pytest.fixture(scope="module")
def gunicorn(database_url, tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("gunicorn") / "output"
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(DATABASE_URL=database_url, SECRET_KEY="ops-test", SMS_PROVIDER="console",
               SESSION_COOKIE_SECURE="0", METRICS_TOKEN=TOKEN)
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
             "--access-logfile", "-", "--access-logformat", "access pid=%(p)s path=%(U)s",
             "app:create_app()"], cwd=ROOT, env=env, stdout=sink, stderr=sink)
    base = f"http://127.0.0.1:{port}"

    def up():
        try:
            return get(base + "/healthz")[0] == 200
        except OSError:
            return process.poll() is not None  # ended: fail below with its output

    try:
        wait_for(up, timeout=60, every=0.2)
        assert process.poll() is None, log.read_text()
        yield SimpleNamespace(base=base, output=log.read_text, process=process)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def test_each_request_is_one_log_line_whichever_worker_serves_it(gunicorn):
    ids = [f"drill-{n:03d}" for n in range(REQUESTS)]
    statuses = {get(gunicorn.base + "/sign-in", **{"X-Request-ID": rid})[0] for rid in ids}
    assert statuses == {200}

    output = wait_for(lambda: (text := gunicorn.output()).count("pawline.request") >= REQUESTS
                      and text, timeout=10)
    lines = [line for line in output.splitlines() if "pawline.request:" in line]
    for rid in ids:
        [line] = [line for line in lines if f"request_id={rid} " in line]
        assert "endpoint=auth.sign_in route=/sign-in status=200 duration_ms=" in line
        assert line.endswith("org=- user=-")


def test_every_scrape_adds_up_every_workers_counts(gunicorn):
    before = scrape_value(gunicorn)
    for _ in range(REQUESTS):
        assert get(gunicorn.base + "/sign-in")[0] == 200
    served_by, totals = set(), []
    deadline = time.monotonic() + 60
    while len(served_by) < 2 and time.monotonic() < deadline:
        # Four at once: a sync worker serves one request at a time, so both must answer.
        threads = [threading.Thread(target=lambda: totals.append(scrape_value(gunicorn)))
                   for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        served_by = set(re.findall(r"access pid=<(\d+)> path=/metrics", gunicorn.output()))
    assert len(served_by) == 2, gunicorn.output()
    # Both workers answer with the same total: each alone would count only what it served.
    assert set(totals) == {before + REQUESTS}


def test_a_scrape_without_the_token_is_a_404_under_gunicorn_too(gunicorn):
    status, _, body = get(gunicorn.base + "/metrics")
    assert status == 404 and "pawline_" not in body


def scrape_value(gunicorn) -> float:
    status, headers, text = get(gunicorn.base + "/metrics", Authorization=f"Bearer {TOKEN}")
    assert status == 200, text
    assert "pawline_queue_up 1.0" in text
    for line in text.splitlines():
        if line.startswith(SIGN_IN + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
