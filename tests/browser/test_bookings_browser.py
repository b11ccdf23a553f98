"""The booking form in headless Chromium: its client picker searches instead of listing all."""

import pytest
from playwright.sync_api import expect

from pawline import bookings, sitters
from tests import factories
from tests.browser.test_clients_browser import shoot
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.browser


def test_staff_find_a_client_by_name_and_book_them(live_app, live_url, page):
    with live_app.app_context():
        org = factories.org("Happy Paws")
        for n in range(bookings.CLIENT_CHOICES + 5):
            factories.client(org.id, f"Aaron {n:03d}")
        factories.client(org.id, "Grace Hopper", "+14155550124")
        sitters.create_sitter(org.id, "Sam Sitter", "+14155550150")
    sign_in(page, live_url, org.staff_email)
    page.goto(f"{live_url}/bookings")
    page.get_by_role("button", name="Add a booking").click()
    client_select = page.get_by_label("Client", exact=True)
    expect(client_select.locator("option", has_text="Grace Hopper")).to_have_count(0)

    page.get_by_label("Find a client").fill("grace")
    expect(client_select.locator("option", has_text="Grace Hopper")).to_have_count(1)
    page.get_by_label("Client", exact=True).select_option(label="Grace Hopper · (415) 555-0124")
    page.get_by_label("Sitter").select_option(label="Sam Sitter")
    page.get_by_label("Starts").fill("2029-12-01T09:00")
    page.get_by_label("Ends").fill("2029-12-01T17:00")
    shoot(page, "booking-client-picker")
    page.get_by_role("button", name="Add booking").click()

    expect(page.get_by_text("Booking added.")).to_be_visible()
    expect(page.get_by_role("link", name="Grace Hopper")).to_be_visible()
