"""Conversations inside a thread, in headless Chromium: earlier ones folded, one unfolded by a
reader stays unfolded through the live refresh, the Closed tab's list links to one, and
nothing scrolls sideways on a phone."""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from pawline import threads
from pawline.inbound import receive_sms
from pawline.outbound import queue_message
from tests import factories
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("SCREENSHOTS", "/tmp/pawline-shots"))
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
POOL, ADA = "+14155550101", "+14155552671"


def seed(app):
    """Ada's thread: two closed conversations, then a third still open."""
    start = datetime.now(UTC) - timedelta(days=3)
    with app.app_context():
        org = factories.org("Happy Paws")
        factories.number(org.id, POOL, "pool", label="Front desk line")
        thread_id = None
        for day, words in enumerate(["Can you walk Rex on Monday?", "Rex's lead broke",
                                     "Back from holiday"]):
            at = start + timedelta(days=day)
            thread_id = receive_sms(POOL, ADA, words, f"SMcb{day}", now=at).thread_id
            queue_message(org.id, thread_id, f"Answer {day}", org.staff_user_id, "console",
                          now=at + timedelta(minutes=7 * (day + 1)))
            if day < 2:
                threads.close_thread(org.id, thread_id, org.staff_user_id,
                                     now=at + timedelta(hours=day + 1))
    return org, thread_id


def width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_an_earlier_conversation_unfolds_and_stays_unfolded_through_a_refresh(
        live_app, live_url, page, viewport):
    org, thread_id = seed(live_app)
    page.set_viewport_size(viewport)
    sign_in(page, live_url, org.staff_email)
    page.goto(f"{live_url}/threads/{thread_id}")
    folds = page.locator("details.conversation-fold")
    expect(folds).to_have_count(3)
    expect(page.locator(".bubble", has_text="Back from holiday")).to_be_visible()
    expect(page.locator(".bubble", has_text="Can you walk Rex on Monday?")).to_be_hidden()
    first = folds.nth(0)
    expect(first.locator("summary.conversation-head")).to_contain_text("First reply: 7 min")
    expect(first.locator("summary.conversation-head")).to_contain_text("Closed after 1 h")
    first.locator("summary.conversation-head").click()
    expect(page.locator(".bubble", has_text="Can you walk Rex on Monday?")).to_be_visible()
    assert width(page) <= viewport["width"]
    shoot(page, f"conversations-thread-{viewport['width']}")

    with live_app.app_context():  # the live refresh swaps the timeline in
        receive_sms(POOL, ADA, "And one more thing", "SMcbnew")
    expect(page.locator(".bubble", has_text="And one more thing")).to_have_count(1,
                                                                                 timeout=15_000)
    expect(first).to_have_attribute("open", "")
    expect(page.locator(".bubble", has_text="Can you walk Rex on Monday?")).to_be_visible()
    expect(folds.nth(1)).not_to_have_attribute("open", "")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_closed_tabs_conversations_link_to_one_unfolded(live_app, live_url, page, viewport):
    org, thread_id = seed(live_app)
    page.set_viewport_size(viewport)
    sign_in(page, live_url, org.staff_email)
    page.goto(f"{live_url}/inbox?tab=closed")
    page.get_by_role("link", name="Conversations", exact=True).click()
    rows = page.locator(".conversation-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text("Can you walk Rex on Monday?")
    assert width(page) <= viewport["width"]
    shoot(page, f"conversations-closed-list-{viewport['width']}")
    rows.nth(1).locator("a").click()
    earliest = page.locator("details.conversation-fold").nth(0)
    expect(earliest).to_have_attribute("open", "")
    expect(page.locator(".bubble", has_text="Can you walk Rex on Monday?")).to_be_in_viewport()
    assert width(page) <= viewport["width"]
