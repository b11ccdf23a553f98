"""A client who texted STOP, as staff meet it in the browser: "opted out" where they look, and a
reply refused with the day in the form. The owner writes the answer to HELP."""

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from pawline.db import db
from pawline.inbound import receive_sms
from pawline.models import Message, Thread
from tests import factories
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("SCREENSHOTS", "/tmp/pawline-shots"))
SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


def seed(app):
    with app.app_context():
        org = factories.org("Happy Paws")
        factories.number(org.id, "+14155550101", "pool")
        org.client_id = factories.client(org.id, "Ada Lovelace", "+14155552671")
        receive_sms("+14155550101", "+14155552671", "Is Rex okay?", "SMask")
        receive_sms("+14155550101", "+14155552671", "STOP", "SMstop")
        receive_sms("+14155550101", "+14155550123", "Hello!", "SMother")
        org.thread_id = db.session.scalar(sa.select(Thread.id).where(
            Thread.client_id == org.client_id))
        return org


@pytest.mark.parametrize("size", SIZES)
def test_staff_see_opted_out_and_a_reply_is_refused_with_the_day(live_app, live_url, page,
                                                                 size):
    org = seed(live_app)
    page.set_viewport_size(SIZES[size])
    sign_in(page, live_url, org.owner_email)

    page.goto(f"{live_url}/inbox")
    row = page.locator(".threads li", has_text="Ada Lovelace")
    expect(row.locator(".badge", has_text="opted out")).to_be_visible()
    page.screenshot(path=str(SHOTS / f"optout-inbox-{size}.png"), full_page=True)

    page.goto(f"{live_url}/threads/{org.thread_id}")
    expect(page.locator("#conversation header .badge", has_text="opted out")).to_be_visible()
    expect(page.get_by_text("texted STOP: opted out of all messages")).to_be_visible()
    page.get_by_label("Reply").fill("Rex is fine!")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert").filter(has_text="Ada Lovelace opted out on")).to_be_visible()
    page.screenshot(path=str(SHOTS / f"optout-thread-{size}.png"), full_page=True)
    with live_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
            Message.direction == "outbound")) == 0

    page.goto(f"{live_url}/clients/{org.client_id}")
    expect(page.locator("h1 .badge", has_text="opted out")).to_be_visible()
    page.screenshot(path=str(SHOTS / f"optout-client-{size}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]


def test_the_owner_writes_the_answer_to_help(live_app, live_url, page):
    org = seed(live_app)
    page.set_viewport_size(SIZES["desktop"])
    sign_in(page, live_url, org.owner_email)
    page.goto(f"{live_url}/numbers")
    page.get_by_role("link", name="your answer to HELP").click()

    answer = page.get_by_label("Answer to HELP and INFO")
    expect(answer).to_have_value("Happy Paws: this is our text line. Reply here and our team "
                                 "will answer. Reply STOP to opt out, START to opt back in.")
    answer.fill("Happy Paws pet sitting: call 415-555-0199 or reply here.")
    page.get_by_role("button", name="Save answer").click()

    expect(page.get_by_text("The answer to HELP is saved.")).to_be_visible()
    expect(answer).to_have_value("Happy Paws pet sitting: call 415-555-0199 or reply here.")
    page.screenshot(path=str(SHOTS / "optout-help-settings-desktop.png"), full_page=True)
