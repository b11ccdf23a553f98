"""Screenshots of every page, as owner, staff and sitter, at 1440x900 and 390x844, for a person
to look at (not collected as a test: run `pytest tests/browser/shoot_pages.py -m browser`).
Each shot also records whether the page scrolls sideways. Folder: SHOTS (default
/tmp/shots-pages)."""

import os
from pathlib import Path

import pytest

from tests.browser.test_accessibility import open_menu, open_quarantine, send_to_a_bad_number
from tests.browser.test_sign_in import sign_in
from tests.browser.world import DESKTOP, PHONE, seed_world

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("SHOTS", "/tmp/shots-pages"))


def staff_pages(world):
    return [
        ("inbox", "/inbox", None), ("inbox-mine", "/inbox?who=mine", None),
        ("inbox-closed", "/inbox?tab=closed", None), ("inbox-snoozed", "/inbox?tab=snoozed", None),
        ("inbox-search-none", "/inbox?q=zebra", None),
        ("conversations", "/inbox/conversations", None),
        ("thread", f"/threads/{world.thread}", None),
        ("thread-guest", f"/threads/{world.guest_thread}", None),
        ("thread-snooze", f"/threads/{world.thread}",
         lambda page: page.locator("summary", has_text="Snooze").click()),
        ("thread-typing", f"/threads/{world.thread}",
         lambda page: page.get_by_label("Reply").fill("See you at 5 \N{DOG FACE}")),
        ("new-message", "/inbox", lambda page: page.get_by_role("button", name="New").click()),
        ("new-message-error", "/inbox", send_to_a_bad_number),
        ("menu-open", "/inbox", open_menu),
        ("clients", "/clients", None), ("client", f"/clients/{world.client}", None),
        ("bookings", "/bookings", None), ("sitters", "/sitters", None),
        ("numbers", "/numbers", None), ("audit", "/audit", None),
        ("dead-letters", "/dead-letters", None), ("simulator", "/simulator", None),
        ("saved-replies", "/saved-replies", None), ("profile", "/profile", None),
        ("error-404", "/no-such-page", None),
        ("error-400", f"/threads/{world.thread}?before=x", None),
    ]


def owner_pages(world):
    return staff_pages(world) + [
        ("numbers-quarantine", "/numbers", open_quarantine),
        ("help-reply", "/settings/help-reply", None),
        ("after-hours", "/settings/after-hours", None),
        ("booking-messages", "/settings/booking-messages", None),
        ("channels", "/settings/channels", None),
        ("telegram", "/settings/channels/telegram", None),
        ("messenger", "/settings/channels/messenger", None),
        ("instagram", "/settings/channels/instagram", None),
        ("webchat", "/settings/channels/webchat", None),
    ]


def sitter_pages(world):
    return [("me", "/me", None), ("profile", "/profile", None),
            ("thread", f"/threads/{world.thread}", None), ("error-404", "/inbox", None)]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_shoot_every_page(live_app, live_url, browser, viewport):
    SHOTS.mkdir(parents=True, exist_ok=True)
    world = seed_world(live_app)
    width, wide = viewport["width"], []
    for role, email, pages in (("owner", world.org.owner_email, owner_pages(world)),
                               ("staff", world.org.staff_email, staff_pages(world)),
                               ("sitter", world.org.sitter_email, sitter_pages(world))):
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        if role == "owner":
            page.goto(f"{live_url}/sign-in")
            page.screenshot(path=str(SHOTS / f"{width}-signed-out-sign-in.png"), full_page=True)
        sign_in(page, live_url, email)
        page.wait_for_url(lambda url: "/sign-in" not in url)
        for name, path, action in pages:
            page.goto(f"{live_url}{path}")
            page.wait_for_load_state("load")
            if action:
                action(page)
                page.wait_for_timeout(300)
            page.screenshot(path=str(SHOTS / f"{width}-{role}-{name}.png"), full_page=True)
            sideways = page.evaluate("document.documentElement.scrollWidth") - width
            if sideways > 0:
                wide.append(f"{role}-{name}: {sideways}px")
        context.close()
    (SHOTS / f"{width}-sideways.txt").write_text("\n".join(wide) + "\n")
