"""On a phone (390 x 844): every tap target is at least 44 x 44 px, the navigation folds behind
an accessible Menu button, and the list page shows no empty "Pick a conversation" card."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_sign_in import sign_in
from tests.browser.world import PHONE, seed_world

pytestmark = pytest.mark.browser
MIN = 44
# Every control a finger may aim at. Skipped: what is not shown (zero size, hidden, inside a
# closed menu), the skip link (off-screen until focused), and a link inside a sentence (WCAG's
# inline exception: its line decides its height). A radio or checkbox, or a visually hidden
# input, is aimed at by its label.
SMALL_TARGETS = """(min) => {
  const controls = 'a[href], button, input:not([type=hidden]), select, textarea, summary, '
    + '[tabindex]:not([tabindex="-1"])';
  const small = [];
  for (const el of document.querySelectorAll(controls)) {
    const style = getComputedStyle(el);
    const choice = el.type === "radio" || el.type === "checkbox";
    // a hidden file input is aimed at by its label (the composer's camera button)
    const hidden = el.tagName === "INPUT" && el.classList.contains("visually-hidden");
    const label = el.closest("label") || (el.id && document.querySelector(`label[for="${el.id}"]`));
    const target = ((choice || hidden) && label) || el;
    const box = target.getBoundingClientRect();
    if (!box.width || !box.height || !target.checkVisibility({visibilityProperty: true})) continue;
    if (el.classList.contains("skip-link")) continue;
    const inline = el.tagName === "A" && style.display === "inline"
      && el.parentElement.textContent.trim() !== el.textContent.trim();
    if (inline) continue;
    if (box.width < min - 0.5 || box.height < min - 0.5) {
      const name = (target.textContent || el.getAttribute("aria-label") || el.name || "").trim();
      const size = `${Math.round(box.width)}x${Math.round(box.height)}`;
      small.push(`${el.tagName.toLowerCase()} "${name.slice(0, 30)}" ${size}`);
    }
  }
  return small;
}"""


def small_targets(page) -> list[str]:
    return page.evaluate(SMALL_TARGETS, MIN)


@pytest.fixture
def phone(page):
    page.set_viewport_size(PHONE)
    return page


def test_every_tap_target_is_at_least_44_px_on_a_phone(live_app, live_url, phone):
    world = seed_world(live_app)
    sign_in(phone, live_url, world.org.owner_email)
    pages = ["/inbox", "/inbox?tab=closed", "/inbox/conversations", f"/threads/{world.thread}",
             "/numbers", "/sitters", "/bookings", "/clients", f"/clients/{world.client}", "/audit"]
    found = {}
    for path in pages:
        phone.goto(f"{live_url}{path}")
        phone.wait_for_load_state("load")
        if small := small_targets(phone):
            found[path] = small
    phone.get_by_role("button", name="Menu").click()
    if small := small_targets(phone):
        found["menu"] = small
    phone.goto(f"{live_url}/threads/{world.thread}")
    phone.locator("summary", has_text="Snooze").click()
    if small := small_targets(phone):
        found["snooze menu"] = small
    phone.context.clear_cookies()
    sign_in(phone, live_url, world.org.sitter_email)
    expect(phone).to_have_url(f"{live_url}/me")
    phone.wait_for_load_state("load")  # the stylesheets, before measuring
    if small := small_targets(phone):
        found["/me"] = small
    assert not found, "\n".join(f"{where}: {', '.join(small)}" for where, small in found.items())


def test_the_navigation_folds_behind_a_menu_button_on_a_phone(live_app, live_url, phone):
    world = seed_world(live_app)
    sign_in(phone, live_url, world.org.staff_email)
    nav = phone.get_by_role("navigation", name="Main")
    toggle = phone.get_by_role("button", name="Menu")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_have_attribute("aria-controls", "site-menu")
    expect(nav).to_be_hidden()

    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="Clients")).to_be_visible()
    expect(phone.get_by_role("button", name="Sign out", exact=True)).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()

    toggle.press("Enter")  # a keyboard opens it too
    nav.get_by_role("link", name="Clients").click()
    expect(phone).to_have_url(f"{live_url}/clients")
    expect(phone.get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "false")


def test_a_wide_screen_shows_the_navigation_without_a_menu_button(live_app, live_url, page):
    world = seed_world(live_app)
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_url, world.org.staff_email)
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients")
           ).to_be_visible()
    expect(page.get_by_text("Pick a conversation")).to_be_visible()


def test_the_phone_list_page_has_no_empty_conversation_card(live_app, live_url, phone):
    world = seed_world(live_app)
    sign_in(phone, live_url, world.org.staff_email)
    expect(phone.locator(".threads li")).to_have_count(2)
    expect(phone.get_by_text("Pick a conversation")).to_be_hidden()
