"""Issue 14's breakages of the inbox, each driven in headless Chromium."""

import os
import re
from datetime import datetime, timedelta
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


def bubble(page, n: int):
    return page.locator(".bubble").get_by_text(f"Is Rex okay? #{n}", exact=True)


def test_message_anyone_opens_the_new_thread_inside_the_inbox(live_app, live_url, page):
    org, _ = seed_thread(live_app)
    sign_in(page, live_url, org.staff_email)
    expect(page).to_have_url(f"{live_url}/inbox")
    page.wait_for_load_state("load")  # app.js (deferred) opens the dialog
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
    expect(page).to_have_title(re.compile(r"^\(415\) 555-0199 "))
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
    page.get_by_label("Search by name, phone or note").press_sequentially("2672", delay=40)
    expect(rows).to_have_count(1)  # no Enter: it filters as the user types
    expect(rows.first).to_contain_text("Is Tom okay?")
    expect(page).to_have_url(re.compile(r"q=2672"))

    page.get_by_label("Search by name, phone or note").fill("2671")
    page.get_by_label("Search by name, phone or note").press("Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Is Rex okay?")
    expect(page.get_by_label("Search by name, phone or note")).to_have_value("2671")


@pytest.mark.parametrize("how", ["click", "goto"])
def test_a_thread_on_a_phone_opens_at_its_newest_message(live_app, live_url, page, how):
    org, thread_id = seed_thread(live_app, messages=30)
    page.set_viewport_size(PHONE)
    sign_in(page, live_url, org.staff_email)
    if how == "click":
        page.get_by_role("link", name="(415) 555-2671").click()
    else:
        page.goto(f"{live_url}/threads/{thread_id}")
    expect(bubble(page, 30)).to_be_in_viewport()
    expect(page.get_by_label("Reply")).to_be_in_viewport()
    expect(bubble(page, 1)).not_to_be_in_viewport()
    page.mouse.wheel(0, -3000)  # reading history, the reply box stays at hand
    expect(bubble(page, 30)).not_to_be_in_viewport()
    expect(page.get_by_label("Reply")).to_be_in_viewport()
    page.screenshot(path=str(SHOTS / f"thread-phone-{how}.png"))


@pytest.mark.parametrize("viewport", [{"width": 1440, "height": 900}, PHONE],
                         ids=["desktop", "phone"])
def test_the_snooze_menu_fits_the_screen(live_app, live_url, page, viewport):
    org, thread_id = seed_thread(live_app, messages=3)
    page.set_viewport_size(viewport)
    sign_in(page, live_url, org.staff_email)
    page.goto(f"{live_url}/threads/{thread_id}")
    page.locator("summary", has_text="Snooze").click()
    menu = page.locator(".menu-body", has_text="Snooze until")
    expect(page.get_by_label("Pick a time")).to_be_in_viewport()
    box = menu.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
    assert box["y"] + box["height"] <= viewport["height"]
    page.get_by_label("Pick a time").check()
    later = (datetime.now() + timedelta(days=3)).strftime("%Y-%m-%dT09:30")
    page.get_by_label("Time", exact=True).fill(later)
    page.screenshot(path=str(SHOTS / f"snooze-{viewport['width']}.png"))
    menu.get_by_role("button", name="Snooze").click()
    expect(page.locator("#undo-notice")).to_contain_text("Snoozed (415) 555-2671 until")


@pytest.mark.parametrize("viewport", [{"width": 1440, "height": 900}, PHONE],
                         ids=["desktop", "phone"])
def test_live_refresh_keeps_the_readers_place_and_what_they_opened(
        live_app, live_url, page, viewport):
    # 60 messages and an answer: more than a timeline shows, so a new one drops the oldest.
    org, thread_id = seed_thread(live_app, messages=60)
    page.set_viewport_size(viewport)
    sign_in(page, live_url, org.staff_email)
    page.goto(f"{live_url}/threads/{thread_id}")
    page.get_by_label("Reply").fill("On it")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".msg.outbound .bubble")).to_have_text("On it")
    page.locator("#timeline summary", has_text="Why this line").click()
    page.get_by_label("Reply").fill("A draft in progress")
    page.locator("#timeline").evaluate("t => { t.scrollTop = 0; window.scrollTo(0, 0); }")
    expect(bubble(page, 14)).to_be_in_viewport()

    with live_app.app_context():
        receive_sms("+14155550101", "+14155552671", "Brand new news", "SMnew")
    pill = page.get_by_role("button", name="1 new message ↓")
    expect(pill).to_be_visible(timeout=15_000)
    # The list's own refresh (every 10 s) must not move the thread either.
    if viewport != PHONE:
        expect(page.locator("#thread-list")).to_contain_text("Brand new news", timeout=15_000)
    expect(bubble(page, 12)).to_have_count(0)  # dropped off the top of the timeline
    expect(bubble(page, 14)).to_be_in_viewport()
    expect(page.locator(".bubble", has_text="Brand new news")).not_to_be_in_viewport()
    expect(page.locator("#timeline li.msg details[open]")).to_have_count(1)
    expect(page.get_by_label("Reply")).to_have_value("A draft in progress")
    shoot(page, f"live-refresh-pill-{viewport['width']}")
    page.screenshot(path=str(SHOTS / f"live-refresh-pill-{viewport['width']}-view.png"))

    pill.click()
    expect(page.locator(".bubble", has_text="Brand new news")).to_be_in_viewport()
    expect(pill).to_be_hidden()
