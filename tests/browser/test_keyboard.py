"""Keyboard and focus: a skip link, Ctrl/Cmd+Enter sends, focus returns to the reply box after a
send and to the list after a close, Escape closes the Snooze menu, and the quarantine dialog
opens on its selected (90-day) option."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_inbox_breakages import seed_thread
from tests.browser.test_sign_in import sign_in
from tests.browser.world import DESKTOP, PHONE, seed_world

pytestmark = pytest.mark.browser


def focused(page) -> str:
    """The focused element, as tag#id or tag "text"."""
    return page.evaluate("""() => { const el = document.activeElement;
        return el.id ? `${el.tagName.toLowerCase()}#${el.id}`
                     : `${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 40)}"`; }""")


@pytest.fixture
def world(live_app, page):
    page.set_viewport_size(DESKTOP)
    return seed_world(live_app)


def test_the_first_tab_reaches_a_skip_link_to_the_content(live_url, page, world):
    sign_in(page, live_url, world.org.staff_email)
    page.goto(f"{live_url}/numbers")
    page.wait_for_load_state("load")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    assert focused(page) == "main#main"
    page.keyboard.press("Tab")  # the next stop is inside the page, past the navigation
    assert page.evaluate("document.getElementById('main').contains(document.activeElement)")


def test_ctrl_enter_sends_and_focus_stays_in_the_reply_box(live_url, page, world):
    sign_in(page, live_url, world.org.staff_email)
    page.goto(f"{live_url}/threads/{world.thread}")
    reply = page.get_by_label("Reply")
    reply.fill("On my way")
    reply.press("Control+Enter")
    expect(page.locator(".msg.outbound .bubble").last).to_have_text("On my way")
    expect(page.get_by_label("Reply")).to_be_focused()
    expect(page.get_by_label("Reply")).to_have_value("")
    page.get_by_label("Reply").fill("And Meta works too")
    page.get_by_label("Reply").press("Meta+Enter")
    expect(page.locator(".msg.outbound .bubble").last).to_have_text("And Meta works too")
    expect(page.get_by_label("Reply")).to_be_focused()


def test_a_send_by_button_also_returns_focus_to_the_reply_box(live_url, page, world):
    sign_in(page, live_url, world.org.staff_email)
    page.goto(f"{live_url}/threads/{world.thread}")
    page.get_by_label("Reply").fill("Back at 6")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".msg.outbound .bubble").last).to_have_text("Back at 6")
    expect(page.get_by_label("Reply")).to_be_focused()


def test_escape_closes_the_snooze_menu(live_url, page, world):
    sign_in(page, live_url, world.org.staff_email)
    page.goto(f"{live_url}/threads/{world.thread}")
    snooze = page.locator("summary", has_text="Snooze")
    snooze.click()
    sheet = page.get_by_role("group", name="Snooze until")
    expect(sheet).to_be_visible()
    sheet.get_by_label("Tomorrow 9 AM").focus()
    page.keyboard.press("Escape")
    expect(sheet).to_be_hidden()
    expect(snooze).to_be_focused()


def test_the_quarantine_dialog_opens_on_the_90_day_option(live_url, page, world):
    sign_in(page, live_url, world.org.owner_email)
    page.goto(f"{live_url}/numbers")
    page.wait_for_load_state("load")
    page.locator("[data-open-dialog^=quarantine-]").first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("90 days")).to_be_checked()
    expect(dialog.get_by_label("90 days")).to_be_focused()


def test_after_close_focus_goes_to_the_next_conversation_in_the_list(live_url, page, world):
    sign_in(page, live_url, world.org.staff_email)
    page.goto(f"{live_url}/threads/{world.guest_thread}")  # the newest, first in the list
    rows = page.locator("#thread-list .threads li > a")
    expect(rows).to_have_count(2)
    page.get_by_role("button", name="Close").click()
    expect(rows).to_have_count(1)  # the list refreshed without the closed thread
    expect(rows.first).to_be_focused()
    expect(rows.first).to_contain_text("Ada Lovelace")


def test_after_close_on_a_phone_focus_goes_to_the_thread_heading(live_url, page, world):
    page.set_viewport_size(PHONE)
    sign_in(page, live_url, world.org.staff_email)
    page.goto(f"{live_url}/threads/{world.guest_thread}")
    page.get_by_role("button", name="Close").click()
    # Close moves on to the next open conversation, with a notice to undo it
    expect(page.get_by_role("status")).to_contain_text("Closed")
    expect(page.locator("#conversation h2")).to_be_focused()


def test_a_live_refresh_of_the_list_keeps_focus_on_the_same_row(live_url, page, world):
    sign_in(page, live_url, world.org.staff_email)
    page.wait_for_load_state("load")
    row = page.locator(f'#thread-list a[href="/threads/{world.thread}"]')
    row.focus()
    with page.expect_response(lambda r: "/inbox" in r.url and r.request.method == "GET"):
        page.evaluate("htmx.trigger(document.body, 'threadsChanged')")
    expect(row).to_be_focused()


def test_an_action_in_the_numbers_panel_lands_focus_on_its_message(live_url, page, world):
    sign_in(page, live_url, world.org.owner_email)
    page.goto(f"{live_url}/numbers")
    page.get_by_label("Phone number").fill("(415) 555-0177")
    page.get_by_role("button", name="Add number").click()
    expect(page.get_by_role("status")).to_have_text("Added (415) 555-0177.")
    expect(page.get_by_role("status")).to_be_focused()


def test_on_a_phone_a_send_while_reading_history_shows_the_answer(live_app, live_url, page):
    page.set_viewport_size(PHONE)
    org, thread_id = seed_thread(live_app, messages=30)
    sign_in(page, live_url, org.staff_email)
    page.goto(f"{live_url}/threads/{thread_id}")
    page.wait_for_load_state("load")
    page.evaluate("window.scrollTo(0, 0)")  # reading old messages
    page.get_by_label("Reply").fill("Newest answer")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".msg.outbound .bubble")).to_have_text("Newest answer")
    expect(page.locator(".msg.outbound .bubble")).to_be_in_viewport()
    expect(page.get_by_label("Reply")).to_be_focused()
