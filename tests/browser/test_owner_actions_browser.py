"""Owner actions ask before they act, and a changed name shows at once in the header."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from pawline import bookings, sitters
from pawline.clock import utcnow
from tests import factories
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def world(app):
    with app.app_context():
        org = factories.org("Happy Paws")
        factories.number(org.id, "+14155550100", "front_desk")
        org.pool = factories.number(org.id, "+14155550101", "pool")
        factories.number(org.id, "+14155550110", "sitter")  # Sam's, on activation
        sam = sitters.create_sitter(org.id, "Sam", "+14155553001")
        sitters.activate_sitter(org.id, sam.id, None)
        ada = factories.client(org.id, "Ada", "+14155552671")
        now = utcnow()
        org.booking = bookings.create_booking(org.id, ada, sam.id, now - timedelta(hours=1),
                                              now + timedelta(hours=2)).id
        bookings.confirm_booking(org.id, org.booking)
        return org


@pytest.mark.parametrize("size", [None, PHONE], ids=["desktop", "phone"])
def test_make_front_desk_asks_and_cancel_changes_nothing(live_app, live_url, page, size):
    org = world(live_app)
    if size:
        page.set_viewport_size(size)
    sign_in(page, live_url, org.owner_email)
    page.goto(f"{live_url}/numbers")
    row = page.locator(f"#number-{org.pool}")
    row.get_by_role("button", name="Make front desk").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Make Pool 0101 the front desk?")
    expect(dialog).to_contain_text("stops being the front desk and joins the pool")
    page.screenshot(path=f"/tmp/people-front-desk-{'phone' if size else 'desktop'}.png")
    dialog.get_by_role("button", name="Cancel").click()
    expect(row).to_contain_text("Pool")
    expect(page.locator("#numbers-table")).to_contain_text("Front desk (415) 555-0100")

    row.get_by_role("button", name="Make front desk").click()
    page.get_by_role("dialog").get_by_role("button", name="Make front desk").click()
    expect(page.locator(".flash")).to_contain_text("is now the front desk")
    expect(page.locator(f"#number-{org.pool}")).to_contain_text("Front desk")


def test_cancelling_a_booking_under_way_asks_first(live_app, live_url, page):
    org = world(live_app)
    sign_in(page, live_url, org.staff_email)
    page.goto(f"{live_url}/bookings")
    page.get_by_role("button", name="Cancel booking").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("This booking is happening now.")
    dialog.get_by_role("button", name="Keep booking").click()
    expect(page.locator("table.bookings .badge").first).to_have_text("confirmed")

    page.get_by_role("button", name="Cancel booking").first.click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel booking").click()
    expect(page.locator(".flash")).to_contain_text("Booking cancelled.")
    expect(page.locator("table.bookings .badge").first).to_have_text("cancelled")


def test_a_new_display_name_shows_in_the_header_with_the_role(live_app, live_url, page):
    org = world(live_app)
    sign_in(page, live_url, org.staff_email)
    page.locator(".topbar .who").click()
    page.get_by_label("Display name").fill("Kim Lee")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".topbar .who")).to_contain_text("Kim Lee")
    expect(page.locator(".topbar .who")).to_contain_text("Staff")
