import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from pawline.db import db
from pawline.inbound import receive_sms
from pawline.models import Thread
from tests import factories
from tests.browser.test_sign_in import sign_in
from tests.jobs import work_off

pytestmark = pytest.mark.browser


def test_staff_answers_a_thread_and_a_closed_thread_comes_back_on_inbound(
        live_app, live_url, page):
    with live_app.app_context():
        org = factories.org("Happy Paws")
        factories.number(org.id, "+14155550101", "pool")
        receive_sms("+14155550101", "+14155552671", "Is Rex okay?", "SMbrowser1")
        thread_id = db.session.scalar(sa.select(Thread.id))
    sign_in(page, live_url, org.staff_email)
    page.get_by_role("link", name="(415) 555-2671").click()
    expect(page.locator(".bubble", has_text="Is Rex okay?")).to_be_visible()

    page.evaluate("window.stillSamePage = true")
    page.get_by_label("Reply").fill("Rex is having a great time!")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".msg.outbound .bubble")).to_have_text("Rex is having a great time!")
    expect(page.get_by_label("Reply")).to_have_value("")
    assert page.evaluate("window.stillSamePage") is True  # swapped in, no page load
    status = page.locator(".msg.outbound .meta .badge")
    expect(status).to_have_text("queued")  # the request answers at once; a worker sends it
    work_off(live_app)
    expect(status).to_have_text("sent", timeout=15_000)  # the thread's live refresh shows it

    page.get_by_role("button", name="Close").click()
    # the only open conversation was closed: the pane says so, with an Undo
    expect(page.locator("#undo-notice")).to_contain_text("Closed (415) 555-2671")
    expect(page.locator("#thread-list")).not_to_contain_text("(415) 555-2671")

    with live_app.app_context():
        receive_sms("+14155550101", "+14155552671", "One more thing!", "SMbrowser2")
    # The list refreshes itself (polling) and the thread is back under Open.
    expect(page.locator("#thread-list")).to_contain_text("One more thing!", timeout=15_000)
    page.get_by_role("link", name="Open").click()
    expect(page.locator("#thread-list")).to_contain_text("(415) 555-2671")
    page.goto(f"{live_url}/threads/{thread_id}")
    expect(page.get_by_text("The client wrote again; the conversation is open again.")) \
        .to_be_visible()
    page.screenshot(path="/tmp/browser_thread.png", full_page=True)
