"""The owner sets business hours and the after-hours reply in the browser, on a desk and a phone."""

import os
from datetime import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from pawline import after_hours
from tests import factories
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("SCREENSHOTS", "/tmp/pawline-shots"))


@pytest.mark.parametrize("size", [(1440, 900), (390, 844)], ids=["desk", "phone"])
def test_the_owner_sets_hours_and_sees_a_days_mistake(live_app, live_url, page, size):
    with live_app.app_context():
        org = factories.org("Happy Paws")
    width, height = size
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, live_url, org.owner_email)
    page.goto(f"{live_url}/numbers")
    page.get_by_role("link", name="your business hours").click()
    expect(page.get_by_role("heading", name="Business hours")).to_be_visible()

    page.get_by_label("Monday").fill("9:00-17:00")
    page.get_by_label("Tuesday").fill("17:00-9:00")
    page.get_by_label("Reply outside business hours").fill("Happy Paws: closed, back at 9.")
    page.get_by_role("button", name="Save hours").click()
    expect(page.get_by_text("Tuesday: opening must come before closing")).to_be_visible()
    page.screenshot(path=str(SHOTS / f"after-hours-error-{width}.png"), full_page=True)

    page.get_by_label("Tuesday").fill("9am-5pm")
    page.get_by_role("button", name="Save hours").click()
    expect(page.get_by_text("Business hours and the after-hours reply are saved.")).to_be_visible()
    expect(page.get_by_label("Tuesday")).to_have_value("09:00-17:00")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(SHOTS / f"after-hours-{width}.png"), full_page=True)
    with live_app.app_context():
        assert after_hours.hours(org.id) == {0: (time(9), time(17)), 1: (time(9), time(17))}
