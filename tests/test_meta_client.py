"""The Send API client against the fake Graph API: its real HTTP path, each answer's kind."""

import pytest
import requests

from bench.fake_meta import (
    FakeMeta,
    accept,
    drop,
    full_backlog,
    graph_error,
    hang,
    outside_window,
    rate_limited,
    refusing,
    server_error,
    unavailable,
)
from pawline.meta import MetaSender, SendApi
from pawline.providers import PERMANENT, TRANSIENT, UNKNOWN, ProviderError

PAGE, TOKEN, PSID = "104729381927364", "EAAG-page-token", "6873450192837465"


@pytest.fixture
def fake():
    with FakeMeta({TOKEN: PAGE}) as running:
        yield running


def api(base: str, connect: float = 2.0, read: float = 2.0) -> SendApi:
    return SendApi(base, connect_timeout=connect, read_timeout=read)


def failure(base: str, token: str = TOKEN, **timeouts) -> ProviderError:
    with pytest.raises(ProviderError) as raised:
        api(base, **timeouts).send_message(token, PSID, "Rex is fine")
    return raised.value


def test_a_message_goes_out_as_a_response_with_the_token_in_the_header(fake):
    message_id = api(fake.base_url).send_message(TOKEN, PSID, "Rex is fine 🐾")

    [sent] = fake.messages
    assert sent.message_id == message_id and message_id.startswith("m_")
    assert (sent.page_id, sent.recipient_id, sent.text) == (PAGE, PSID, "Rex is fine 🐾")
    assert sent.messaging_type == "RESPONSE"
    [call] = fake.calls
    assert call.token == TOKEN and "access_token" not in call.path  # never in a logged URL
    assert call.body == {"recipient": {"id": PSID}, "messaging_type": "RESPONSE",
                         "message": {"text": "Rex is fine 🐾"}}


@pytest.mark.parametrize(("answer", "kind", "code", "words"), [
    (outside_window(), PERMANENT, "10/2018278", "24-hour window"),
    (unavailable(), PERMANENT, "551/1545041", "isn't available"),
    (graph_error(100, "(#100) Invalid parameter"), PERMANENT, "100", "Invalid parameter"),
    (graph_error(200, "(#200) Requires pages_messaging permission", 403), PERMANENT, "200",
     "permission"),
    (rate_limited(), TRANSIENT, "613", "rate limit"),
    (graph_error(4, "(#4) Application request limit reached"), TRANSIENT, "4", "limit"),
    (graph_error(32, "(#32) Page request limit reached"), TRANSIENT, "32", "limit"),
    (graph_error(1200, "Temporary send message failure. Please try again later"), TRANSIENT,
     "1200", "Temporary"),
    (server_error(500, transient=True), TRANSIENT, "2", "retry"),
    (server_error(500), UNKNOWN, "1", "unknown error"),
    (server_error(503), UNKNOWN, "1", "unknown error"),
    (graph_error(2, "Too many", 429), TRANSIENT, "2", "Too many"),
])
def test_graph_errors_map_to_a_kind_in_metas_words(fake, answer, kind, code, words):
    fake.then(answer)
    error = failure(fake.base_url)
    assert (error.kind, error.code) == (kind, code)
    assert words in error.message
    assert "fbtrace_id=" in error.detail
    assert fake.messages == []


def test_a_bad_token_is_permanent_and_says_to_connect_again(fake):
    error = failure(fake.base_url, token="EAAG-revoked")
    assert (error.kind, error.code) == (PERMANENT, "190")
    assert "connect the page again" in error.message and "Invalid OAuth" in error.message


def test_a_rate_limit_keeps_the_wait_meta_asked_for(fake):
    fake.then(rate_limited(429, retry_after=7))
    error = failure(fake.base_url)
    assert (error.kind, error.retry_after) == (TRANSIENT, 7.0)


def test_no_answer_in_time_may_have_sent_it(fake):
    fake.then(hang(accepted=True))
    error = failure(fake.base_url, read=0.3)
    assert error.kind == UNKNOWN and "may have been sent" in error.message
    assert len(fake.messages) == 1  # and indeed Meta had it


def test_a_dropped_connection_may_have_sent_it(fake):
    fake.then(drop())
    assert failure(fake.base_url).kind == UNKNOWN


def test_a_slow_answer_within_the_limit_is_a_success(fake):
    fake.then(accept().after(0.3))
    assert api(fake.base_url, read=3).send_message(TOKEN, PSID, "later").startswith("m_")


def test_no_connection_sent_nothing():
    with refusing() as base:
        error = failure(base + "/v21.0")
    assert error.kind == TRANSIENT and "could not be reached" in error.message
    with full_backlog() as base:
        assert failure(base + "/v21.0", connect=0.2).kind == TRANSIENT


def test_a_misconfigured_address_is_permanent():
    assert failure("graph.example/v21.0").kind == PERMANENT


def test_a_wrong_path_is_refused_not_guessed(fake):
    error = failure(fake.base_url.replace("/v21.0", "/v1"))
    assert error.kind == PERMANENT and fake.messages == []


class Page:
    """An organization's connected page, as channel_accounts answers it."""

    def __init__(self, account_id: str, secret: str | None):
        self.org_id, self.channel, self.display_name, self.settings = 1, "messenger", "", {}
        self.account_id, self.secret = account_id, secret


def test_the_sender_sends_from_the_connected_page_only(fake):
    sender = MetaSender("messenger", api(fake.base_url), Page(PAGE, TOKEN))
    sent = sender.send(from_e164=PAGE, to_e164=PSID, body="On my way")
    assert sent.sid == fake.messages[0].message_id and sent.status == "sent"

    for account, from_id in ((None, PAGE), (Page(PAGE, None), PAGE), (Page(PAGE, TOKEN), "999")):
        with pytest.raises(ProviderError) as raised:
            MetaSender("instagram", api(fake.base_url), account).send(
                from_e164=from_id, to_e164=PSID, body="x")
        assert raised.value.kind == PERMANENT
    with pytest.raises(ProviderError, match="2000 characters"):
        sender.send(from_e164=PAGE, to_e164=PSID, body="x" * 2001)
    assert len(fake.calls) == 1  # nothing refused here reached Meta


def test_the_fake_refuses_bad_requests_without_using_up_an_answer(fake):
    fake.then(rate_limited())
    url = fake.base_url + "/me/messages"
    body = {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": "hi"}}
    assert requests.post(url, json=body, timeout=2).json()["error"]["code"] == 190
    assert requests.post(url, params={"access_token": TOKEN}, json={**body, "message": {}},
                         timeout=2).json()["error"]["code"] == 100
    assert requests.post(url, params={"access_token": TOKEN}, json=body,
                         timeout=2).json()["error"]["code"] == 613
    assert [call.answer is None for call in fake.calls] == [True, True, False]
