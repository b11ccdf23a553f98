"""Photos in a browser: a reply with a photo shows it in the thread, and a photo from the phone
simulator is fetched by the job and shown, both at desktop and phone widths."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests import factories, photos
from tests.browser.test_sign_in import sign_in
from tests.jobs import work_off

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("SCREENSHOTS", "/tmp/pawline-shots"))
POOL = "+14155550101"


@pytest.fixture
def org(live_app):
    with live_app.app_context():
        org = factories.org("Happy Paws")
        factories.number(org.id, POOL)
        org.thread_id = factories.mms(POOL, "+14155552671", body="How was the walk?").thread_id
        return org


def wait_loaded(page, image) -> None:
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=image.element_handle())


@pytest.mark.parametrize("viewport", [{"width": 1440, "height": 900},
                                      {"width": 390, "height": 844}])
def test_staff_send_a_photo_and_see_it_in_the_thread(live_url, page, org, tmp_path, viewport):
    page.set_viewport_size(viewport)
    photo = tmp_path / "IMG_0042.jpg"
    photo.write_bytes(photos.gps_jpeg(1200, 900))
    sign_in(page, live_url, org.staff_email)
    page.goto(f"{live_url}/threads/{org.thread_id}")

    page.set_input_files("#reply-photos", str(photo))
    preview = page.locator("#reply-previews img")
    expect(preview).to_have_attribute("alt", "Photo 1: IMG_0042.jpg")
    page.get_by_label("Reply").fill("Here's Biscuit after his walk")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"photo-preview-{viewport['width']}.png"))
    page.get_by_role("button", name="Send").click()

    sent = page.locator("li.msg.outbound").last
    expect(sent.locator(".bubble")).to_have_text("Here's Biscuit after his walk")
    thumb = sent.locator("a.thumb img")
    expect(thumb).to_be_visible()
    wait_loaded(page, thumb)
    assert thumb.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [330, 440]
    full = sent.locator("a.thumb").get_attribute("href")
    assert page.request.get(live_url + full).headers["content-type"] == "image/jpeg"
    expect(page.locator("#reply-previews")).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(SHOTS / f"photo-sent-{viewport['width']}.png"), full_page=True)


def test_too_many_photos_are_refused_before_upload(live_url, page, org, tmp_path):
    files = []
    for n in range(6):
        path = tmp_path / f"p{n}.png"
        path.write_bytes(photos.png())
        files.append(str(path))
    sign_in(page, live_url, org.staff_email)
    page.goto(f"{live_url}/threads/{org.thread_id}")

    page.set_input_files("#reply-photos", files)

    expect(page.locator("#reply-photo-error")).to_have_text(
        "Attach at most 5 photos to one message.")
    expect(page.locator("#reply-previews")).to_be_hidden()
    assert page.locator("#reply-photos").evaluate("input => input.files.length") == 0


def refused_before_upload(page, live_url, org, files, error) -> None:
    """Choosing `files` shows `error` at once and leaves nothing to upload or preview."""
    posts = []
    page.on("request", lambda request: posts.append(request.url)
            if request.method == "POST" else None)
    sign_in(page, live_url, org.staff_email)
    page.goto(f"{live_url}/threads/{org.thread_id}")
    posts.clear()

    page.set_input_files("#reply-photos", files)

    expect(page.locator("#reply-photo-error")).to_contain_text(error)
    expect(page.locator("#reply-previews")).to_be_hidden()
    assert page.locator("#reply-photos").evaluate("input => input.files.length") == 0
    assert posts == []  # nothing went to the server


def test_a_file_that_is_not_a_photo_is_refused_before_upload(live_url, page, org, tmp_path):
    photo, pdf = tmp_path / "rex.png", tmp_path / "vet.pdf"
    photo.write_bytes(photos.png())
    pdf.write_bytes(b"%PDF-1.7\n")

    refused_before_upload(page, live_url, org, [str(photo), str(pdf)],
                          "vet.pdf is not a JPEG, PNG, GIF or HEIC photo.")


def test_photos_over_five_megabytes_in_all_are_refused_before_upload(live_url, page, org,
                                                                     tmp_path):
    files = []
    for name in ("a.jpg", "b.jpg"):  # 6 MB in all: the browser checks the sizes, not the bytes
        path = tmp_path / name
        path.write_bytes(photos.gps_jpeg() + b"\0" * 3_000_000)
        files.append(str(path))

    refused_before_upload(page, live_url, org, files,
                          "Photos can be 5 MB in total at most (what a text message carries); "
                          "these are 5.")


def test_an_iphone_heic_is_accepted_named_in_the_preview_and_sent_as_a_jpeg(live_url, page,
                                                                            org, tmp_path):
    photo = tmp_path / "IMG_0001.HEIC"
    photo.write_bytes(photos.heic(1200, 800))
    sign_in(page, live_url, org.staff_email)
    page.goto(f"{live_url}/threads/{org.thread_id}")

    page.set_input_files("#reply-photos", str(photo))

    expect(page.locator("#reply-previews .no-preview")).to_have_text("IMG_0001.HEIC")
    expect(page.locator("#reply-photo-error")).to_be_hidden()
    page.get_by_role("button", name="Send").click()
    thumb = page.locator("li.msg.outbound a.thumb img").last
    expect(thumb).to_be_visible()
    wait_loaded(page, thumb)
    full = page.locator("li.msg.outbound a.thumb").last.get_attribute("href")
    answer = page.request.get(live_url + full)
    assert answer.headers["content-type"] == "image/jpeg"
    assert "IMG_0001.jpg" in answer.headers["content-disposition"]


def test_chosen_photos_fit_their_tiles_and_send_stays_in_view_on_a_laptop(live_app, live_url,
                                                                         page, org, tmp_path):
    with live_app.app_context():  # a timeline of photos fills its height
        for _ in range(4):
            sent = factories.mms(POOL, "+14155552671", "image/jpeg")
            factories.fetched(sent.attachment_ids[0], photos.big_jpeg(800, 1200), "image/jpeg")
    files = []
    for name, data in (("IMG_0042.jpg", photos.gps_jpeg()), ("IMG_0001.HEIC", photos.heic()),
                       ("walk.png", photos.png())):
        (tmp_path / name).write_bytes(data)
        files.append(str(tmp_path / name))
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_url, org.staff_email)
    page.goto(f"{live_url}/threads/{org.thread_id}")

    page.set_input_files("#reply-photos", files)

    expect(page.locator("#reply-previews li")).to_have_count(3)
    name = page.locator("#reply-previews .no-preview")
    expect(name).to_have_text("IMG_0001.HEIC")
    assert name.evaluate("e => e.scrollWidth <= e.clientWidth && e.scrollHeight <= e.clientHeight")
    page.evaluate("window.scrollTo(0, 0)")
    send = page.get_by_role("button", name="Send")
    assert send.evaluate("b => b.getBoundingClientRect().bottom <= window.innerHeight")
    page.screenshot(path=str(SHOTS / "photo-preview-full-timeline-1440.png"))


def test_a_photo_from_the_simulator_is_fetched_by_the_job_and_shown(live_app, live_url, page,
                                                                    org, tmp_path):
    photo = tmp_path / "rex.jpg"
    photo.write_bytes(photos.gps_jpeg(800, 600, orientation=1))
    sign_in(page, live_url, org.staff_email)
    page.goto(f"{live_url}/simulator")

    page.get_by_label("From phone").fill("(415) 555-0199")
    page.get_by_label("Photo").set_input_files(str(photo))
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SHOTS / "photo-simulator-form-390.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.get_by_role("button", name="Send as this phone").click()
    expect(page.get_by_text("with its photo")).to_be_visible()
    page.get_by_role("link", name="Open the conversation").click()
    expect(page).to_have_url(re.compile(r"/threads/\d+$"))
    expect(page.get_by_text("📷 Photo loading…")).to_be_visible()

    work_off(live_app)  # the fetch job downloads it from this site's signed URL

    thumb = page.locator("li.msg.inbound a.thumb img")
    expect(thumb).to_be_visible(timeout=10_000)  # the thread's live refresh brings it in
    wait_loaded(page, thumb)
    assert thumb.evaluate("img => img.naturalWidth") == 440
    page.screenshot(path=str(SHOTS / "photo-simulator-1440.png"), full_page=True)
