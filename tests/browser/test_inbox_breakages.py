"""Issue 14's breakages of the inbox, each driven in headless Chromium."""

import os
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from pawline.db import db
from pawline.inbound import receive_sms
from pawline.models import Thread
from tests import factories
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("SCREENSHOTS", "/tmp/pawline-shots"))
PHONE = {"width": 390, "height": 844}


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def seed_thread(app, messages: int = 1, body: str = "Is Rex okay? #{n}"):
    """An org with a pool number and one guest thread of `messages` inbound messages."""
    with app.app_context():
        org = factories.org("Happy Paws")
        factories.number(org.id, "+14155550101", "pool")
        for n in range(1, messages + 1):
            receive_sms("+14155550101", "+14155552671", body.format(n=n), f"SMb{n}")
        thread_id = db.session.scalar(sa.select(Thread.id))
    return org, thread_id


def test_message_anyone_opens_the_new_thread_inside_the_inbox(live_app, live_url, page):
    org, _ = seed_thread(live_app)
    sign_in(page, live_url, org.staff_email)
    page.get_by_role("button", name="New", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Phone number").fill("(415) 555-0199")
    dialog.get_by_label("Message").fill("Hello from Happy Paws")
    dialog.get_by_role("button", name="Send").click()

    expect(page).to_have_url(re.compile(r"/threads/\d+$"))
    expect(page.locator(".msg.outbound .bubble")).to_have_text("Hello from Happy Paws")
    expect(page.locator("header.topbar")).to_have_count(1)
    expect(page.locator("main")).to_have_count(1)
    expect(page.locator("#thread-list")).to_have_count(1)
    expect(page.locator("#conversation")).to_have_count(1)
    expect(page).to_have_title(re.compile(r"^Guest \(\+14155550199\)"))
    expect(page.get_by_role("dialog")).to_have_count(0)
    shoot(page, "message-anyone-desktop")


def test_inbox_search_filters_while_typing_and_on_enter(live_app, live_url, page):
    with live_app.app_context():
        org = factories.org("Happy Paws")
        factories.number(org.id, "+14155550101", "pool")
        receive_sms("+14155550101", "+14155552671", "Is Rex okay?", "SMs1")
        receive_sms("+14155550101", "+14155552672", "Is Tom okay?", "SMs2")
    sign_in(page, live_url, org.staff_email)
    rows = page.locator("#thread-list .threads li")
    expect(rows).to_have_count(2)
    page.get_by_label("Search by name or phone").press_sequentially("2672", delay=40)
    expect(rows).to_have_count(1)  # no Enter: it filters as the user types
    expect(rows.first).to_contain_text("Is Tom okay?")
    expect(page).to_have_url(re.compile(r"q=2672"))

    page.get_by_label("Search by name or phone").fill("2671")
    page.get_by_label("Search by name or phone").press("Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Is Rex okay?")
    expect(page.get_by_label("Search by name or phone")).to_have_value("2671")
