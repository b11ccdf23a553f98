"""The owner connects the Facebook page in the browser, on a desk and a phone: a mistake is
explained beside its field, and the token is never shown again."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from pawline import channel_accounts
from tests import factories
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("SCREENSHOTS", "/tmp/pawline-shots"))
PAGE, TOKEN = "104729381927364", "EAAGsecretPageToken123"


@pytest.mark.parametrize("size", [(1440, 900), (390, 844)], ids=["desk", "phone"])
def test_the_owner_connects_the_page_and_never_sees_the_token_again(live_app, live_url, page,
                                                                    size):
    with live_app.app_context():
        org = factories.org("Happy Paws")
    width, height = size
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, live_url, org.owner_email)
    page.goto(f"{live_url}/settings/channels/messenger")
    expect(page.get_by_role("heading", name="Messenger", exact=True)).to_be_visible()
    expect(page.get_by_text("Not connected")).to_be_visible()

    page.get_by_label("Facebook page id").fill("my page")
    page.get_by_label("Page access token").fill(TOKEN)
    page.get_by_role("button", name="Connect").click()
    expect(page.get_by_text("The id is digits only")).to_be_visible()
    expect(page.get_by_label("Page access token")).to_have_value("")
    page.screenshot(path=str(SHOTS / f"meta-settings-error-{width}.png"), full_page=True)

    page.get_by_label("Facebook page id").fill(PAGE)
    page.get_by_label("Name shown to staff").fill("Happy Paws Dog Walking and Pet Sitting")
    page.get_by_label("Page access token").fill(TOKEN)
    page.get_by_role("button", name="Connect").click()
    expect(page.get_by_text("Messenger is connected.")).to_be_visible()
    expect(page.get_by_text("Stored encrypted; it is never shown again.")).to_be_visible()
    assert TOKEN not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(SHOTS / f"meta-settings-{width}.png"), full_page=True)
    with live_app.app_context():
        assert channel_accounts.get(org.id, "messenger").secret == TOKEN
