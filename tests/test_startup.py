"""What a person sees when the app starts for real: in its own process, under flask or gunicorn."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pawline.config import ConfigError, from_environment

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


def refusal(command: list[str], cwd: Path = ROOT, **settings) -> subprocess.CompletedProcess:
    """Run a command that must refuse to start; a server that starts instead times out."""
    env = environment(**settings)
    for name in [name for name, value in settings.items() if value is None]:
        del env[name]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def paw_line(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("paw-line: ")]


FLASK = [sys.executable, "-m", "flask", "--app", "app"]
GUNICORN = [sys.executable, "-m", "gunicorn", "-b", "127.0.0.1:0"]


def test_a_flask_command_without_a_secret_key_in_production_says_so_in_one_line():
    ran = refusal([*FLASK, "routes"], SECRET_KEY=None)

    assert ran.returncode != 0
    assert ran.stderr.splitlines() == [
        "paw-line: SECRET_KEY must be set when DATABASE_URL is (a production database)."]
    assert ran.stdout == ""


def test_flask_run_refuses_an_unknown_sms_provider_before_serving():
    ran = refusal([*FLASK, "run", "--port", "0"], SMS_PROVIDER="carrier-pigeon")

    assert ran.returncode != 0
    assert ran.stderr.splitlines() == [
        "paw-line: SMS_PROVIDER must be console or twilio, not 'carrier-pigeon'."]


def test_gunicorn_started_here_refuses_bad_settings_once_before_any_worker():
    ran = refusal([*GUNICORN, "-w", "2", "app:create_app()"], SECRET_KEY=None)

    assert ran.returncode != 0
    assert ran.stderr.splitlines() == [
        "paw-line: SECRET_KEY must be set when DATABASE_URL is (a production database)."]


def test_gunicorn_started_elsewhere_stops_when_its_worker_refuses(tmp_path):
    # No gunicorn.conf.py in tmp_path: the worker's create_app refuses, and gunicorn stops.
    ran = refusal([*GUNICORN, "-w", "1", "app:create_app()"], cwd=tmp_path,
                  SMS_PROVIDER="carrier-pigeon")

    assert ran.returncode != 0
    assert paw_line(ran.stderr) == [
        "paw-line: SMS_PROVIDER must be console or twilio, not 'carrier-pigeon'."]
    assert "Traceback" not in ran.stderr


@pytest.mark.parametrize(("name", "value"), [
    ("SMS_PROVIDER", "twillio"), ("SMS_PROVIDER", ""),
    ("SESSION_MAX_AGE_SECONDS", "12h"), ("SESSION_LIFETIME_SECONDS", "1.5"),
])
def test_a_setting_the_app_cannot_use_is_refused_by_name(tmp_path, name, value):
    env = {"DATABASE_URL": UNREACHABLE_DATABASE, "SECRET_KEY": "s" * 64, name: value}
    with pytest.raises(ConfigError, match=name):
        from_environment(tmp_path, env=env)
