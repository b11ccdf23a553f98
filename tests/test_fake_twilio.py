"""The fake Twilio itself: its knobs do what they say, it counts under load, and it always stops."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from bench.fake_twilio import FakeTwilio, accept, hang, too_many, twilio_error

SID, TOKEN = "AC" + "2" * 32, "fake-auth-token"
FORM = {"To": "+14155552671", "From": "+14155550101", "Body": "Hi"}


def post(base_url: str, form=FORM, account=SID, auth=(SID, TOKEN), timeout=5.0, session=None):
    return (session or requests).post(
        f"{base_url}/2010-04-01/Accounts/{account}/Messages.json", data=form, auth=auth,
        timeout=timeout)


def test_queued_answers_come_first_then_the_rule():
    with FakeTwilio(SID, TOKEN) as fake:
        fake.fail_next(2, twilio_error(21211))
        fake.then(too_many(retry_after=3))
        statuses = [post(fake.base_url).status_code for _ in range(4)]
        assert statuses == [400, 400, 429, 201]
        assert len(fake.calls) == 4 and len(fake.messages) == 1


def test_a_fraction_of_calls_fail_the_same_way_for_the_same_seed():
    def run() -> list[int]:
        with FakeTwilio(SID, TOKEN) as fake:
            fake.fail_fraction(0.3, twilio_error(21610), accept(), seed=7)
            return [post(fake.base_url).status_code for _ in range(40)]

    first = run()
    assert first == run() and 5 <= first.count(400) <= 20


def test_bad_requests_are_refused_without_using_up_an_answer():
    with FakeTwilio(SID, TOKEN) as fake:
        fake.then(too_many())
        assert post(fake.base_url, auth=(SID, "wrong")).json()["code"] == 20003
        assert post(fake.base_url, account="AC" + "3" * 32).status_code == 404
        assert post(fake.base_url, form={**FORM, "To": ""}).json()["code"] == 21604
        assert post(fake.base_url).status_code == 429
        assert [call.answer is None for call in fake.calls] == [True, True, True, False]


def test_it_counts_every_message_sent_at_once_from_many_threads():
    with FakeTwilio(SID, TOKEN) as fake, ThreadPoolExecutor(16) as pool:
        sids = list(pool.map(lambda _: post(fake.base_url).json()["sid"], range(200)))
        assert len(set(sids)) == 200
        assert sorted(m.sid for m in fake.messages) == sorted(sids)


def test_it_stops_at_once_while_a_client_still_waits_for_an_answer():
    fake = FakeTwilio(SID, TOKEN).start()
    fake.always(hang())
    outcome = []

    def waiting_client():
        try:
            post(fake.base_url, timeout=60)
        except requests.ConnectionError:
            outcome.append("connection closed")

    client = threading.Thread(target=waiting_client)
    client.start()
    while not fake.calls:
        time.sleep(0.01)
    started = time.monotonic()
    fake.stop()
    client.join(5)
    assert time.monotonic() - started < 2 and outcome == ["connection closed"]


def test_a_hanging_request_ends_when_the_client_gives_up():
    with FakeTwilio(SID, TOKEN) as fake:
        fake.then(hang())
        session = requests.Session()
        with pytest.raises(requests.ReadTimeout):
            post(fake.base_url, timeout=0.2, session=session)
        deadline = time.monotonic() + 2
        while fake.open_connections and time.monotonic() < deadline:
            time.sleep(0.02)
        assert fake.open_connections == 0
