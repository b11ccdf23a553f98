"""'Sign out everywhere' in a real browser, CSRF on: the other browser's session ends too."""

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.browser


def test_sign_out_everywhere_ends_the_session_in_another_browser(live_app, live_url, browser,
                                                                  page):
    with live_app.app_context():
        org = factories.org("Happy Paws")
    elsewhere = browser.new_context()
    try:
        other = elsewhere.new_page()
        sign_in(other, live_url, org.staff_email)
        expect(other).to_have_url(f"{live_url}/inbox")
        sign_in(page, live_url, org.staff_email)
        expect(page).to_have_url(f"{live_url}/inbox")

        page.get_by_role("button", name="Sign out everywhere").click()

        expect(page).to_have_url(f"{live_url}/sign-in")
        expect(page.get_by_text("You are signed out everywhere")).to_be_visible()
        other.goto(f"{live_url}/clients")
        expect(other).to_have_url(f"{live_url}/sign-in?next=/clients")
    finally:
        elsewhere.close()
