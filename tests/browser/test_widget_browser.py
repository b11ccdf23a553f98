"""The web chat widget across origins, as a business's visitor meets it.

A tiny http.server on another loopback address (127.0.0.2: another site, not only another
origin, so our cookies would not even be sent) serves a shop's page with the one script tag.
The visitor opens the chat and writes; a staff reply, stored through the domain and delivered
by a real worker, appears in the widget by polling; staff see the conversation in the inbox.
A site the owner did not list cannot frame the chat.
"""

import os
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from pawline import webchat
from pawline.db import db
from pawline.models import Thread
from pawline.outbound import queue_message
from tests import factories
from tests.browser.axe import violations, with_axe
from tests.browser.test_sign_in import sign_in
from tests.jobs import work_off

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("SCREENSHOTS", "/tmp/pawline-shots"))
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}


@contextmanager
def shop_site(host: str, script_src: str):
    """A business's page on `host`, with our script tag pasted in; answers its origin."""
    html = (f"<!doctype html><html><head><meta name='viewport' content='width=device-width'>"
            f"<title>Happy Paws shop</title></head><body><h1>Happy Paws: dog walks</h1>"
            f"<p>Book a walk or ask us anything.</p>"
            f"<script src=\"{script_src}\" async></script></body></html>").encode()

    class Shop(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((host, 0), Shop)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_a_visitor_chats_from_another_site_and_sees_the_staff_reply(live_app, live_url,
                                                                      browser):
    with live_app.app_context():
        org = factories.org("Happy Paws")
        key = webchat.turn_on(org.id, None).account_id
    with shop_site("127.0.0.2", f"{live_url}/widget.js?key={key}") as shop:
        with live_app.app_context():
            webchat.save_origins(org.id, shop, None)
        visitor = browser.new_context(viewport=DESKTOP)
        page = visitor.new_page()
        page.goto(shop)
        page.get_by_role("button", name="Chat with us").click()
        chat = page.frame_locator("iframe[title='Chat']")
        expect(chat.get_by_role("heading", name="Chat with Happy Paws")).to_be_visible()
        chat.get_by_text("Your name and contact (optional)").click()
        chat.get_by_label("Name").fill("Vera Visitor")
        chat.get_by_label("Message").fill("Can you walk <b>Rex</b> on Sunday?")
        chat.get_by_role("button", name="Send").click()
        mine = chat.locator(".msg.visitor")
        expect(mine).to_have_text(["Can you walk <b>Rex</b> on Sunday?"])  # as text, no HTML
        expect(mine.locator("b")).to_have_count(0)
        expect(chat.locator(".msg.pending")).to_have_count(0)

        with live_app.app_context():
            thread_id = db.session.scalar(sa.select(Thread.id))
            queue_message(org.id, thread_id, "Yes! Sunday at 9 works.", org.staff_user_id,
                          "console")
        work_off(live_app)  # a real worker delivers it (webchat: marked sent)

        expect(chat.locator(".msg.staff")).to_have_text(["Yes! Sunday at 9 works."],
                                                        timeout=15_000)
        shoot(page, "widget-desktop")
        page.set_viewport_size(PHONE)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        expect(chat.get_by_role("button", name="Send")).to_be_in_viewport()
        shoot(page, "widget-phone")
        visitor.close()

    staff = browser.new_context(viewport=DESKTOP)
    inbox = staff.new_page()
    sign_in(inbox, live_url, org.staff_email)
    inbox.goto(f"{live_url}/inbox")
    expect(inbox.get_by_text("Vera Visitor").first).to_be_visible()
    inbox.goto(f"{live_url}/threads/{thread_id}")
    expect(inbox.locator(".bubble")).to_have_text(["Can you walk <b>Rex</b> on Sunday?",
                                                   "Yes! Sunday at 9 works."])
    shoot(inbox, "widget-thread-desktop")
    staff.close()


def test_a_site_the_owner_did_not_list_cannot_show_the_chat(live_app, live_url, browser):
    with live_app.app_context():
        org = factories.org("Happy Paws")
        key = webchat.turn_on(org.id, None).account_id
        webchat.save_origins(org.id, "https://shop.example", None)
    with shop_site("127.0.0.3", f"{live_url}/widget.js?key={key}") as shop:
        context = browser.new_context(viewport=DESKTOP)
        page = context.new_page()
        page.goto(shop)
        with page.expect_console_message(lambda m: "frame-ancestors" in m.text) as refusal:
            page.get_by_role("button", name="Chat with us").click()
        assert "https://shop.example" in refusal.value.text
        assert page.frame_locator("iframe[title='Chat']").locator("#log").count() == 0
        context.close()


def test_the_owner_turns_the_widget_on_and_lists_a_site(live_app, live_url, page):
    with live_app.app_context():
        org = factories.org("Happy Paws")
    for size, name in [(DESKTOP, "desktop"), (PHONE, "phone")]:
        page.set_viewport_size(size)
        sign_in(page, live_url, org.owner_email)
        page.goto(f"{live_url}/settings/channels/webchat")
        if name == "desktop":
            page.get_by_role("button", name="Turn the web chat widget on").click()
            page.get_by_label("Sites that may show the chat").fill(
                "https://www.happypaws.example\nhttps://*.evil.example")
            page.get_by_role("button", name="Save sites").click()
            expect(page.locator("p.error")).to_contain_text("no wildcards")
            page.get_by_label("Sites that may show the chat").fill("https://www.happypaws.example")
            page.get_by_role("button", name="Save sites").click()
            expect(page.get_by_text("are saved")).to_be_visible()
        expect(page.get_by_label("Script tag")).to_have_value(
            f'<script src="{live_url}/widget.js?key=' + _key(live_app, org.id)
            + '" async></script>')
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
        page.screenshot(path=str(SHOTS / f"widget-settings-{name}.png"), full_page=True)
        page.context.clear_cookies()


def _key(app, org_id: int) -> str:
    with app.app_context():
        return webchat.account(org_id).account_id


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_finds_no_violation_on_the_chat_or_its_settings(live_app, live_url, browser,
                                                             viewport):
    with live_app.app_context():
        org = factories.org("Happy Paws")
        key = webchat.turn_on(org.id, None).account_id
    context = browser.new_context(viewport=viewport)
    with_axe(context)
    page = context.new_page()
    found = {}
    page.goto(f"{live_url}/widget/{key}/chat")
    page.get_by_text("Your name and contact (optional)").click()
    page.get_by_label("Message").fill("Hello")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".msg.visitor:not(.pending)")).to_have_count(1)
    found["chat"] = violations(page)
    sign_in(page, live_url, org.owner_email)
    page.goto(f"{live_url}/settings/channels/webchat")
    found["settings"] = violations(page)
    context.close()
    assert {name: problems for name, problems in found.items() if problems} == {}


def test_a_visitor_past_the_limit_is_told_and_keeps_their_words(live_app, live_url, page):
    with live_app.app_context():
        key = webchat.turn_on(factories.org("Happy Paws").id, None).account_id
    live_app.config["WIDGET_POSTS_PER_VISITOR"] = 1
    try:
        page.goto(f"{live_url}/widget/{key}/chat")
        for words in ("First", "Second"):
            page.get_by_label("Message").fill(words)
            page.get_by_role("button", name="Send").click()
            expect(page.get_by_label("Message")).to_have_value("" if words == "First" else words)
        expect(page.get_by_role("status")).to_contain_text("Too many messages")
        expect(page.locator(".msg.visitor")).to_have_text(["First"])
    finally:
        live_app.config.pop("WIDGET_POSTS_PER_VISITOR")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_owner_turns_the_widget_off_on_again_and_replaces_its_key(live_app, live_url,
                                                                      page, viewport):
    with live_app.app_context():
        org = factories.org("Happy Paws")
        old = webchat.turn_on(org.id, None).account_id
    page.set_viewport_size(viewport)
    sign_in(page, live_url, org.owner_email)
    page.goto(f"{live_url}/settings/channels/webchat")
    name = "desktop" if viewport is DESKTOP else "phone"

    page.get_by_role("button", name="Turn the widget off").click()
    expect(page.get_by_role("heading", name="The widget is off")).to_be_visible()
    assert page.request.get(f"{live_url}/widget.js?key={old}").status == 404
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=str(SHOTS / f"widget-settings-off-{name}.png"), full_page=True)

    page.get_by_role("button", name="Turn it back on").click()
    expect(page.get_by_text("on again, with the same tag")).to_be_visible()
    assert page.request.get(f"{live_url}/widget.js?key={old}").status == 200

    page.get_by_role("button", name="Replace the key").click()  # not ticked: the box is required
    assert page.get_by_label("I understand").evaluate("box => !box.validity.valid")
    assert _key(live_app, org.id) == old
    page.get_by_label("I understand").check()
    page.get_by_role("button", name="Replace the key").click()
    expect(page.get_by_text("The key is replaced")).to_be_visible()
    new = _key(live_app, org.id)
    assert new != old
    expect(page.get_by_label("Script tag")).to_have_value(
        f'<script src="{live_url}/widget.js?key={new}" async></script>')
    assert page.request.get(f"{live_url}/widget.js?key={old}").status == 404
    assert page.request.get(f"{live_url}/widget.js?key={new}").status == 200
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=str(SHOTS / f"widget-settings-replaced-{name}.png"), full_page=True)
