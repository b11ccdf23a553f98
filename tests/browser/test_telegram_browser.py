"""The Telegram settings page in headless Chromium: an owner pastes a bot token (checked on a
fake Bot API), registers the webhook with the button, and the bot's first message, posted the
way Telegram posts it, appears in the inbox. Screenshots at 1440 and 390 px, no sideways
scroll on the phone."""

import os
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from bench.fake_telegram import FakeTelegram
from tests import factories
from tests.browser.test_sign_in import sign_in
from tests.browser.world import DESKTOP, PHONE
from tests.telegram_world import HEADER, TOKEN, message_update

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("SCREENSHOTS", "/tmp/pawline-shots"))


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_an_owner_connects_a_bot_and_its_messages_reach_the_inbox(live_app, live_url, page,
                                                                 monkeypatch):
    with live_app.app_context():
        org = factories.org("Happy Paws")
    with FakeTelegram(TOKEN, username="happy_paws_bot") as fake:
        monkeypatch.setitem(live_app.config, "TELEGRAM_API_BASE", fake.base_url)
        page.set_viewport_size(DESKTOP)
        sign_in(page, live_url, org.owner_email)
        page.goto(f"{live_url}/settings/channels")
        page.locator("#channel-telegram").get_by_role("link", name="Set up").click()
        expect(page).to_have_url(f"{live_url}/settings/channels/telegram")
        page.get_by_label("Bot token").fill("not a token")
        page.get_by_role("button", name="Connect the bot").click()
        expect(page.get_by_text("That is not a bot token")).to_be_visible()

        page.get_by_label("Bot token").fill(TOKEN)
        page.get_by_role("button", name="Connect the bot").click()
        expect(page.get_by_text("@happy_paws_bot").first).to_be_visible()
        page.get_by_role("button", name="Register the webhook").click()
        expect(page.get_by_text("Webhook registered")).to_be_visible()
        assert TOKEN not in page.content()
        shoot(page, "telegram-settings-desktop")

        page.set_viewport_size(PHONE)
        page.reload()
        shoot(page, "telegram-settings-phone")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        hook = fake.webhook
        answer = requests.post(hook["url"], json=message_update(1, 777, "Hello from Telegram"),
                               headers={HEADER: hook["secret_token"]}, timeout=10)
        assert answer.status_code == 200
    page.goto(f"{live_url}/inbox")
    expect(page.get_by_text("Hello from Telegram").first).to_be_visible()
    page.get_by_role("link", name="Ada Lovelace").first.click()
    expect(page.locator(".msg .channel-mark.channel-telegram").first).to_be_visible()
    shoot(page, "telegram-thread-phone")
    page.goto(f"{live_url}/settings/channels")
    expect(page.locator("#channel-telegram")).to_contain_text("@happy_paws_bot")
