"""No page scrolls sideways on a phone, not even with one long unbroken string in it."""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from pawline import (
    assignment,
    bookings,
    channel_accounts,
    dead_letters,
    notes,
    saved_replies,
    scheduled,
    sitters,
)
from pawline.db import db
from pawline.inbound import receive_sms
from pawline.models import Thread
from tests import factories
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("SCREENSHOTS", "/tmp/pawline-shots"))
PHONE = {"width": 390, "height": 844}
LONG_URL = "https://example.com/" + "a" * 180 + "?x=1"
STAFF_PAGES = ["/inbox", "/threads/{thread}", "/clients", "/clients/{client}", "/numbers",
               "/sitters", "/bookings", "/audit", "/dead-letters", "/simulator",
               "/settings/help-reply", "/settings/after-hours", "/settings/booking-messages",
               "/settings/channels", "/settings/channels/telegram",
               "/settings/channels/messenger", "/settings/channels/instagram",
               "/settings/channels/webchat",
               "/profile", "/saved-replies",
               "/saved-replies/{saved_reply}", "/inbox?who=mine&tab=all", "/inbox/conversations",
               "/bookings/{booking}", "/sitters/{sitter}"]


def seed(app):
    now = datetime.now(UTC)
    with app.app_context():
        org = factories.org("Happy Paws")
        factories.number(org.id, "+14155550101", "pool")
        factories.number(org.id, "+14155550142", "sitter")
        sitter_id = sitters.create_sitter(org.id, "Sam Rivers", "+14155550100",
                                          email=org.sitter_email).id
        sitters.activate_sitter(org.id, sitter_id, None)
        receive_sms("+14155550101", "+14155552671", f"Look: {LONG_URL} ok?", "SMlong")
        receive_sms("+14155550101", "+14155552671", "W" * 120, "SMword")
        thread_id, client_id = db.session.execute(sa.select(Thread.id, Thread.client_id)).one()
        booking = bookings.create_booking(org.id, client_id, sitter_id,
                                          now - timedelta(hours=1), now + timedelta(hours=3))
        bookings.confirm_booking(org.id, booking.id)
        booking_id = booking.id
        dead_letters.record("twilio", "SMdead", {
            "To": ["+14155550101"], "From": ["NAMED-SENDER-" + "X" * 60], "Body": [LONG_URL]},
            "Malformed From: " + "Y" * 120)
        factories.client(org.id, "Maximilianus-Featherstonehaugh-Worthington", "+14155550123")
        channel_accounts.save(org.id, "messenger", "1" * 40, "Page-" + "P" * 95, secret="EAAG")
        db.session.commit()
        reply_id = saved_replies.create_saved_reply(
            org.id, "Directions-" + "Z" * 60, f"Hi {{client_first_name}}, see {LONG_URL}", None)
        notes.add_note(org.id, thread_id, org.staff_user_id, "Gate code " + "G" * 120)
        assignment.assign_thread(org.id, thread_id, org.owner_user_id, org.staff_user_id)
        scheduled.schedule_message(org.id, thread_id, "Later: " + "L" * 120, now + timedelta(
            days=1), org.staff_user_id)
    return org, {"thread": thread_id, "client": client_id, "saved_reply": reply_id,
                 "booking": booking_id, "sitter": sitter_id}


def scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_a_long_url_is_a_safe_link_and_widens_nothing(live_app, live_url, page):
    org, ids = seed(live_app)
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_url, org.owner_email)
    page.goto(f"{live_url}/threads/{ids['thread']}")
    link = page.get_by_role("link", name=LONG_URL)
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
    expect(link).to_have_attribute("href", LONG_URL)
    assert scroll_width(page) <= 1440
    expect(page.get_by_role("button", name="Close")).to_be_in_viewport()
    expect(page.locator("summary", has_text="Snooze")).to_be_in_viewport()
    page.screenshot(path=str(SHOTS / "long-url-desktop.png"))


def test_no_page_scrolls_sideways_on_a_phone(live_app, live_url, page):
    org, ids = seed(live_app)
    page.set_viewport_size(PHONE)
    sign_in(page, live_url, org.owner_email)
    page.goto(f"{live_url}/threads/{ids['thread']}")  # an answer, with its "Why this line"
    page.get_by_label("Reply").fill("On it: " + LONG_URL)
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".msg.outbound")).to_have_count(1)
    page.locator("#timeline summary", has_text="Why this line").click()
    assert scroll_width(page) <= PHONE["width"]
    wide = {}
    for path in STAFF_PAGES:
        url = path.format(**ids)
        page.goto(f"{live_url}{url}")
        page.wait_for_load_state("load")
        name = url.strip("/").replace("/", "-")
        page.screenshot(path=str(SHOTS / f"phone-{name}.png"), full_page=True)
        if scroll_width(page) > PHONE["width"]:
            wide[url] = scroll_width(page)
    page.context.clear_cookies()
    sign_in(page, live_url, org.sitter_email)
    expect(page).to_have_url(f"{live_url}/me")
    page.screenshot(path=str(SHOTS / "phone-me.png"), full_page=True)
    if scroll_width(page) > PHONE["width"]:
        wide["/me"] = scroll_width(page)
    with live_app.app_context():  # a sitter's own scheduled reply, within their booking
        scheduled.schedule_message(org.id, ids["thread"], "Sam: " + "S" * 120,
                                   datetime.now(UTC) + timedelta(hours=2), org.sitter_user_id)
    page.goto(f"{live_url}/threads/{ids['thread']}")  # the sitter's view, Send later open
    page.locator("summary", has_text="Send later").click()
    page.screenshot(path=str(SHOTS / "phone-sitter-thread.png"), full_page=True)
    if scroll_width(page) > PHONE["width"]:
        wide["sitter /threads"] = scroll_width(page)
    assert wide == {}
