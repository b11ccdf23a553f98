"""/settings/channels/telegram and `flask telegram-webhook`: a token is checked with getMe on a
fake Bot API, kept sealed and never shown again; the webhook is registered with a fresh secret
that the webhook then accepts. Owners only, each organization its own bot."""

import pytest
import sqlalchemy as sa

from bench.fake_telegram import FakeTelegram, refusing
from pawline import channel_accounts
from pawline.channel_models import ChannelAccount
from pawline.db import db
from pawline.models import AuditEvent
from tests import factories
from tests.telegram_world import BOT_ID, TOKEN, message_update, post_update

PAGE = "/settings/channels/telegram"


@pytest.fixture
def fake(app, monkeypatch):
    with FakeTelegram(TOKEN) as fake:
        monkeypatch.setitem(app.config, "TELEGRAM_API_BASE", fake.base_url)
        yield fake


@pytest.fixture
def org(app):
    with app.app_context():
        return factories.org()


def account(app, org_id):
    with app.app_context():
        return channel_accounts.get(org_id, "telegram")


def test_an_owner_connects_a_bot_and_the_token_is_never_shown_again(app, client, auth, org,
                                                                    fake):
    auth.sign_in(org.owner_email)
    page = client.get(PAGE).get_data(as_text=True)
    assert "No bot is connected yet" in page

    response = client.post(PAGE, data={"token": f"  {TOKEN} "}, follow_redirects=True)

    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "@pawline_test_bot" in page
    assert TOKEN not in page and TOKEN.split(":")[1] not in page
    assert [call.method for call in fake.calls] == ["getMe"]
    saved = account(app, org.id)
    assert (saved.account_id, saved.display_name, saved.secret) == (BOT_ID, "@pawline_test_bot",
                                                                   TOKEN)
    with app.app_context():
        sealed = db.session.scalar(sa.select(ChannelAccount.secret_sealed))
        audited = db.session.scalars(sa.select(AuditEvent.data)).all()
    assert TOKEN.split(":")[1] not in sealed  # encrypted at rest
    assert audited and TOKEN.split(":")[1] not in repr(audited)  # and in no audit trail


@pytest.mark.parametrize(("token", "words"), [
    ("", "Paste the token"),
    ("not a token", "That is not a bot token"),
    ("123456789:AAE/../../" + "x" * 30, "That is not a bot token"),
    ("123456789:AAE" + "w" * 32, "Telegram refused: Unauthorized"),  # the fake's 401
])
def test_a_bad_token_is_a_clear_form_error_and_nothing_is_kept(app, client, auth, org, fake,
                                                              token, words):
    auth.sign_in(org.owner_email)
    response = client.post(PAGE, data={"token": token})
    assert response.status_code == 400 and words in response.get_data(as_text=True)
    assert account(app, org.id) is None


def test_telegram_out_of_reach_is_a_form_error(app, client, auth, org, monkeypatch):
    auth.sign_in(org.owner_email)
    with refusing() as base_url:
        monkeypatch.setitem(app.config, "TELEGRAM_API_BASE", base_url)
        response = client.post(PAGE, data={"token": TOKEN})
    assert response.status_code == 400
    assert "Telegram could not be asked right now" in response.get_data(as_text=True)


def test_the_button_registers_the_webhook_and_its_secret_opens_it(app, client, auth, org, fake):
    auth.sign_in(org.owner_email)
    client.post(PAGE, data={"token": TOKEN})

    response = client.post(f"{PAGE}/webhook", follow_redirects=True)

    assert response.status_code == 200
    assert f"/webhooks/telegram/{org.slug}" in response.get_data(as_text=True)
    secret = account(app, org.id).settings["webhook_secret"]
    assert fake.webhook == {"url": f"http://localhost/webhooks/telegram/{org.slug}",
                            "secret_token": secret}
    assert post_update(client, org.slug, message_update(1, 42, "hi"), secret).status_code == 200


def test_the_cli_registers_the_webhook_with_a_fresh_secret(app, runner, org, fake):
    with app.app_context():
        channel_accounts.save(org.id, "telegram", BOT_ID, "@pawline_test_bot", secret=TOKEN)

    first = runner.invoke(args=["telegram-webhook", org.slug, "https://paw.example.com/"])
    secret = account(app, org.id).settings["webhook_secret"]
    again = runner.invoke(args=["telegram-webhook", org.slug, "https://paw.example.com"])

    assert first.exit_code == 0 and again.exit_code == 0, first.output + again.output
    url = f"https://paw.example.com/webhooks/telegram/{org.slug}"
    assert url in first.output
    assert fake.webhook == {"url": url,
                            "secret_token": account(app, org.id).settings["webhook_secret"]}
    assert fake.webhook["secret_token"] != secret and len(secret) >= 32
    with app.app_context():
        audited = repr(db.session.scalars(sa.select(AuditEvent.data)).all())
    assert secret not in audited and fake.webhook["secret_token"] not in audited


def test_the_cli_refuses_clearly(app, runner, org, fake):
    unknown = runner.invoke(args=["telegram-webhook", "no-such-org", "https://paw.example.com"])
    assert unknown.exit_code == 1 and "No organization" in unknown.output
    no_bot = runner.invoke(args=["telegram-webhook", org.slug, "https://paw.example.com"])
    assert no_bot.exit_code == 1 and "Connect a Telegram bot first" in no_bot.output
    with app.app_context():
        channel_accounts.save(org.id, "telegram", BOT_ID, "@pawline_test_bot", secret=TOKEN)
    bad = runner.invoke(args=["telegram-webhook", org.slug, "paw.example.com"])
    assert bad.exit_code == 1 and "public address" in bad.output and fake.webhook is None


def test_staff_and_sitters_get_404(client, auth, org, fake):
    for email in (org.staff_email, org.sitter_email):
        auth.sign_in(email)
        assert client.get(PAGE).status_code == 404
        assert client.post(PAGE, data={"token": TOKEN}).status_code == 404
        assert client.post(f"{PAGE}/webhook").status_code == 404
        auth.sign_out()
    assert fake.calls == []


def test_each_organization_sees_and_changes_only_its_own_bot(app, client, auth, org, fake):
    with app.app_context():
        other = factories.org()
        channel_accounts.save(other.id, "telegram", BOT_ID, "@others_bot", secret=TOKEN,
                              settings={"webhook_secret": "theirs"})
    auth.sign_in(org.owner_email)
    page = client.get(PAGE).get_data(as_text=True)
    assert "@others_bot" not in page and "No bot is connected yet" in page

    taken = client.post(PAGE, data={"token": TOKEN})  # the other organization's bot
    assert taken.status_code == 400
    assert "already connected to another organization" in taken.get_data(as_text=True)
    assert client.post(f"{PAGE}/webhook", follow_redirects=True).status_code == 200
    assert fake.webhook is None  # no bot of its own: nothing registered
    assert account(app, other.id).settings == {"webhook_secret": "theirs"}
