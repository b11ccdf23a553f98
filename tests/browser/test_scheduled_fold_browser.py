"""A thread's scheduled replies in a browser: on a phone, above the sticky composer, a long list
is folded into its count ("3 scheduled · 1 not sent") so the timeline keeps the room, and opens
on a tap; on a wide screen it is open. Both pass axe, folded and open, and a reader's choice
outlives the live refresh that takes a sent reply out of the list."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from pawline import accounts, scheduled
from pawline.clock import utcnow
from tests.browser.axe import violations, with_axe
from tests.browser.test_desk_browser import seed
from tests.browser.test_sign_in import sign_in
from tests.browser.world import DESKTOP, PHONE

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("SCREENSHOTS", "/tmp/pawline-shots"))


def plan(live_app):
    """Three replies the owner scheduled, and one of a colleague who left: not sent."""
    org = seed(live_app)
    with live_app.app_context():
        now = utcnow()
        scheduled.schedule_message(org.id, org.thread_id, "Walk at 9", now + timedelta(hours=1),
                                   org.staff_user_id, now)
        for hours, words in ((2, "Dinner at 6"), (3, "Meds at 8"), (4, "Bedtime story")):
            scheduled.schedule_message(org.id, org.thread_id, words,
                                       now + timedelta(hours=hours), org.owner_user_id, now)
        accounts.set_active(org.staff_email, False, org.owner_user_id)
        assert scheduled.send_due("console", now + timedelta(hours=1, minutes=1)) == 0
    org.now = now
    return org


def open_thread(browser, live_url, org, viewport):
    context = browser.new_context(viewport=viewport)
    with_axe(context)
    page = context.new_page()
    sign_in(page, live_url, org.owner_email)
    page.goto(f"{live_url}/threads/{org.thread_id}")
    page.wait_for_load_state("load")
    return context, page


def test_on_a_wide_screen_the_scheduled_list_is_open(live_app, live_url, browser):
    org = plan(live_app)
    context, page = open_thread(browser, live_url, org, DESKTOP)
    try:
        expect(page.locator("#scheduled-fold > summary")).to_have_text("3 scheduled · 1 not sent")
        items = page.locator(".scheduled-item")
        expect(items).to_have_count(4)
        for n in range(4):
            expect(items.nth(n)).to_be_visible()
        expect(items.first).to_contain_text("Not sent: staff")
        page.screenshot(path=str(SHOTS / "desk-scheduled-list-1440.png"))
        assert violations(page) == []
    finally:
        context.close()


def test_on_a_phone_a_long_scheduled_list_folds_into_its_count(live_app, live_url, browser):
    org = plan(live_app)
    context, page = open_thread(browser, live_url, org, PHONE)
    try:
        summary = page.locator("#scheduled-fold > summary")
        items = page.locator(".scheduled-item")
        expect(summary).to_have_text("3 scheduled · 1 not sent")
        expect(items.first).to_be_hidden()
        folded = page.locator("#scheduled").bounding_box()["height"]
        assert folded <= 60  # one line above the composer, whatever the list's length
        page.screenshot(path=str(SHOTS / "desk-scheduled-list-390-folded.png"))
        assert violations(page) == []

        summary.click()
        for n in range(4):
            expect(items.nth(n)).to_be_visible()
        assert page.locator("#scheduled").bounding_box()["height"] > 3 * folded
        page.screenshot(path=str(SHOTS / "desk-scheduled-list-390-open.png"), full_page=True)
        assert violations(page) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

        with live_app.app_context():  # the minute's sweep sends the first of the three
            assert scheduled.send_due("console", org.now + timedelta(hours=2, minutes=1)) == 1
        # the live poll (every 5 s) swaps the list in: still open, as the reader left it
        expect(summary).to_have_text("2 scheduled · 1 not sent", timeout=15_000)
        expect(items).to_have_count(3)
        expect(page.locator("#scheduled-fold")).to_have_attribute("open", "")
        summary.click()
        expect(items.first).to_be_hidden()
    finally:
        context.close()
