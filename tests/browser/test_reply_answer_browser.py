"""A reply joins the end of the timeline without the pane being drawn again
(blueprints/inbox_send.py): replies in a row each show once, through the live refresh too; the
reply box, its token, its counter and its photos start afresh each time; the rest of the pane
stays as the reader left it."""

import pytest
from playwright.sync_api import expect

from tests import photos
from tests.browser.test_inbox_breakages import seed_thread
from tests.browser.test_sign_in import sign_in
from tests.browser.world import DESKTOP, PHONE

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_replies_in_a_row_each_show_once_and_the_box_starts_afresh(
        live_app, live_url, page, tmp_path, viewport):
    page.set_viewport_size(viewport)
    org, thread_id = seed_thread(live_app, messages=3)
    sign_in(page, live_url, org.staff_email)
    page.goto(f"{live_url}/threads/{thread_id}")
    page.evaluate("window.stillSamePage = true")
    route = page.locator("#route-hint").inner_text()
    page.locator("summary", has_text="Why this line").first.click()  # the reader's own state

    photo = tmp_path / "rex.jpg"
    photo.write_bytes(photos.gps_jpeg(800, 600))
    page.set_input_files("#reply-photos", str(photo))
    expect(page.locator("#reply-previews img")).to_be_visible()
    page.get_by_label("Reply").fill("Rex ate well")
    page.get_by_role("button", name="Send").click()
    outbound = page.locator("li.msg.outbound")
    expect(outbound.locator(".bubble")).to_have_text(["Rex ate well"])
    expect(outbound.locator("a.thumb img")).to_have_count(1)
    expect(page.locator("#reply-previews")).to_be_hidden()  # the photo left the picker
    assert page.locator("#reply-photos").evaluate("input => input.files.length") == 0

    reply = page.get_by_label("Reply")
    expect(reply).to_have_value("")
    expect(reply).to_be_focused()
    reply.fill("And slept all afternoon")
    reply.press("Control+Enter")  # a second reply: a fresh token, so it is not taken as the first
    expect(outbound.locator(".bubble")).to_have_text(["Rex ate well", "And slept all afternoon"])
    expect(reply).to_have_value("")
    counter = page.locator("#reply-body-sms-length")
    expect(counter).to_have_count(1)  # one counter, kept under the fresh box
    expect(counter).to_have_text("")
    reply.fill("Hi")  # and it counts the fresh box
    expect(counter).to_have_text("2 / 160 · 1 SMS")

    # the live refresh draws the timeline again: still each reply once, newest in view
    with page.expect_response(lambda r: "/poll" in r.url and r.status == 200, timeout=15_000):
        pass
    expect(outbound.locator(".bubble")).to_have_text(["Rex ate well", "And slept all afternoon"])
    expect(outbound.last).to_be_in_viewport()
    # the rest of the pane is the one the reader had: the same sentence, their open summary
    assert page.locator("#route-hint").inner_text() == route
    expect(page.locator(".route-why")).to_have_attribute("open", "")
    assert page.evaluate("window.stillSamePage") is True
    assert page.evaluate("document.querySelectorAll('[id]').length === "
                         "new Set([...document.querySelectorAll('[id]')].map(e => e.id)).size")
