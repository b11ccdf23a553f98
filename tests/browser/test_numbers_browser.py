from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.browser


def test_owner_quarantines_until_a_custom_date_then_restores_now_with_a_reason(
        live_app, live_url, page):
    with live_app.app_context():
        org = factories.org("Happy Paws")
        e164 = factories.phone()
        number_id = factories.number(org.id, e164)
        factories.number(org.id, factories.phone(), "front_desk")
    release = date.today() + timedelta(days=20)
    sign_in(page, live_url, org.owner_email)
    page.goto(f"{live_url}/numbers")
    row = page.locator(f"#number-{number_id}")

    row.get_by_role("button", name="Quarantine").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Release date")).to_be_hidden()
    expect(dialog.get_by_label("90 days")).to_be_checked()
    dialog.get_by_label("Custom date").check()
    dialog.get_by_label("Release date").fill(release.isoformat())
    dialog.get_by_label("Reason").fill("Client reported wrong-number texts")
    page.screenshot(path="/tmp/numbers-quarantine-dialog.png")
    dialog.get_by_role("button", name="Quarantine").click()

    expect(page.get_by_role("status")).to_contain_text("is quarantined")
    row = page.locator(f"#number-{number_id}")
    expect(row.locator("td").nth(2)).to_have_text("Quarantined")
    expect(row).to_contain_text(f"{release:%b} {release.day}, {release:%Y}")
    expect(row).to_contain_text("days left")
    page.screenshot(path="/tmp/numbers.png", full_page=True)

    row.get_by_role("button", name="Restore").click()
    dialog = page.get_by_role("dialog")
    restore_now = dialog.get_by_role("button", name="Restore now")
    expect(restore_now).to_be_disabled()
    dialog.get_by_label("Reason for restoring now").fill("Carrier confirmed it is ours")
    expect(restore_now).to_be_enabled()
    restore_now.click()

    expect(page.get_by_role("status")).to_contain_text("is active again")
    expect(page.locator(f"#number-{number_id} td").nth(2)).to_have_text("Active")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path="/tmp/numbers-phone.png", full_page=True)
    page.goto(f"{live_url}/audit")
    expect(page.get_by_text("Carrier confirmed it is ours")).to_be_visible()
    page.screenshot(path="/tmp/audit-phone.png", full_page=True)
