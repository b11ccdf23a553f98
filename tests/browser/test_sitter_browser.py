from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from pawline import bookings, sitters
from tests import factories
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.browser


def test_a_sitter_signs_in_and_sees_its_number(live_app, live_url, page):
    now = datetime.now(UTC)
    with live_app.app_context():
        org = factories.org("Happy Paws")
        factories.number(org.id, "+14155550142", "sitter")
        sitter_id = sitters.create_sitter(org.id, "Sam Rivers", "+14155550100",
                                          email=org.sitter_email).id
        sitters.activate_sitter(org.id, sitter_id, None)
        client_id = factories.client(org.id, "Ada Lovelace", factories.phone())
        booking = bookings.create_booking(org.id, client_id, sitter_id,
                                          now - timedelta(hours=1), now + timedelta(hours=3))
        bookings.confirm_booking(org.id, booking.id)
        later = factories.client(org.id, "Grace Hopper", factories.phone())
        bookings.create_booking(org.id, later, sitter_id, now + timedelta(days=1),
                                now + timedelta(days=1, hours=2))

    sign_in(page, live_url, org.sitter_email)

    expect(page).to_have_url(f"{live_url}/me")
    expect(page.get_by_text("(415) 555-0142")).to_be_visible()
    expect(page.get_by_role("link", name="Ada Lovelace")).to_be_visible()
    expect(page.get_by_role("link", name="Grace Hopper")).to_have_count(0)
    page.screenshot(path="/tmp/sitter.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path="/tmp/sitter-phone.png", full_page=True)


def test_staff_add_and_activate_a_sitter_in_the_browser(live_app, live_url, page):
    with live_app.app_context():
        org = factories.org("Happy Paws")
        factories.number(org.id, "+14155550177", "pool")
    sign_in(page, live_url, org.owner_email)
    page.goto(f"{live_url}/sitters")

    page.get_by_role("button", name="Add a sitter").click()
    page.get_by_label("Name").fill("Sam Rivers")
    page.get_by_label("Personal phone").fill("415 555 0100")
    page.get_by_role("button", name="Add sitter").click()
    expect(page.get_by_text("Sam Rivers added.")).to_be_visible()
    page.get_by_role("button", name="Activate").click()

    expect(page.get_by_text("active with the masked number (415) 555-0177")).to_be_visible()
    page.screenshot(path="/tmp/sitters.png", full_page=True)
    page.get_by_role("button", name="Deactivate").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("goes into quarantine for 90 days")
    dialog.get_by_role("button", name="Keep active").click()  # asking first changes nothing
    expect(dialog).to_be_hidden()
    page.reload()
    expect(page.locator(".badge", has_text="active").first).to_have_text("active")
    page.get_by_role("button", name="Deactivate").click()
    page.screenshot(path="/tmp/sitters-dialog.png")
    dialog.get_by_role("button", name="Deactivate").click()
    expect(page.get_by_text("is in quarantine for 90 days")).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path="/tmp/sitters-phone.png", full_page=True)
