"""axe-core finds no violation on any page state, at a desktop's and a phone's width; every
state is also saved as a screenshot to look at (SCREENSHOTS, default /tmp/shots-phone)."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.exceptions import Forbidden

from blueprints import errors
from pawline import observability
from tests.browser.axe import violations, with_axe
from tests.browser.test_sign_in import sign_in
from tests.browser.world import DESKTOP, PHONE, seed_world

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("SCREENSHOTS", "/tmp/shots-phone"))


def rendered_error(app, status: int) -> str:
    """A 403 or 500 page as the app renders it (no page of ours answers either to a GET)."""
    with app.test_request_context("/"):
        if status == 500:
            return observability._server_error(RuntimeError("boom"))[0]
        return errors.error_page(Forbidden())[0]


def answer(status: int, body: str):
    return lambda route: route.fulfill(status=status, body=body, content_type="text/html")


def open_quarantine(page):
    page.locator("[data-open-dialog^=quarantine-]").first.click()
    expect(page.get_by_role("dialog")).to_be_visible()


def send_to_a_bad_number(page):
    page.get_by_role("button", name="New").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Phone number").fill("12")
    dialog.get_by_label("Message").fill("Hello")
    dialog.get_by_role("button", name="Send").click()
    expect(dialog.locator(".error")).to_be_visible()


def open_menu(page):
    toggle = page.get_by_role("button", name="Menu")
    if toggle.is_visible():
        toggle.click()


def opens_dialog(button: str):
    """Click the row's button that asks first, and wait for its dialog."""
    def act(page):
        page.get_by_role("button", name=button, exact=True).first.click()
        expect(page.get_by_role("dialog")).to_be_visible()
    return act


def follows(link: str):
    """Open the page a row's link leads to (a booking's or a sitter's own page)."""
    def act(page):
        with page.expect_navigation():
            page.get_by_role("link", name=link, exact=True).first.click()
    return act


def states(world):
    """(name, path, what to do there first) for a signed-in owner."""
    return [
        ("inbox", "/inbox", None),
        ("inbox-empty", "/inbox?tab=snoozed", None),
        ("inbox-search", "/inbox?q=Ada", None),
        ("closed-conversations", "/inbox/conversations", None),
        ("thread", f"/threads/{world.thread}", None),
        ("thread-snooze-menu", f"/threads/{world.thread}",
         lambda page: page.locator("summary", has_text="Snooze").click()),
        ("thread-typing", f"/threads/{world.thread}",
         lambda page: page.get_by_label("Reply").fill("See you at 5 \N{DOG FACE}")),
        ("new-message", "/inbox", lambda page: page.get_by_role("button", name="New").click()),
        ("new-message-error", "/inbox", send_to_a_bad_number),
        ("menu-open", "/inbox", open_menu),
        ("numbers", "/numbers", None),
        ("numbers-quarantine", "/numbers", open_quarantine),
        ("sitters", "/sitters", None),
        ("bookings", "/bookings", None),
        ("clients", "/clients", None),
        ("client", f"/clients/{world.client}", None),
        ("audit", "/audit", None),
        ("dead-letters", "/dead-letters", None),
        ("simulator", "/simulator", None),
        ("messenger-settings", "/settings/channels/messenger", None),
        ("instagram-settings-empty", "/settings/channels/instagram",
         lambda page: page.get_by_role("button", name="Connect").click()),
        ("numbers-front-desk", "/numbers", opens_dialog("Make front desk")),
        ("numbers-restore", "/numbers", opens_dialog("Restore")),
        ("bookings-cancel", "/bookings", opens_dialog("Cancel booking")),
        ("booking-edit", "/bookings", follows("Ada Lovelace")),
        ("sitters-deactivate", "/sitters", opens_dialog("Deactivate")),
        ("sitter-edit", "/sitters", follows("Sam Rivers")),
        ("guest-thread", f"/threads/{world.guest_thread}", None),
        ("profile", "/profile", None),
        ("saved-replies", "/saved-replies", None),
        ("help-reply", "/settings/help-reply", None),
        ("after-hours", "/settings/after-hours", None),
        ("booking-messages", "/settings/booking-messages", None),
        ("channels", "/settings/channels", None),
        ("telegram-settings", "/settings/channels/telegram", None),
        ("error-404", "/no-such-page", None),
        ("error-400", f"/threads/{world.thread}?before=x", None),
    ]


def check(page, name: str, width: int, found: dict) -> None:
    page.wait_for_load_state("load")
    page.screenshot(path=str(SHOTS / f"{width}-{name}.png"), full_page=True)
    if problems := violations(page):
        found[name] = problems


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_finds_no_violation_on_any_page(live_app, live_url, browser, viewport):
    SHOTS.mkdir(parents=True, exist_ok=True)
    world = seed_world(live_app)
    context = browser.new_context(viewport=viewport)
    try:
        with_axe(context)
        page = context.new_page()
        width, found = viewport["width"], {}

        page.goto(f"{live_url}/sign-in")
        check(page, "sign-in", width, found)
        page.goto(f"{live_url}/no-such-page")
        check(page, "error-404-signed-out", width, found)
        for status in (403, 500):
            body = rendered_error(live_app, status)
            page.route(f"{live_url}/error-{status}", answer(status, body))
            page.goto(f"{live_url}/error-{status}")
            check(page, f"error-{status}", width, found)

        sign_in(page, live_url, world.org.owner_email)
        expect(page).to_have_url(f"{live_url}/inbox")
        for name, path, action in states(world):
            page.goto(f"{live_url}{path}")
            page.wait_for_load_state("load")
            if action:
                action(page)
            check(page, name, width, found)

        page.context.clear_cookies()
        sign_in(page, live_url, world.org.sitter_email)
        expect(page).to_have_url(f"{live_url}/me")
        check(page, "sitter-portal", width, found)
        page.goto(f"{live_url}/threads/{world.thread}")
        check(page, "sitter-thread", width, found)
    finally:
        context.close()

    assert not found, "\n".join(
        f"{state}: {[(v['rule'], v['nodes'][:2]) for v in problems]}"
        for state, problems in found.items())
