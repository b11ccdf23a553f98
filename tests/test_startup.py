"""What a person sees when the app starts for real: in its own process, under flask or gunicorn."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Nothing here connects to it: building the app does not, and these processes send no query.
UNREACHABLE_DATABASE = "postgresql://nobody@127.0.0.1:9/nothing"

SEND_THROUGH_THE_CONSOLE = """
from app import create_app
from pawline.providers import provider_from_config

app = create_app()
provider_from_config(app.config).send(from_e164="+14155550101", to_e164="+14155550177",
                                      body="Woof from the console")
"""

GUNICORN_FACTORY = """
from app import create_app
from pawline.providers import ConsoleProvider


def make():
    app = create_app()
    ConsoleProvider().send(from_e164="+14155550101", to_e164="+14155550177",
                           body="Woof under gunicorn")
    return app
"""


def environment(**settings) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "SECRET_KEY", "SMS_PROVIDER", "FLASK_APP")}
    env.update({"DATABASE_URL": UNREACHABLE_DATABASE, "SECRET_KEY": "startup-test-secret",
                "SMS_PROVIDER": "console", "PYTHONPATH": str(ROOT)})
    env.update(settings)
    return env


def test_the_console_provider_prints_each_sms_once_in_a_plain_process():
    ran = subprocess.run([sys.executable, "-c", SEND_THROUGH_THE_CONSOLE], cwd=ROOT,
                         env=environment(), capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    lines = [line for line in ran.stderr.splitlines() if "Woof from the console" in line]
    assert len(lines) == 1, ran.stderr
    assert "+14155550101 -> +14155550177" in lines[0]


def test_the_console_provider_prints_each_sms_once_per_gunicorn_worker(tmp_path):
    (tmp_path / "console_probe.py").write_text(GUNICORN_FACTORY)
    errors = tmp_path / "stderr"
    env = environment(PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]))
    with errors.open("w") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "2", "-b", "127.0.0.1:0",
             "console_probe:make()"], cwd=tmp_path, env=env, stdout=sink, stderr=sink)
        try:
            deadline = time.monotonic() + 30
            while errors.read_text().count("Woof under gunicorn") < 2 and server.poll() is None \
                    and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    printed = errors.read_text()
    assert printed.count("Woof under gunicorn") == 2, printed  # one per worker, no copies
