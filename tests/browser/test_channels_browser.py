"""Channels as staff and owners see them: the marks and picker in a thread, the channel list."""

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from pawline import channel_accounts, channels
from pawline.db import db
from pawline.inbound import receive_sms
from pawline.models import Thread
from tests import factories
from tests.browser.axe import violations, with_axe
from tests.browser.test_sign_in import sign_in
from tests.browser.world import DESKTOP, PHONE

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("SCREENSHOTS", "/tmp/pawline-shots"))
POOL, ADA = "+14155550101", "+14155552671"


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def seed(app):
    """Ada texts, then writes on WhatsApp and on Telegram: one thread, three channels."""
    with app.app_context():
        org = factories.org("Happy Paws")
        factories.number(org.id, POOL)
        receive_sms(POOL, ADA, "Is Biscuit okay?", "SMch1")
        receive_sms(f"whatsapp:{POOL}", f"whatsapp:{ADA}", "Sending a WhatsApp too", "SMch2",
                    now=datetime.now(UTC))
        channels.link_phone(org.id, "telegram", "5550001", ADA)
        channel_accounts.save(org.id, "telegram", "777000111", "Happy Paws bot", secret="1:x")
        channels.receive(org.id, "telegram", "5550001", "And on Telegram!", provider="telegram",
                         provider_sid="777000111:1", to_address="777000111")
        thread_id = db.session.scalar(sa.select(Thread.id))
    return org, thread_id


def scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_thread_shows_each_channel_and_replies_on_the_one_picked(live_app, live_url, page,
                                                                   size):
    org, thread_id = seed(live_app)
    with_axe(page.context)
    page.set_viewport_size(size)
    sign_in(page, live_url, org.staff_email)
    page.goto(f"{live_url}/threads/{thread_id}")
    assert violations(page) == []

    timeline = page.locator("#timeline")
    for name in ("SMS", "WhatsApp", "Telegram"):
        expect(timeline.locator(".channel-mark", has_text=name).first).to_be_visible()
    picker = page.get_by_label("Reply on")
    expect(picker).to_have_value("telegram")
    shoot(page, f"channels-thread-{size['width']}")
    assert scroll_width(page) <= size["width"]

    picker.select_option("sms")
    page.get_by_label("Reply", exact=True).fill("Biscuit is fine!")
    page.get_by_role("button", name="Send").click()
    sent = page.locator(".msg.outbound").last
    expect(sent).to_contain_text("Biscuit is fine!")
    expect(sent.locator(".channel-mark")).to_have_text("on SMS")
    shoot(page, f"channels-replied-{size['width']}")


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_owners_see_their_channels(live_app, live_url, page, size):
    org, _ = seed(live_app)
    with_axe(page.context)
    page.set_viewport_size(size)
    sign_in(page, live_url, org.owner_email)
    page.goto(f"{live_url}/settings/channels")
    assert violations(page) == []

    expect(page.get_by_role("heading", name="Channels", exact=True)).to_be_visible()
    expect(page.locator("#channel-telegram")).to_contain_text("Happy Paws bot")
    expect(page.locator("#channel-messenger")).to_contain_text("Not set up")
    shoot(page, f"channels-settings-{size['width']}")
    assert scroll_width(page) <= size["width"]
