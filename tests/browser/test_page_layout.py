"""What the screenshot review of every page at 390 and 1440 px found wrong, held in place: no
word or phone number breaks across lines, badges stay pills, tables become cards on a phone,
every field looks like a field, and cards keep their distance."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_sign_in import sign_in
from tests.browser.world import DESKTOP, PHONE, seed_world

pytestmark = pytest.mark.browser

# Words (and phones as the app writes them) in <main> that a line break cuts in two, and badges
# stretched taller than a one-line pill. A word longer than 30 characters (a URL) may wrap, and
# a line may break at a hyphen.
BROKEN = r"""() => {
  const found = [];
  const token = /\(\d{3}\) \d{3}-\d{4}|[A-Za-z0-9]{2,30}/g;
  const walker = document.createTreeWalker(document.querySelector("main"), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.parentElement.checkVisibility()) continue;
    for (const match of node.data.matchAll(token)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const tops = new Set([...range.getClientRects()].filter(r => r.width)
                           .map(r => Math.round(r.top)));
      if (tops.size > 1) found.push(`"${match[0]}" on ${tops.size} lines`);
    }
  }
  for (const badge of document.querySelectorAll("main .badge")) {
    if (getComputedStyle(badge).whiteSpace !== "nowrap") continue;  // a sitter's window may wrap
    const box = badge.getBoundingClientRect();
    const name = badge.textContent.trim();
    if (box.height > 30) found.push(`badge "${name}" ${Math.round(box.height)} px tall`);
  }
  return found;
}"""


def broken_words(page) -> list[str]:
    page.wait_for_load_state("load")
    return page.evaluate(BROKEN)


def test_no_word_phone_or_badge_breaks_on_any_page_at_either_width(live_app, live_url, browser):
    world = seed_world(live_app)
    pages = ["/inbox", f"/threads/{world.thread}", f"/threads/{world.guest_thread}", "/numbers",
             "/sitters", "/bookings", "/clients", f"/clients/{world.client}", "/audit"]
    found = {}
    for viewport in (PHONE, DESKTOP):
        for email, paths in ((world.org.owner_email, pages), (world.org.sitter_email, ["/me"])):
            context = browser.new_context(viewport=viewport)
            page = context.new_page()
            sign_in(page, live_url, email)
            page.wait_for_url(lambda url: "/sign-in" not in url)
            for path in paths:
                page.goto(f"{live_url}{path}")
                if broken := broken_words(page):
                    found[f"{viewport['width']} {path}"] = broken
            context.close()
    assert not found, "\n".join(f"{where}: {', '.join(b)}" for where, b in found.items())


@pytest.mark.parametrize("path", ["/bookings", "/sitters", "/me"])
def test_tables_become_labelled_cards_on_a_phone(live_app, live_url, page, path):
    world = seed_world(live_app)
    page.set_viewport_size(PHONE)
    sign_in(page, live_url, world.org.sitter_email if path == "/me" else world.org.owner_email)
    page.wait_for_url(lambda url: "/sign-in" not in url)
    page.goto(f"{live_url}{path}")
    table = page.locator("main table.list").first
    expect(table.locator("thead")).to_be_hidden()
    labels = table.locator("tbody td[data-label]").evaluate_all(
        "cells => cells.map(td => getComputedStyle(td, '::before').content)")
    assert labels and all(label not in ("none", "normal", "") for label in labels)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_the_hours_field_is_styled_like_every_other_field(live_app, live_url, page):
    world = seed_world(live_app)
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_url, world.org.owner_email)
    page.goto(f"{live_url}/settings/booking-messages")
    hours = page.get_by_label("Hours before the start")
    looks = hours.evaluate("el => [getComputedStyle(el).borderRadius, el.offsetHeight]")
    text_box = page.get_by_role("textbox", name="Confirmation").evaluate(
        "el => getComputedStyle(el).borderRadius")
    assert looks[0] == text_box == "8px" and looks[1] >= 36


def test_the_meta_settings_cards_keep_their_distance(live_app, live_url, page):
    world = seed_world(live_app)
    sign_in(page, live_url, world.org.owner_email)
    page.goto(f"{live_url}/settings/channels/messenger")
    first, second = (page.locator("main section.card").nth(i).bounding_box() for i in (0, 1))
    assert second["y"] - (first["y"] + first["height"]) >= 8


def test_a_numbers_row_keeps_its_class_and_its_actions_on_one_line_on_a_wide_screen(
        live_app, live_url, page):
    world = seed_world(live_app)
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_url, world.org.owner_email)
    page.goto(f"{live_url}/numbers")
    front = page.locator("#numbers-table tbody tr").filter(has_text="Front desk").first
    cell = front.locator('td[data-label="Class"]')
    lines = cell.evaluate("td => { const r = document.createRange(); r.selectNodeContents(td);"
                          " const tops = [...r.getClientRects()].map(b => Math.round(b.top));"
                          " return new Set(tops).size }")
    assert lines == 1
    pool = page.locator("#numbers-table tbody tr").filter(
        has=page.get_by_role("button", name="Make front desk")).first
    tops = {round(pool.get_by_role("button", name=n).bounding_box()["y"])
            for n in ("Quarantine", "Make front desk")}
    assert len(tops) == 1
