"""The front desk in a browser: a saved reply inserted and edited before sending, a note added,
a thread assigned, a reply scheduled then cancelled, a scheduled reply sent while the thread is
open."""

import os
import re
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from pawline import notes, saved_replies, scheduled
from pawline.clock import utcnow
from pawline.db import db
from pawline.desk_models import ScheduledMessage
from pawline.inbound import receive_sms
from pawline.models import Thread
from tests import factories, photos
from tests.browser.test_phone_ergonomics import PHONE, small_targets
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("SCREENSHOTS", "/tmp/pawline-shots"))


def seed(app):
    with app.app_context():
        org = factories.org("Happy Paws")
        factories.number(org.id, "+14155550101", "pool")
        factories.client(org.id, "Ada Lovelace", "+14155552671")
        receive_sms("+14155550101", "+14155552671", "Is Rex okay?", "SMdesk1")
        saved_replies.create_saved_reply(
            org.id, "See you soon", "Hi {client_first_name}, see you {booking_start}! "
            "{business_name}", None)
        org.thread_id = db.session.scalar(sa.select(Thread.id))
    return org


def test_staff_insert_a_saved_reply_fix_its_unfilled_variable_and_send(live_app, live_url,
                                                                       page):
    org = seed(live_app)
    sign_in(page, live_url, org.staff_email)
    page.goto(f"{live_url}/threads/{org.thread_id}")
    page.evaluate("window.stillSamePage = true")
    box = page.get_by_label("Reply")
    box.fill("Good morning!")

    page.get_by_label("Saved message to insert").select_option(label="See you soon")
    page.get_by_role("button", name="Insert").click()

    expect(box).to_have_value("Good morning!\nHi Ada, see you {booking_start}! Happy Paws")
    warning = page.locator("#unfilled")
    expect(warning).to_be_visible()
    expect(warning.locator("mark")).to_have_text("{booking_start}")
    expect(box).to_have_class("has-unfilled")
    page.screenshot(path=str(SHOTS / "desk-saved-reply-unfilled.png"))

    page.get_by_role("button", name="Send").click()  # refused: the text stays to be fixed
    expect(page.get_by_role("alert")).to_contain_text("Replace {booking_start} before sending")
    expect(page.locator(".msg.outbound")).to_have_count(0)

    box.fill("Good morning!\nHi Ada, see you Saturday at 9! Happy Paws")
    expect(warning).to_be_hidden()  # the highlight follows the text as it is typed
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".msg.outbound .bubble")).to_have_text(
        "Good morning!\nHi Ada, see you Saturday at 9! Happy Paws")
    assert page.evaluate("window.stillSamePage") is True


def test_staff_add_a_note_that_stands_apart_from_the_messages(live_app, live_url, page):
    org = seed(live_app)
    sign_in(page, live_url, org.staff_email)
    page.goto(f"{live_url}/threads/{org.thread_id}")

    page.get_by_text("Add an internal note").click()
    page.get_by_label("Internal note").fill("Rex is shy with men: let Sam go first")
    page.get_by_role("button", name="Add note").click()

    note = page.locator("li.note")
    expect(note).to_contain_text("Rex is shy with men: let Sam go first")
    expect(note.locator(".badge")).to_have_text("Internal note")
    expect(note).to_contain_text(org.staff_email.split("@")[0])
    expect(page.locator(".msg.outbound")).to_have_count(0)  # nothing was sent
    background = note.evaluate("el => getComputedStyle(el).backgroundColor")
    bubble = page.locator(".msg.inbound .bubble").evaluate(
        "el => getComputedStyle(el).backgroundColor")
    assert background != bubble

    page.get_by_role("button", name="Assign to me").click()
    expect(page.locator("#assignee")).to_contain_text("Assigned to")
    expect(page.locator(".timeline")).to_contain_text("took this conversation")
    page.get_by_role("link", name="Mine").click()
    expect(page).to_have_url(re.compile(r"who=mine"))
    expect(page.locator("#thread-list")).to_contain_text("Ada Lovelace")
    page.get_by_role("link", name="Unassigned").click()
    expect(page).to_have_url(re.compile(r"who=unassigned"))
    expect(page.locator("#thread-list")).not_to_contain_text("Ada Lovelace")
    page.screenshot(path=str(SHOTS / "desk-note.png"), full_page=True)


def test_staff_schedule_a_reply_with_a_photo_then_cancel_it(live_app, live_url, page,
                                                           tmp_path):
    org = seed(live_app)
    sign_in(page, live_url, org.staff_email)
    page.goto(f"{live_url}/threads/{org.thread_id}")

    photo = tmp_path / "rex.jpg"
    photo.write_bytes(photos.gps_jpeg())
    page.get_by_label("Reply").fill("Good morning! Rex had breakfast.")
    page.get_by_text("Send later").click()
    page.get_by_label("Send at").fill("2099-12-24T07:00")  # refused: more than a year ahead
    page.get_by_role("button", name="Schedule").click()
    expect(page.get_by_role("alert")).to_contain_text("Pick a time within")
    expect(page.get_by_label("Reply")).to_have_value("Good morning! Rex had breakfast.")

    page.set_input_files("#reply-photos", str(photo))
    expect(page.locator("#reply-previews img")).to_have_count(1)
    tomorrow = (utcnow() + timedelta(days=1)).astimezone(ZoneInfo("America/New_York"))
    page.get_by_label("Send at").fill(tomorrow.strftime("%Y-%m-%dT07:00"))
    page.get_by_role("button", name="Schedule").click()

    item = page.locator(".scheduled-item")
    expect(item).to_contain_text("Good morning! Rex had breakfast.")
    expect(item).to_contain_text("7:00 AM")
    expect(item).to_contain_text("With 1 photo")
    expect(page.get_by_label("Reply")).to_have_value("")
    expect(page.locator("#reply-previews img")).to_have_count(0)
    expect(page.locator(".msg.outbound")).to_have_count(0)
    with live_app.app_context():
        [kept] = scheduled.kept_photos(org.id, db.session.scalar(sa.select(ScheduledMessage.id)))
        assert kept.content_type == "image/jpeg" and b"PawPhone" not in kept.data
    page.screenshot(path=str(SHOTS / "desk-scheduled.png"))
    for width, height in ((1440, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # above the composer
        page.screenshot(path=str(SHOTS / f"desk-scheduled-photo-{width}.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.get_by_role("button", name="Cancel this scheduled message").click()
    expect(page.locator(".scheduled-item")).to_have_count(0)
    with live_app.app_context():
        assert db.session.scalar(sa.select(ScheduledMessage.status)) == "canceled"


def test_a_reply_the_worker_sends_leaves_the_list_and_joins_the_timeline_live(live_app,
                                                                              live_url, page):
    org = seed(live_app)
    sign_in(page, live_url, org.staff_email)
    page.goto(f"{live_url}/threads/{org.thread_id}")
    page.evaluate("window.stillSamePage = true")
    soon = (utcnow() + timedelta(minutes=2)).astimezone(ZoneInfo("America/New_York"))
    page.get_by_label("Reply").fill("Rex had breakfast.")
    page.get_by_text("Send later").click()
    page.get_by_label("Send at").fill(soon.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Schedule").click()
    expect(page.locator(".scheduled-item")).to_contain_text("Rex had breakfast.")

    with live_app.app_context():  # the minute's sweep, once the reply is due
        assert scheduled.send_due("console", utcnow() + timedelta(minutes=3)) == 1

    # the thread's live poll (every 5 s) brings both, with no reload
    expect(page.locator(".scheduled-item")).to_have_count(0, timeout=15_000)
    expect(page.locator("#scheduled")).to_be_hidden()
    expect(page.locator(".msg.outbound .bubble")).to_have_text("Rex had breakfast.")
    assert page.evaluate("window.stillSamePage") is True


def test_a_booked_sitter_schedules_a_reply_and_changes_only_their_own(live_app, live_url,
                                                                       page):
    org = seed(live_app)
    with live_app.app_context():
        now = utcnow()
        factories.book_sitter(org.id, org.thread_id, org.sitter_email,
                              now - timedelta(hours=1), now + timedelta(hours=4))
        scheduled.schedule_message(org.id, org.thread_id, "From the desk",
                                   now + timedelta(hours=2), org.staff_user_id)
    sign_in(page, live_url, org.sitter_email)
    page.goto(f"{live_url}/threads/{org.thread_id}")

    page.get_by_label("Reply").fill("Rex is asleep, all good.")
    page.get_by_text("Send later").click()
    soon = (now + timedelta(hours=1)).astimezone(ZoneInfo("America/New_York"))
    page.get_by_label("Send at").fill(soon.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Schedule").click()

    mine = page.locator(".scheduled-item", has_text="Rex is asleep")
    expect(mine).to_contain_text("by sitter")
    expect(mine.get_by_role("button", name="Cancel this scheduled message")).to_be_visible()
    desk = page.locator(".scheduled-item", has_text="From the desk")
    expect(desk.get_by_role("button")).to_have_count(0)  # the desk's: theirs to change
    for width, height in ((1440, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SHOTS / f"desk-sitter-scheduled-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    mine.get_by_role("button", name="Cancel this scheduled message").click()
    expect(page.locator(".scheduled-item")).to_have_count(1)


def test_the_desk_controls_are_44_px_tap_targets_on_a_phone(live_app, live_url, page):
    org = seed(live_app)
    with live_app.app_context():
        scheduled.schedule_message(org.id, org.thread_id, "Walk at 9",
                                   utcnow() + timedelta(days=1), None)
        notes.add_note(org.id, org.thread_id, org.staff_user_id, "Gate code 1234")
    page.set_viewport_size(PHONE)
    sign_in(page, live_url, org.owner_email)
    found = {}
    for path in (f"/threads/{org.thread_id}", "/saved-replies", "/inbox?who=mine"):
        page.goto(f"{live_url}{path}")
        page.wait_for_load_state("load")
        for opener in ("Send later", "Add an internal note"):
            if path.startswith("/threads"):
                page.locator("summary", has_text=opener).click()
        if small := small_targets(page):
            found[path] = small
        page.screenshot(path=str(SHOTS / f"desk-phone-{path.split('/')[1].split('?')[0]}.png"),
                        full_page=True)
    assert not found, found
