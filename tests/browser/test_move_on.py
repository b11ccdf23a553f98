"""Close and Snooze move on to the next conversation and offer Undo."""

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from pawline.db import db
from pawline.inbound import receive_sms
from pawline.models import Thread
from tests import factories
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def three_threads(live_app):
    """Three guests who texted the front desk, newest last: Cara, then Bo, then Al on top."""
    with live_app.app_context():
        org = factories.org("Happy Paws")
        factories.number(org.id, "+14155550100", "front_desk")
        factories.number(org.id, "+14155550101", "pool")
        for n, phone in enumerate(("+14155557003", "+14155557002", "+14155557001")):
            receive_sms("+14155550100", phone, f"Hello {n}", f"SMmove{n}")
        org.threads = db.session.scalars(sa.select(Thread.id).order_by(Thread.id)).all()
        return org


@pytest.mark.parametrize("size", [None, PHONE])
def test_close_moves_on_to_the_next_conversation_and_undo_brings_it_back(
        live_app, live_url, page, size):
    org = three_threads(live_app)
    if size:
        page.set_viewport_size(size)
    sign_in(page, live_url, org.staff_email)
    page.goto(f"{live_url}/threads/{org.threads[2]}")  # the newest, at the top of the list
    expect(page.locator("#route-hint")).to_contain_text("Replying from Front desk")

    page.get_by_role("button", name="Close").click()
    notice = page.locator("#undo-notice")
    expect(notice).to_contain_text("Closed (415) 555-7001")
    expect(page).to_have_url(re.compile(rf"/threads/{org.threads[1]}$"))
    expect(page.locator(".bubble", has_text="Hello 1")).to_be_visible()
    if size:
        expect(notice).to_be_in_viewport()
    page.screenshot(path=f"/tmp/people-closed-{'phone' if size else 'desktop'}.png")

    notice.get_by_role("button", name="Undo").click()
    expect(page).to_have_url(re.compile(rf"/threads/{org.threads[2]}$"))
    expect(page.locator(".bubble", has_text="Hello 2")).to_be_visible()
    expect(page.locator("#conversation h2 .badge:not(.new)")).to_have_text("open")
    expect(page.locator("#undo-notice")).to_have_count(0)


def test_snooze_moves_on_and_undo_unsnoozes(live_app, live_url, page):
    org = three_threads(live_app)
    sign_in(page, live_url, org.staff_email)
    page.goto(f"{live_url}/threads/{org.threads[1]}")
    page.locator("summary", has_text="Snooze").click()
    page.locator(".menu-body").get_by_role("button", name="Snooze").click()
    expect(page.locator("#undo-notice")).to_contain_text("Snoozed (415) 555-7002 until")
    expect(page).to_have_url(re.compile(rf"/threads/{org.threads[0]}$"))
    page.get_by_role("button", name="Undo").click()
    expect(page.locator("#conversation h2 .badge:not(.new)")).to_have_text("open")
    expect(page.locator("#thread-list")).to_contain_text("(415) 555-7002")


def test_message_anyone_names_the_line_as_the_phone_is_typed(live_app, live_url, page):
    org = three_threads(live_app)
    sign_in(page, live_url, org.staff_email)
    page.locator("[data-open-dialog='new-message']").first.click()
    said = page.locator("#new-message-line")
    expect(said).to_contain_text("A new client sees Pool 0101")
    page.get_by_label("Phone number").press_sequentially("(415) 555-7001", delay=20)
    expect(said).to_contain_text("(415) 555-7001 will hear from Front desk")
    expect(page.get_by_label("Phone number")).to_be_focused()
