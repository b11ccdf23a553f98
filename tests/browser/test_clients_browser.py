"""The client pages in headless Chromium: live search, adding a phone, merging a guest."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from pawline.db import db
from pawline.threads import find_or_create_client_by_phone, find_or_create_thread
from tests import factories
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("SCREENSHOTS", "/tmp/pawline-shots"))


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def seed(app):
    with app.app_context():
        org = factories.org("Happy Paws")
        ada = factories.client(org.id, "Ada Lovelace", "+14155550123")
        factories.client(org.id, "Grace Hopper", "+14155550124")
        factories.client(org.id, "Alan Turing")
        guest, _ = find_or_create_client_by_phone(org.id, "+14155550177")
        find_or_create_thread(org.id, guest)
        db.session.commit()
    return org, ada, guest


def test_staff_search_clients_live_and_add_a_phone(live_app, live_url, page):
    org, ada, _guest = seed(live_app)
    sign_in(page, live_url, org.staff_email)
    page.goto(f"{live_url}/clients")
    expect(page.get_by_role("link", name="Ada Lovelace")).to_be_visible()
    shoot(page, "clients-desktop")

    page.get_by_label("Search").fill("(415) 555-0124")
    expect(page.get_by_role("link", name="Ada Lovelace")).to_have_count(0)
    expect(page.get_by_role("link", name="Grace Hopper")).to_be_visible()

    page.get_by_text("New client").click()
    page.get_by_label("Name").fill("Grace Two")
    page.get_by_label("Phone").fill("415.555.0124")
    page.get_by_role("button", name="Add client").click()
    expect(page.get_by_text("(415) 555-0124 already belongs to Grace Hopper.")).to_be_visible()
    shoot(page, "clients-new-error")

    page.goto(f"{live_url}/clients/{ada}")
    page.get_by_label("Phone", exact=True).fill("415 555 0124")
    page.get_by_role("button", name="Add phone").click()
    expect(page.get_by_text("already belongs to Grace Hopper")).to_be_visible()
    page.get_by_label("Phone", exact=True).fill("415 555 0199")
    page.get_by_role("button", name="Add phone").click()
    expect(page.get_by_text("(415) 555-0199")).to_be_visible()
    shoot(page, "client-desktop")


def test_staff_merge_a_guest_into_a_known_client(live_app, live_url, page):
    org, ada, guest = seed(live_app)
    sign_in(page, live_url, org.staff_email)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_url}/clients")
    shoot(page, "clients-phone")
    page.goto(f"{live_url}/clients/{guest}")
    page.get_by_label("Find the client to keep").fill("ada")
    page.get_by_label("Ada Lovelace").check()
    shoot(page, "guest-phone")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Merge into the chosen client").click()
    expect(page).to_have_url(f"{live_url}/clients/{ada}")
    expect(page.get_by_text("(415) 555-0177")).to_be_visible()
    shoot(page, "client-after-merge-phone")
