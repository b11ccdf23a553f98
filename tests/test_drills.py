"""The fault drills' correctness, tiny (bench/drills.py): with a sender that retries as Twilio
does with connection overrides, a PostgreSQL restart and a worker SIGKILLed mid-request lose no
message and store none twice. Their timings are measured by `python -m bench.drills`, not here."""

import pytest

from bench import drills

pytestmark = pytest.mark.concurrency


def test_faults_lose_no_message_and_double_none_once_the_sender_retries(tmp_path):
    restart, kill = drills.run_all(tmp_path, quick=True, retries=(3,), only=("restart", "kill"))

    for result in (restart, kill):
        assert (result["lost"], result["duplicates"]) == (0, 0), result
        assert result["stored"] == result["messages"], result
    assert restart["database_down_s"] > 0
    # The kill found every worker inside a request, so the one it killed had one in flight:
    # its sender saw the connection drop, and the retry stored the message.
    assert kill["workers_mid_request"] >= 2
    assert kill["failures"].get("reset", 0) >= 1, kill
    assert kill["replacement_served_s"] is not None, "gunicorn did not replace the worker"
