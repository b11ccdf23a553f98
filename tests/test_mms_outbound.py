"""MMS out: a reply with photos, re-encoded without EXIF, stored with its message, and handed to
Twilio (the real SDK, the fake Twilio) as signed URLs Twilio can fetch without a session."""

import io

import pytest
import sqlalchemy as sa
from PIL import Image

from bench.fake_twilio import FakeTwilio
from pawline import delivery, media
from pawline.db import db
from pawline.media_models import Attachment
from pawline.models import Message, Thread
from pawline.providers import TwilioProvider
from tests import factories, photos
from tests.jobs import run_jobs_here

POOL, PHONE = "+14155550101", "+14155552671"
SID, TOKEN = "AC" + "0" * 32, "test-auth-token"


@pytest.fixture
def world(app):
    with app.app_context():
        org = factories.org()
        factories.number(org.id, POOL)
        org.thread_id = factories.mms(POOL, PHONE, body="Send a photo of Rex?").thread_id
        return org


def upload(data: bytes, name: str):
    return (io.BytesIO(data), name)


def reply(client, world, body="", files=(), token=None):
    data = {"body": body, "photos": list(files)}
    if token:
        data["client_token"] = token
    return client.post(f"/threads/{world.thread_id}/messages", data=data,
                       content_type="multipart/form-data")


def sent_messages():
    return db.session.scalars(sa.select(Message).where(Message.direction == "outbound")).all()


def stored(message_id: int) -> list[Attachment]:
    return db.session.scalars(sa.select(Attachment).where(Attachment.message_id == message_id)
                              .options(sa.orm.undefer(Attachment.data))
                              .order_by(Attachment.position)).all()


def test_a_reply_of_photos_alone_is_stored_without_exif(app, client, auth, world):
    auth.sign_in(world.staff_email)

    response = reply(client, world, files=[upload(photos.gps_jpeg(), "IMG_0042.JPG"),
                                           upload(photos.png(), "walk.png")])

    assert response.status_code == 302
    with app.app_context():
        [message] = sent_messages()
        assert (message.body, message.num_media, message.status) == ("", 2, "queued")
        jpeg, png = stored(message.id)
        assert (jpeg.content_type, jpeg.filename, jpeg.source_url) == (
            "image/jpeg", "IMG_0042.jpg", None)
        assert png.content_type == "image/png"
        assert dict(Image.open(io.BytesIO(jpeg.data)).getexif()) == {}
        assert b"PawPhone" not in jpeg.data
        assert db.session.scalar(sa.select(Thread.last_message_preview)) == "📷 2 photos"


def test_words_and_a_photo_go_together(app, client, auth, world):
    auth.sign_in(world.staff_email)

    reply(client, world, "Here's Biscuit after his walk", [upload(photos.heic(), "b.HEIC")])

    with app.app_context():
        [message] = sent_messages()
        assert message.body == "Here's Biscuit after his walk"
        assert [a.content_type for a in stored(message.id)] == ["image/jpeg"]
        assert db.session.scalar(sa.select(Thread.last_message_preview)) == message.body


@pytest.mark.parametrize(("files", "error"), [
    ([], "Write a message or attach a photo."),
    ([upload(photos.png(), f"{n}.png") for n in range(6)],
     "Attach at most 5 photos to one message."),
    ([upload(b"x" * (2_700_000), "a.jpg"), upload(b"x" * 2_700_000, "b.jpg")],
     "Photos can be 5 MB in total at most"),
    ([upload(b"<svg/>", "cat.svg")], "cat.svg is not a JPEG, PNG, GIF or HEIC photo."),
    ([upload(b"not a photo at all", "holiday.jpg")],
     "holiday.jpg is not a JPEG, PNG, GIF or HEIC photo."),
])
def test_anything_else_is_refused_with_a_form_error_and_nothing_stored(app, client, auth, world,
                                                                       files, error):
    auth.sign_in(world.staff_email)

    response = reply(client, world, files=files)

    assert response.status_code == 400
    assert error in response.get_data(as_text=True)
    with app.app_context():
        assert sent_messages() == []
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 0


def test_an_upload_past_the_limit_is_refused_before_it_is_read(client, auth, world):
    auth.sign_in(world.staff_email)

    response = reply(client, world, files=[upload(b"x" * 6_000_000, "huge.jpg")])

    assert response.status_code == 413
    assert "The files are too large: 5 MB in all at most." in response.get_data(as_text=True)


def test_any_other_route_keeps_the_small_request_limit(client, auth, world):
    auth.sign_in(world.staff_email)

    response = client.post(f"/threads/{world.thread_id}/close",
                           data={"x": (io.BytesIO(b"x" * 300_000), "x.jpg")},
                           content_type="multipart/form-data")

    assert response.status_code == 413


def test_a_resubmitted_form_stores_its_photos_once(app, client, auth, world):
    auth.sign_in(world.staff_email)

    for _ in range(2):
        reply(client, world, files=[upload(photos.png(), "a.png")], token="t" * 32)

    with app.app_context():
        [message] = sent_messages()
        assert len(stored(message.id)) == 1


def test_with_twilio_and_no_public_address_photos_are_refused_saying_why(app, client, auth,
                                                                         world, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_PROVIDER", "twilio")
    auth.sign_in(world.staff_email)

    response = reply(client, world, "Look", [upload(photos.png(), "a.png")])

    assert response.status_code == 400
    assert "set PUBLIC_BASE_URL" in response.get_data(as_text=True)
    with app.app_context():
        assert sent_messages() == []


@pytest.fixture
def fake():
    with FakeTwilio(SID, TOKEN) as fake:
        yield fake


def test_twilio_gets_signed_urls_that_serve_exactly_those_photos(app, client, auth, world,
                                                                 fake):
    auth.sign_in(world.staff_email)
    reply(client, world, files=[upload(photos.gps_jpeg(), "a.jpg"), upload(photos.gif(), "b.gif")])
    config = {"PUBLIC_BASE_URL": "https://paw.example", "SMS_PROVIDER": "twilio",
              "SECRET_KEY": app.config["SECRET_KEY"]}
    with app.app_context():
        [message] = sent_messages()
        files = [(a.data, a.content_type) for a in stored(message.id)]
        twilio = TwilioProvider(SID, TOKEN, api_base_url=fake.base_url, read_timeout=2)

        status = delivery.attempt(message.id, twilio, media_link=media.link_maker(config))

    assert status == "queued"
    [accepted] = fake.messages
    assert accepted.body == "" and len(accepted.media_urls) == 2
    client.post("/sign-out")
    for url, (data, content_type) in zip(accepted.media_urls, files, strict=True):
        assert url.startswith("https://paw.example/media/")
        answer = client.get(url.removeprefix("https://paw.example"))
        assert answer.status_code == 200 and answer.data == data
        assert answer.headers["Content-Type"] == content_type
        tampered = url[:-3] + ("aaa" if not url.endswith("aaa") else "bbb")
        assert client.get(tampered.removeprefix("https://paw.example")).status_code == 404


def test_the_delivery_job_sends_photos_through_the_console_in_the_demo(app, client, auth, world,
                                                                       caplog):
    auth.sign_in(world.staff_email)
    reply(client, world, "Rex", [upload(photos.png(), "a.png")])

    with caplog.at_level("INFO", logger="pawline.sms"):
        assert run_jobs_here(app) == ["deliver_message"]

    assert "with media http://127.0.0.1:5000/media/" in caplog.text
    with app.app_context():
        assert sent_messages()[0].status == "sent"


def test_a_sitter_booked_with_the_client_can_send_a_photo(app, client, auth, world):
    from datetime import timedelta

    from pawline import bookings, sitters
    from pawline.clock import utcnow

    with app.app_context():
        factories.number(world.id, "+14155550142", "sitter")
        sam_id = sitters.create_sitter(world.id, "Sam", factories.phone(),
                                       email=world.sitter_email).id
        sitters.activate_sitter(world.id, sam_id, None)
        client_id = db.session.get(Thread, world.thread_id).client_id
    auth.sign_in(world.sitter_email)
    assert reply(client, world, files=[upload(photos.png(), "a.png")]).status_code == 404

    with app.app_context():
        now = utcnow()
        booking = bookings.create_booking(world.id, client_id, sam_id, now - timedelta(hours=1),
                                          now + timedelta(hours=1))
        bookings.confirm_booking(world.id, booking.id)

    assert reply(client, world, files=[upload(photos.gps_jpeg(), "a.jpg")]).status_code == 302
    with app.app_context():
        [message] = sent_messages()
        assert message.from_e164 == "+14155550142" and message.num_media == 1
