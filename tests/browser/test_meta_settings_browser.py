"""Messenger in the browser: the owner connects the Facebook page (a mistake is explained beside
its field, the token is never shown again), and staff answer a Messenger message from the inbox."""

import json
import os
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from bench.fake_meta import FakeMeta
from pawline import channel_accounts
from tests import factories
from tests.browser.test_sign_in import sign_in
from tests.jobs import work_off
from tests.meta_signing import delivery_of, message, signature

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("SCREENSHOTS", "/tmp/pawline-shots"))
PAGE, TOKEN = "104729381927364", "EAAGsecretPageToken123"
PSID = "6873450192837465"


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


def test_a_messenger_message_is_answered_from_the_inbox_and_sent_by_meta(live_app, live_url,
                                                                         page, monkeypatch):
    """The whole way: Meta's signed webhook over HTTP, the staff reply in the browser, a real
    worker handing it to the fake Graph API, and the bubble turning `sent`."""
    with FakeMeta({TOKEN: PAGE}) as graph:
        monkeypatch.setitem(live_app.config, "META_GRAPH_BASE", graph.base_url)
        with live_app.app_context():
            org = factories.org("Happy Paws")
            channel_accounts.save(org.id, "messenger", PAGE, "Happy Paws", secret=TOKEN)
        body = json.dumps(delivery_of(PAGE, message(PSID, PAGE, "Can you walk Rex at 5?")))
        answer = requests.post(f"{live_url}/webhooks/meta", data=body.encode(), timeout=10,
                               headers={"X-Hub-Signature-256": signature(body.encode()),
                                        "Content-Type": "application/json"})
        assert answer.status_code == 200

        page.set_viewport_size({"width": 1440, "height": 900})
        sign_in(page, live_url, org.staff_email)
        page.locator("#thread-list a", has_text="Can you walk Rex at 5?").click()
        inbound = page.locator(".msg.inbound", has_text="Can you walk Rex at 5?")
        expect(inbound.locator(".channel-mark")).to_contain_text("Messenger")
        page.get_by_label("Reply").fill("Yes, see you at 5!")
        page.get_by_role("button", name="Send").click()
        status = page.locator(".msg.outbound .meta .badge")
        expect(status).to_have_text("queued")
        work_off(live_app)
        expect(status).to_have_text("sent", timeout=15_000)
        assert [(m.page_id, m.recipient_id, m.text) for m in graph.messages] == [
            (PAGE, PSID, "Yes, see you at 5!")]
        page.screenshot(path=str(SHOTS / "meta-thread-1440.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(SHOTS / "meta-thread-390.png"), full_page=True)
