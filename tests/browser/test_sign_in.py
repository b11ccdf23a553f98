import pytest
from playwright.sync_api import expect

from tests import factories

pytestmark = pytest.mark.browser


def sign_in(page, live_url, email):
    page.goto(f"{live_url}/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_staff_signs_in_and_sees_the_inbox_shell(live_app, live_url, page):
    with live_app.app_context():
        org = factories.org("Happy Paws")
    sign_in(page, live_url, org.staff_email)
    expect(page).to_have_url(f"{live_url}/inbox")
    nav = page.get_by_role("navigation", name="Main")
    for label in ("Inbox", "Clients", "Numbers", "Sitters", "Bookings", "Audit"):
        expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()


def test_a_sitter_sees_only_the_sitter_page(live_app, live_url, page):
    with live_app.app_context():
        org = factories.org("Happy Paws")
    sign_in(page, live_url, org.sitter_email)
    expect(page).to_have_url(f"{live_url}/me")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link")).to_have_count(1)
    expect(nav.get_by_role("link", name="My page")).to_be_visible()
    response = page.goto(f"{live_url}/inbox")
    assert response.status == 404
