import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.browser


def test_staff_text_the_business_from_the_simulator_on_a_phone(live_app, live_url, page):
    with live_app.app_context():
        org = factories.org("Happy Paws")
        factories.number(org.id, "+14155550100")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_url, org.staff_email)
    page.goto(f"{live_url}/simulator")

    page.get_by_label("From phone").fill("nonsense")
    page.get_by_label("Message").fill("Is Rex ok?")
    page.get_by_role("button", name="Send as this phone").click()
    expect(page.get_by_text("is not a phone number")).to_be_visible()

    page.get_by_label("From phone").fill("(415) 555-0123")
    page.get_by_role("button", name="Send as this phone").click()

    expect(page.get_by_role("heading", name="Message received")).to_be_visible()
    expect(page.get_by_label("Message")).to_have_value("")
    page.screenshot(path="/tmp/simulator-phone.png", full_page=True)
    page.get_by_role("link", name="Open the conversation").click()
    expect(page).to_have_url(re.compile(r"/threads/\d+$"))
