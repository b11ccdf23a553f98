"""Media in the thread, and as files: thumbnails and downloads for those who can open the
thread, safe headers, and no public URL for anything a client sent."""

import io
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from pawline import bookings, sitters
from pawline.clock import utcnow
from pawline.db import db
from pawline.media import signed_media_token
from pawline.media_models import Attachment
from tests import factories, photos

POOL = "+14155550101"


def mms(org_id: int, *types: str):
    """An inbound MMS of `types`; answers (thread id, attachment ids)."""
    received = factories.mms(POOL, "+14155552671", *types)
    return received.thread_id, received.attachment_ids


@pytest.fixture
def world(app):
    with app.app_context():
        org = factories.org()
        factories.number(org.id, POOL)
        thread_id, (photo, pdf, pending, failed) = mms(
            org.id, "image/jpeg", "application/pdf", "image/png", "video/mp4")
        factories.fetched(photo, photos.gps_jpeg(), "image/jpeg")
        factories.fetched(pdf, b"%PDF-1.7 vet notes", "application/pdf")
        db.session.execute(sa.update(Attachment).where(Attachment.id == failed).values(
            status="failed", error="The media server answered HTTP 404.", attempts=1))
        db.session.commit()
        org.thread_id, org.photo, org.pdf, org.pending, org.failed = (
            thread_id, photo, pdf, pending, failed)
        return org


def test_the_thread_shows_thumbnails_downloads_and_what_is_still_coming(client, auth, world):
    auth.sign_in(world.staff_email)

    page = client.get(f"/threads/{world.thread_id}").get_data(as_text=True)

    photo_url = f"/attachments/{world.photo}"
    assert f'<a class="thumb" href="{photo_url}" target="_blank"' in page
    assert f'<img src="{photo_url}/thumbnail"' in page
    assert f'href="/attachments/{world.pdf}" download>📎 file-{world.pdf}.pdf' in page
    assert '<span class="size">18 bytes</span>' in page
    assert "📷 Photo loading…" in page
    assert "📎 File could not be fetched" in page


def test_the_inbox_row_of_a_photo_message_says_photo(client, auth, app):
    with app.app_context():
        org = factories.org()
        factories.number(org.id, POOL)
        mms(org.id, "image/jpeg")
    auth.sign_in(org.staff_email)

    assert "📷 Photo" in client.get("/inbox").get_data(as_text=True)


def test_a_photo_is_served_inline_with_the_type_its_bytes_show(client, auth, world):
    auth.sign_in(world.staff_email)

    response = client.get(f"/attachments/{world.photo}")

    assert response.status_code == 200
    assert response.data == photos.gps_jpeg()
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["Content-Disposition"] == f'inline; filename="photo-{world.photo}.jpg"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.headers["Cache-Control"] == "no-store"


def test_any_other_file_is_a_download(client, auth, world):
    auth.sign_in(world.staff_email)

    response = client.get(f"/attachments/{world.pdf}")

    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize(("data", "stored_type"), [
    (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "image/svg+xml"),
    (b"<html><script>alert(1)</script></html>", "text/html"),
    (b"<html><script>alert(1)</script></html>", "image/jpeg"),
])
def test_svg_and_html_are_never_shown_inline(app, client, auth, world, data, stored_type):
    with app.app_context():
        factories.fetched(world.pending, data, stored_type)
    auth.sign_in(world.staff_email)

    response = client.get(f"/attachments/{world.pending}")

    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment;")


def test_a_file_not_fetched_yet_is_not_found(client, auth, world):
    auth.sign_in(world.staff_email)

    assert client.get(f"/attachments/{world.pending}").status_code == 404
    assert client.get(f"/attachments/{world.failed}").status_code == 404


def test_another_organizations_attachment_is_404(app, client, auth, world):
    with app.app_context():
        mine = factories.org()
    auth.sign_in(mine.owner_email)

    assert client.get(f"/attachments/{world.photo}").status_code == 404


def test_signed_out_there_is_no_file(client, world):
    response = client.get(f"/attachments/{world.photo}")

    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_a_sitter_sees_media_only_of_a_thread_they_are_booked_on(app, client, auth, world):
    with app.app_context():
        factories.number(world.id, "+14155550142", "sitter")
        sam = sitters.create_sitter(world.id, "Sam", factories.phone(), email=world.sitter_email)
        sitters.activate_sitter(world.id, sam.id, None)
        sam_id = sam.id
    auth.sign_in(world.sitter_email)
    assert client.get(f"/attachments/{world.photo}").status_code == 404

    with app.app_context():
        client_id = db.session.scalar(sa.text("SELECT client_id FROM thread WHERE id = :t"),
                                      {"t": world.thread_id})
        now = utcnow()
        booking = bookings.create_booking(world.id, client_id, sam_id, now - timedelta(hours=1),
                                          now + timedelta(hours=1))
        bookings.confirm_booking(world.id, booking.id)

    assert client.get(f"/attachments/{world.photo}").status_code == 200


def test_inbound_media_has_no_public_url_even_with_a_signed_token(app, client, world):
    with app.app_context():
        token = signed_media_token(world.photo, app.config["SECRET_KEY"])

    assert client.get(f"/media/{token}").status_code == 404


@pytest.mark.parametrize("token", ["", "x", "WzEsOTk5OTk5OTk5OV0.bad-signature", "1"])
def test_a_garbled_token_is_404(client, token):
    assert client.get(f"/media/{token}").status_code == 404


def test_a_token_signed_for_the_past_is_expired(app):
    from pawline.media import read_media_token

    past = datetime(2020, 1, 1, tzinfo=UTC)
    token = signed_media_token(7, "key", now=past)

    assert read_media_token(token, "key", now=past) == 7
    assert read_media_token(token, "key", now=past + timedelta(hours=3)) is None
    assert read_media_token(token, "another key", now=past) is None
    assert read_media_token(token[:-2] + "xx", "key", now=past) is None


def test_a_thread_of_1_or_30_photo_messages_costs_the_same_statements(app, client, auth, world,
                                                                      statements):
    auth.sign_in(world.staff_email)

    def cost() -> int:
        statements.clear()
        assert client.get(f"/threads/{world.thread_id}").status_code == 200
        return len(statements)

    few = cost()
    with app.app_context():
        for _ in range(29):
            factories.mms(POOL, "+14155552671", "image/jpeg", "image/png")

    assert cost() == few


def test_the_thread_shows_a_small_upright_thumbnail_without_exif(client, auth, world):
    from PIL import Image

    auth.sign_in(world.staff_email)

    response = client.get(f"/attachments/{world.photo}/thumbnail")

    assert response.status_code == 200 and response.headers["Content-Type"] == "image/jpeg"
    image = Image.open(io.BytesIO(response.data))
    assert image.size == (300, 400)  # gps_jpeg is 400x300 on its side (orientation 6)
    assert dict(image.getexif()) == {} and len(response.data) < len(photos.gps_jpeg())


def test_a_thumbnail_is_404_for_a_file_without_one_and_for_another_organization(app, client,
                                                                               auth, world):
    with app.app_context():
        mine = factories.org()
    auth.sign_in(world.staff_email)
    assert client.get(f"/attachments/{world.pdf}/thumbnail").status_code == 404
    assert client.get(f"/attachments/{world.pending}/thumbnail").status_code == 404
    auth.sign_out()
    auth.sign_in(mine.owner_email)
    assert client.get(f"/attachments/{world.photo}/thumbnail").status_code == 404


def test_an_iphone_heic_opens_full_size_as_a_jpeg_browsers_can_show(app, client, auth, world):
    from PIL import Image

    with app.app_context():
        thread_id, [heic] = mms(world.id, "image/heic")
        factories.fetched(heic, photos.heic(1200, 800), "image/heic")
    auth.sign_in(world.staff_email)

    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    full = client.get(f"/attachments/{heic}/full")

    assert f'<a class="thumb" href="/attachments/{heic}/full" target="_blank"' in page
    assert full.status_code == 200 and full.headers["Content-Type"] == "image/jpeg"
    assert full.headers["Content-Disposition"] == f'inline; filename="photo-{heic}.jpg"'
    image = Image.open(io.BytesIO(full.data))
    assert image.format == "JPEG" and image.size == (1200, 800)
    assert dict(image.getexif()) == {}
    assert client.get(f"/attachments/{heic}").headers["Content-Type"] == "image/heic"


def test_full_size_is_a_photos_alone_and_its_organizations_alone(app, client, auth, world):
    with app.app_context():
        mine = factories.org()
    auth.sign_in(world.staff_email)
    assert client.get(f"/attachments/{world.photo}/full").data == client.get(
        f"/attachments/{world.photo}").data  # a JPEG opens as it is
    assert client.get(f"/attachments/{world.pdf}/full").status_code == 404
    assert client.get(f"/attachments/{world.pending}/full").status_code == 404
    auth.sign_out()
    assert client.get(f"/attachments/{world.photo}/full").status_code != 200
    auth.sign_in(mine.owner_email)
    assert client.get(f"/attachments/{world.photo}/full").status_code == 404
