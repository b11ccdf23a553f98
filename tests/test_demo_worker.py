"""The demo stays one command: `flask --app app run` also runs a worker, so a reply is sent."""

import socket
import subprocess
import sys
import urllib.request

import pytest
import sqlalchemy as sa

from pawline.db import db
from pawline.models import Message
from tests.test_worker_processes import queue
from tests.workers import ROOT, stop, wait_for, worker_env

pytestmark = pytest.mark.concurrency


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_flask_run_with_the_in_process_worker_sends_queued_messages(app, database_url):
    [message_id] = queue(app, 1)
    port = free_port()
    env = worker_env(database_url, "", SMS_PROVIDER="console", WORKER_IN_PROCESS=1,
                     SESSION_COOKIE_SECURE=0)
    server = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "run", "--port", str(port)], cwd=ROOT,
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        def answers():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/sign-in", timeout=2) as page:
                    return page.status == 200
            except OSError:
                return False

        wait_for(answers, timeout=30, every=0.2)  # the first request starts the worker

        def sent():
            with app.app_context():
                return db.session.scalar(sa.select(Message.status).where(
                    Message.id == message_id)) == "sent"

        wait_for(sent, timeout=30, every=0.2)
    finally:
        output = stop(server)
    assert "SMS +14156660000 -> +14155550000: Hello 0" in output
