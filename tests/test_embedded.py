"""The embedded PostgreSQL stops when the last process using it ends, however that one ends."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Join the server in pgdata (argv[1]), say so, then stay for argv[2] seconds.
USE_THE_SERVER = """
import sys, time
from pathlib import Path
from pawline.embedded import embedded_database_url

embedded_database_url(Path(sys.argv[1]))
print("joined", flush=True)
time.sleep(float(sys.argv[2]))
"""


@pytest.fixture
def pgdata(tmp_path_factory):
    """A data folder of its own; a server a failed test leaves running is stopped after it."""
    folder = tmp_path_factory.mktemp("embedded") / "pgdata"
    yield folder
    pid = postmaster(folder)
    if pid is not None and is_running(pid):
        os.kill(pid, signal.SIGINT)  # PostgreSQL's fast shutdown


def postmaster(pgdata: Path) -> int | None:
    pid_file = pgdata / "postmaster.pid"
    return int(pid_file.read_text().split()[0]) if pid_file.exists() else None


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stops(pid: int, within: float = 15) -> bool:
    deadline = time.monotonic() + within
    while is_running(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not is_running(pid)


def use(pgdata: Path, seconds: float) -> subprocess.Popen:
    """A process using the server, once it has joined."""
    process = subprocess.Popen([sys.executable, "-c", USE_THE_SERVER, str(pgdata), str(seconds)],
                               cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "joined"
    return process


def test_the_last_user_ended_by_sigterm_stops_the_server_and_not_before(pgdata):
    first = use(pgdata, 60)
    second = use(pgdata, 0)
    assert second.wait(timeout=30) == 0
    server = postmaster(pgdata)
    assert server is not None and is_running(server)  # the first still uses it

    first.send_signal(signal.SIGTERM)

    assert first.wait(timeout=30) == -signal.SIGTERM  # it still ends of the signal
    assert stops(server)


def test_a_user_killed_outright_does_not_keep_the_server_up_for_good(pgdata):
    killed = use(pgdata, 60)
    killed.kill()  # SIGKILL: nothing in the process runs, its pid stays on the server's list
    killed.wait(timeout=30)
    server = postmaster(pgdata)
    assert server is not None and is_running(server)

    assert use(pgdata, 0).wait(timeout=30) == 0

    assert stops(server)
