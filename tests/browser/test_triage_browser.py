"""Triage as staff see it: unread rows in bold, and tab counts that follow a close."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_sign_in import sign_in
from tests.browser.world import DESKTOP, seed_world

pytestmark = pytest.mark.browser
WEIGHT = "(el) => Number(getComputedStyle(el).fontWeight)"


def test_unread_rows_are_bold_and_the_counts_follow_a_close(live_app, live_url, page):
    page.set_viewport_size(DESKTOP)
    world = seed_world(live_app)
    sign_in(page, live_url, world.org.staff_email)
    page.wait_for_load_state("load")  # the stylesheets, before reading computed weights
    unread = page.locator(f'#thread-list a[href="/threads/{world.guest_thread}"]')
    read = page.locator(f'#thread-list a[href="/threads/{world.thread}"]')  # answered
    assert unread.locator(".name").evaluate(WEIGHT) >= 700
    assert read.locator(".name").evaluate(WEIGHT) <= 500
    assert unread.locator(".preview").evaluate(WEIGHT) > read.locator(".preview").evaluate(WEIGHT)
    tabs = page.get_by_role("navigation", name="Thread status")
    expect(tabs.get_by_role("link", name="Open 2 conversations")).to_be_visible()
    expect(tabs.get_by_role("link", name="Closed 1 conversation")).to_be_visible()

    unread.click()
    page.get_by_role("button", name="Close").click()
    expect(tabs.get_by_role("link", name="Open 1 conversation")).to_be_visible()
    expect(tabs.get_by_role("link", name="Closed 2 conversations")).to_be_visible()
    assert read.locator(".name").evaluate(WEIGHT) <= 500
