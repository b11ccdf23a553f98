"""The real TwilioProvider, through the real Twilio SDK, against a fake Twilio on 127.0.0.1.

What is under test is what happens on the wire: the time limits, that the SDK never sends twice on
its own, and which failures may be retried (transient), must not be (permanent), or may have sent
the message already (unknown).
"""

import re
import time

import pytest

from bench.fake_twilio import (
    Accepted,
    FakeTwilio,
    accept,
    drop,
    full_backlog,
    hang,
    refusing,
    server_error,
    too_many,
    twilio_error,
)
from pawline.config import ConfigError, from_environment
from pawline.providers import (
    PERMANENT,
    TRANSIENT,
    UNKNOWN,
    ProviderError,
    Sent,
    TwilioProvider,
    provider_from_config,
)

SID, TOKEN = "AC" + "1" * 32, "fake-auth-token"
FROM, TO = "+14155550101", "+14155552671"
CALLBACK = "https://paw.example.com/webhooks/twilio/status"
READ_TIMEOUT = 0.5
SLACK = 1.5  # seconds a loaded 2-core machine may add to a time limit


@pytest.fixture
def fake():
    with FakeTwilio(SID, TOKEN) as fake:
        yield fake


def twilio(base_url: str, token: str = TOKEN, connect_timeout: float = 1.0) -> TwilioProvider:
    return TwilioProvider(SID, token, connect_timeout=connect_timeout, read_timeout=READ_TIMEOUT,
                          api_base_url=base_url)


def send(provider: TwilioProvider) -> Sent:
    return provider.send(from_e164=FROM, to_e164=TO, body="Hello", status_callback=CALLBACK)


def failure(provider: TwilioProvider) -> tuple[ProviderError, float]:
    started = time.monotonic()
    with pytest.raises(ProviderError) as failed:
        send(provider)
    return failed.value, time.monotonic() - started


def test_a_message_twilio_accepts_returns_its_sid_and_reaches_twilio_once(fake):
    sent = send(twilio(fake.base_url))

    assert re.fullmatch(r"SM[0-9a-f]{32}", sent.sid) and sent.status == "queued"
    assert fake.messages == [Accepted(sent.sid, SID, TO, FROM, "Hello", CALLBACK)]
    (call,) = fake.calls
    assert call.authorized and call.path == f"/2010-04-01/Accounts/{SID}/Messages.json"


def test_an_answer_slower_than_usual_but_within_the_read_timeout_is_waited_for(fake):
    fake.then(accept(delay=READ_TIMEOUT / 2))
    assert send(twilio(fake.base_url)).sid == fake.messages[0].sid


def test_no_answer_is_cut_off_at_the_read_timeout_and_may_have_been_sent(fake):
    fake.then(hang(accepted=True))  # Twilio took it; the answer never came back

    error, elapsed = failure(twilio(fake.base_url))

    assert error.kind == UNKNOWN and "may have been sent" in error.message
    assert "ReadTimeout" in error.detail
    assert READ_TIMEOUT * 0.9 <= elapsed < READ_TIMEOUT + SLACK
    assert len(fake.calls) == 1 and len(fake.messages) == 1  # sent, though we cannot tell


def test_a_connection_dropped_after_the_request_is_unknown(fake):
    fake.then(drop())
    error, _ = failure(twilio(fake.base_url))
    assert error.kind == UNKNOWN and "broke before it answered" in error.message
    assert len(fake.calls) == 1


def test_a_refused_connection_is_transient_and_fast():
    with refusing() as base_url:
        error, elapsed = failure(twilio(base_url))
    assert error.kind == TRANSIENT and "not sent" in error.message
    assert elapsed < READ_TIMEOUT


def test_a_connection_that_never_opens_is_cut_off_at_the_connect_timeout_and_transient():
    with full_backlog() as base_url:
        error, elapsed = failure(twilio(base_url, connect_timeout=0.3))
    assert error.kind == TRANSIENT and "ConnectTimeout" in error.detail
    assert 0.25 <= elapsed < 0.3 + SLACK


def test_the_proxy_settings_of_the_environment_at_start_are_used(fake, monkeypatch):
    for name in ("HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    with refusing() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy)  # a proxy that refuses every connection
        through_proxy = twilio(fake.base_url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        direct = twilio(fake.base_url)
        monkeypatch.delenv("HTTP_PROXY")  # read once, at start: later changes do not count

        error, _ = failure(through_proxy)
        assert error.kind == TRANSIENT and "ProxyError" in error.detail and fake.calls == []
        assert send(direct).sid == fake.messages[0].sid

def test_an_unknown_host_is_transient():
    error, _ = failure(twilio("http://twilio.invalid"))
    assert error.kind == TRANSIENT


@pytest.mark.parametrize(("answer", "kind", "code", "retry_after"), [
    (too_many(retry_after=7), TRANSIENT, "20429", 7),
    (too_many(), TRANSIENT, "20429", None),
    (server_error(503, retry_after=30), TRANSIENT, "20503", 30),
    (twilio_error(21611), TRANSIENT, "21611", None),  # the sender's queue is full: later
    (server_error(500), UNKNOWN, "20500", None),  # Twilio: a 500 on a send may have sent it
    (server_error(502), UNKNOWN, "20502", None),
    (server_error(504), UNKNOWN, "20504", None),
])
def test_busy_and_broken_answers_are_told_apart(fake, answer, kind, code, retry_after):
    fake.then(answer)

    error, _ = failure(twilio(fake.base_url))

    assert (error.kind, error.code, error.retry_after) == (kind, code, retry_after)
    assert len(fake.calls) == 1 and fake.messages == []  # the SDK did not try again itself


@pytest.mark.parametrize(("code", "text"), [
    (21211, "Invalid 'To' Phone Number"),
    (21610, "Attempt to send to unsubscribed recipient"),
    (21614, "'To' number is not a valid mobile number"),
    (21408, "Permission to send an SMS has not been enabled"),
    (21612, "not currently reachable"),
])
def test_a_refusal_is_permanent_with_twilios_code_and_words(fake, code, text):
    fake.then(twilio_error(code))

    error, _ = failure(twilio(fake.base_url))

    assert (error.kind, error.code, error.retry_after) == (PERMANENT, str(code), None)
    assert text in error.message
    assert error.detail.startswith(f"HTTP 400 POST /Accounts/{SID}/Messages.json: ")
    assert len(fake.calls) == 1


def test_wrong_credentials_are_permanent(fake):
    error, _ = failure(twilio(fake.base_url, token="not-the-token"))
    assert (error.kind, error.code, error.message) == (PERMANENT, "20003", "Authenticate")
    assert fake.calls[0].authorized is False and fake.messages == []


def test_the_sdk_never_resends_on_its_own_across_many_failures(fake):
    provider = twilio(fake.base_url)
    failures = [drop(), server_error(500), too_many(1), hang(), server_error(503)]
    fake.then(*failures)
    for _ in failures:
        failure(provider)
    assert send(provider).sid  # the same provider still works after all of that
    assert len(fake.calls) == len(failures) + 1 and len(fake.messages) == 1


def test_provider_from_config_passes_the_limits_and_the_api_address(fake, tmp_path):
    config = from_environment(tmp_path, env={
        "SMS_PROVIDER": "twilio", "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_API_BASE_URL": fake.base_url + "/", "SMS_READ_TIMEOUT": str(READ_TIMEOUT)})
    provider = provider_from_config(config)
    assert send(provider).sid == fake.messages[0].sid

    fake.then(hang())
    error, elapsed = failure(provider)
    assert error.kind == UNKNOWN and elapsed < READ_TIMEOUT + SLACK


def test_time_limits_default_to_5_and_10_seconds_and_must_be_positive_numbers(tmp_path):
    config = from_environment(tmp_path, env={})
    assert (config["SMS_CONNECT_TIMEOUT"], config["SMS_READ_TIMEOUT"]) == (5.0, 10.0)
    assert config["TWILIO_API_BASE_URL"] == ""
    for bad in ("0", "-1", "soon", "nan"):
        with pytest.raises(ConfigError, match="SMS_READ_TIMEOUT"):
            from_environment(tmp_path, env={"SMS_READ_TIMEOUT": bad})


def test_a_provider_error_says_what_may_happen_next():
    plain = ProviderError("Service unavailable", "503")
    assert (plain.kind, plain.retry_after, plain.detail) == (PERMANENT, None, "Service unavailable")
    with pytest.raises(ValueError):
        ProviderError("?", kind="maybe")
