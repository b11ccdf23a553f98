"""The real Bot API client (pawline.telegram), through `requests`, against a fake Bot API on
127.0.0.1 (bench/fake_telegram.py): what it sends, and which failures may be retried
(transient), must not be (permanent), or may have sent the message already (unknown)."""

import pytest

from bench.fake_telegram import (
    FakeTelegram,
    SentMessage,
    accept,
    blocked,
    chat_not_found,
    drop,
    full_backlog,
    hang,
    refusing,
    server_error,
    telegram_error,
    too_many,
)
from pawline.config import from_environment
from pawline.providers import PERMANENT, TRANSIENT, UNKNOWN, ProviderError, Sent
from pawline.telegram import (
    BotClient,
    TelegramSender,
    bot_id_of,
    client_from_config,
    sender_from_config,
)

TOKEN = "123456789:AAE" + "x" * 32
CHAT = "987654321"
READ_TIMEOUT = 0.5


@pytest.fixture
def fake():
    with FakeTelegram(TOKEN) as fake:
        yield fake


def bot(base_url: str, token: str = TOKEN, connect_timeout: float = 1.0) -> BotClient:
    return BotClient(token, api_base=base_url, connect_timeout=connect_timeout,
                     read_timeout=READ_TIMEOUT)


def failure(call) -> ProviderError:
    with pytest.raises(ProviderError) as failed:
        call()
    return failed.value


def test_send_message_posts_json_and_answers_the_message_id(fake):
    message_id = bot(fake.base_url).send_message(CHAT, "Rex had a great walk")

    assert fake.messages == [SentMessage(message_id, CHAT, "Rex had a great walk")]
    (call,) = fake.calls
    assert call.authorized and call.method == "sendMessage"
    assert call.payload == {"chat_id": CHAT, "text": "Rex had a great walk"}


def test_get_me_and_set_webhook(fake):
    client = bot(fake.base_url)
    me = client.get_me()
    assert (me.id, me.username) == ("123456789", "pawline_test_bot")

    client.set_webhook("https://paw.example.com/webhooks/telegram/happy-paws", "s3cret_-")
    assert fake.webhook == {"url": "https://paw.example.com/webhooks/telegram/happy-paws",
                            "secret_token": "s3cret_-"}
    with pytest.raises(ValueError):
        client.set_webhook("https://paw.example.com/x", "not allowed!")


def test_the_sender_answers_a_sid_of_bot_chat_and_message(fake):
    sender = TelegramSender(bot(fake.base_url))
    sent = sender.send(from_e164="123456789", to_e164=CHAT, body="Hi")
    assert sent == Sent(sid=f"123456789:{CHAT}:m1", status="sent")


def test_the_sender_without_a_bot_or_with_photos_refuses_for_good(fake):
    error = failure(lambda: sender_from_config({}, None).send(
        from_e164="1", to_e164=CHAT, body="Hi"))
    assert error.kind == PERMANENT and "No Telegram bot" in error.message
    error = failure(lambda: TelegramSender(bot(fake.base_url)).send(
        from_e164="1", to_e164=CHAT, body="Hi", media_urls=("https://x.example/p.png",)))
    assert error.kind == PERMANENT and fake.calls == []


def test_a_slow_answer_within_the_read_timeout_is_waited_for(fake):
    fake.then(accept(delay=READ_TIMEOUT / 2))
    assert bot(fake.base_url).send_message(CHAT, "Hi") == 1


@pytest.mark.parametrize(("answer", "kind", "code", "retry_after"), [
    (too_many(retry_after=7), TRANSIENT, "429", 7.0),
    (server_error(500), UNKNOWN, "500", None),
    (server_error(502), UNKNOWN, "502", None),
])
def test_busy_and_broken_answers_are_told_apart(fake, answer, kind, code, retry_after):
    fake.then(answer)
    error = failure(lambda: bot(fake.base_url).send_message(CHAT, "Hi"))
    assert (error.kind, error.code, error.retry_after) == (kind, code, retry_after)
    assert len(fake.calls) == 1 and fake.messages == []  # never sent again on its own


@pytest.mark.parametrize(("answer", "code", "words"), [
    (blocked(), "403", "Forbidden: bot was blocked by the user"),
    (chat_not_found(), "400", "Bad Request: chat not found"),
    (telegram_error(403, "Forbidden: user is deactivated"), "403",
     "Forbidden: user is deactivated"),
])
def test_a_refusal_is_permanent_in_telegrams_words(fake, answer, code, words):
    fake.then(answer)
    error = failure(lambda: bot(fake.base_url).send_message(CHAT, "Hi"))
    assert (error.kind, error.code, error.message) == (PERMANENT, code, words)


def test_the_fake_refuses_what_telegram_refuses_before_any_answer(fake):
    error = failure(lambda: bot(fake.base_url).send_message("not-a-chat", "Hi"))
    assert (error.kind, error.message) == (PERMANENT, "Bad Request: chat not found")
    error = failure(lambda: bot(fake.base_url).send_message(CHAT, "  "))
    assert error.message == "Bad Request: message text is empty"
    assert [call.answer for call in fake.calls] == [None, None]


def test_a_wrong_token_is_permanent_and_never_in_the_error(fake):
    other = "123456789:AAE" + "y" * 32
    error = failure(lambda: bot(fake.base_url, token=other).get_me())
    assert (error.kind, error.code, error.message) == (PERMANENT, "401", "Unauthorized")
    assert "y" * 32 not in error.detail and "123456789" in error.detail
    assert fake.calls[0].authorized is False


def test_no_answer_is_cut_off_at_the_read_timeout_and_may_have_been_sent(fake):
    fake.then(hang(accepted=True))
    error = failure(lambda: bot(fake.base_url).send_message(CHAT, "Hi"))
    assert error.kind == UNKNOWN and "may have been sent" in error.message
    assert "ReadTimeout" in error.detail and TOKEN not in error.detail
    assert len(fake.messages) == 1  # Telegram took it, though we cannot tell


def test_a_connection_dropped_after_the_request_is_unknown(fake):
    fake.then(drop())
    error = failure(lambda: bot(fake.base_url).send_message(CHAT, "Hi"))
    assert error.kind == UNKNOWN and "broke before it answered" in error.message


def test_a_refused_connection_is_transient():
    with refusing() as base_url:
        error = failure(lambda: bot(base_url).send_message(CHAT, "Hi"))
    assert error.kind == TRANSIENT and "not sent" in error.message
    assert TOKEN not in error.detail


def test_a_connection_that_never_opens_is_transient():
    with full_backlog() as base_url:
        error = failure(lambda: bot(base_url, connect_timeout=0.3).send_message(CHAT, "Hi"))
    assert error.kind == TRANSIENT and "ConnectTimeout" in error.detail


def test_text_past_telegrams_limit_is_refused_before_sending(fake):
    error = failure(lambda: bot(fake.base_url).send_message(CHAT, "x" * 4097))
    assert error.kind == PERMANENT and fake.calls == []


def test_a_token_must_look_like_botfathers(fake):
    assert bot_id_of(" 42:AAE" + "z" * 30 + " ") == "42"
    for bad in ("", "42", "abc:AAE" + "z" * 30, "42:short", "42:AAE/../" + "z" * 30):
        with pytest.raises(ValueError):
            bot_id_of(bad)


def test_the_client_from_config_uses_the_api_base_and_time_limits(fake, tmp_path):
    config = from_environment(tmp_path, env={"TELEGRAM_API_BASE": fake.base_url + "/",
                                             "SMS_READ_TIMEOUT": str(READ_TIMEOUT)})
    client = client_from_config({**config, "TELEGRAM_API_BASE": fake.base_url + "/"}, TOKEN)
    assert client.timeout == (5.0, READ_TIMEOUT)
    assert client.get_me().username == "pawline_test_bot"
    fake.then(hang())
    assert failure(lambda: client.send_message(CHAT, "Hi")).kind == UNKNOWN
