"""Send later with photos: checked and re-encoded (no EXIF, no GPS) when scheduled, exactly as a
reply's; kept with the scheduled reply in its own organization; sent once when due, as the MMS's
attachments, by the sweep and a real worker to the fake Twilio."""

import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from PIL import Image
from sqlalchemy.exc import IntegrityError

from bench.fake_twilio import FakeTwilio
from pawline import jobs, media, scheduled
from pawline.clock import utcnow
from pawline.db import constraint_name, db
from pawline.desk_models import ScheduledMessage, ScheduledPhoto
from pawline.media_models import Attachment
from pawline.models import Message
from tests import factories, photos
from tests.concurrency import race_ok
from tests.jobs import work_off

HX = {"HX-Request": "true"}
ZONE = ZoneInfo("America/New_York")  # the organization's zone (factories.org)
SID, TOKEN = "AC" + "0" * 32, "test-auth-token"


@pytest.fixture
def world(app):
    with app.app_context():
        return factories.org_with_thread()


def later(hours: int = 2) -> str:
    return (utcnow() + timedelta(hours=hours)).astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")


def schedule(client, world, files, body="Rex at the park", send_at=None):
    return client.post(f"/threads/{world.thread_id}/scheduled", headers=HX,
                       content_type="multipart/form-data",
                       data={"body": body, "send_at": send_at or later(),
                             "photos": [(io.BytesIO(data), name) for data, name in files]})


def kept() -> list[ScheduledPhoto]:
    return db.session.scalars(sa.select(ScheduledPhoto).options(sa.orm.undefer(ScheduledPhoto.data))
                              .order_by(ScheduledPhoto.scheduled_id, ScheduledPhoto.position)
                              .execution_options(populate_existing=True)).all()


def outbound() -> list[Message]:
    return db.session.scalars(sa.select(Message).where(Message.direction == "outbound")
                              .execution_options(populate_existing=True)).all()


def test_photos_are_kept_re_encoded_without_exif_and_listed(app, client, auth, world):
    auth.sign_in(world.staff_email)

    response = schedule(client, world, [(photos.gps_jpeg(), "IMG_0042.JPG"),
                                        (photos.png(), "walk.png")])

    assert response.status_code == 200
    item = response.get_data(as_text=True).split('class="scheduled-item"', 1)[1].split(
        "</li>", 1)[0]
    assert "Rex at the park" in item and "With 2 photos" in item
    with app.app_context():
        jpeg, png = kept()
        assert (jpeg.position, jpeg.content_type, jpeg.filename) == (0, "image/jpeg",
                                                                     "IMG_0042.jpg")
        assert (png.position, png.content_type, png.filename) == (1, "image/png", "walk.png")
        with Image.open(io.BytesIO(jpeg.data)) as image:
            assert not image.getexif() and "exif" not in image.info
            assert image.size == (300, 400)  # the orientation was applied to the pixels
        assert b"PawPhone" not in jpeg.data
        assert outbound() == []


@pytest.mark.parametrize(("files", "error"), [
    ([(b"not a photo", "rex.jpg")], "rex.jpg is not a JPEG, PNG, GIF or HEIC photo."),
    ([(b"%PDF-1.4", "vet.pdf")], "vet.pdf is not a JPEG, PNG, GIF or HEIC photo."),
    ([(photos.png(), f"{n}.png") for n in range(6)], "Attach at most 5 photos"),
])
def test_a_photo_a_reply_would_refuse_is_refused_and_nothing_kept(app, client, auth, world,
                                                                  files, error):
    auth.sign_in(world.staff_email)
    response = schedule(client, world, files)
    assert response.status_code == 400 and error in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ScheduledMessage)) == 0
        assert kept() == []


def test_with_twilio_and_no_public_address_scheduling_photos_is_refused(app, client, auth,
                                                                        world, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_PROVIDER", "twilio")
    auth.sign_in(world.staff_email)
    response = schedule(client, world, [(photos.png(), "a.png")])
    assert response.status_code == 400 and "set PUBLIC_BASE_URL" in response.get_data(
        as_text=True)


def test_editing_keeps_the_photos_removing_them_is_a_choice_cancel_sends_nothing(
        app, client, auth, world):
    auth.sign_in(world.staff_email)
    schedule(client, world, [(photos.png(), "a.png")])
    with app.app_context():
        reply = db.session.scalar(sa.select(ScheduledMessage.id))
    url = f"/threads/{world.thread_id}/scheduled/{reply}"

    page = client.post(url, headers=HX, data={"body": "Rex at the beach", "send_at": later(3)})
    assert page.status_code == 200 and "With 1 photo<" in page.get_data(as_text=True)
    with app.app_context():
        assert len(kept()) == 1
    client.post(url, headers=HX, data={"body": "Rex", "send_at": later(3), "remove_photos": "y"})
    with app.app_context():
        assert kept() == []

    schedule(client, world, [(photos.png(), "b.png")])
    with app.app_context():
        second = db.session.scalar(sa.select(sa.func.max(ScheduledMessage.id)))
    assert client.post(f"{url[:url.rindex('/')]}/{second}/cancel", headers=HX).status_code == 200
    with app.app_context():
        assert scheduled.send_due("console", utcnow() + timedelta(hours=4)) == 1  # the first
        [message] = outbound()
        assert message.body == "Rex" and message.num_media == 0


def test_another_organizations_photos_are_never_reachable(app, client, auth, world):
    with app.app_context():
        theirs = factories.org_with_thread(pool="+14155550188", from_="+14155552690")
        at = utcnow() + timedelta(hours=2)
        their_id = scheduled.schedule_message(theirs.id, theirs.thread_id, "Theirs", at, None,
                                              photos=[(photos.png(), "a.png")],
                                              photo_base_url="https://paw.example")
        assert scheduled.kept_photos(world.id, their_id) == []
    auth.sign_in(world.staff_email)
    for path in (f"/threads/{theirs.thread_id}/scheduled/{their_id}",
                 f"/threads/{world.thread_id}/scheduled/{their_id}"):
        response = client.post(path, headers=HX, data={
            "body": "Mine now", "send_at": later(), "remove_photos": "y"})
        assert response.status_code == 404
    with app.app_context():
        assert len(kept()) == 1


def test_the_constraints_refuse_a_bad_photo_row_and_accept_its_neighbours(ctx):
    org = factories.org_with_thread()
    other = factories.org_with_thread(pool="+14155550188", from_="+14155552690")
    at = utcnow() + timedelta(hours=1)
    reply = scheduled.schedule_message(org.id, org.thread_id, "Walk", at, None)
    theirs = scheduled.schedule_message(other.id, other.thread_id, "Theirs", at, None)
    row = {"org_id": org.id, "scheduled_id": reply, "position": 0, "content_type": "image/png",
           "filename": "a.png", "data": photos.png()}

    def refused(**values) -> str | None:
        with pytest.raises(IntegrityError) as caught, db.session.begin_nested():
            db.session.execute(sa.insert(ScheduledPhoto).values(**{**row, **values}))
        return constraint_name(caught.value)

    assert refused(scheduled_id=theirs) == (  # another organization's scheduled reply
        "fk_scheduled_photo_scheduled_id_org_id_scheduled_message")
    assert refused(position=5) == "ck_scheduled_photo_position_range"
    assert refused(content_type="image/heic") == "ck_scheduled_photo_content_type_known"
    assert refused(data=b"") == "ck_scheduled_photo_size_limit"
    assert refused(filename="") == "ck_scheduled_photo_filename_length"
    with db.session.begin_nested():
        db.session.execute(sa.insert(ScheduledPhoto).values(**row))
        db.session.execute(sa.insert(ScheduledPhoto).values(**{**row, "position": 4}))
    assert refused() == "uq_scheduled_photo_scheduled_id_position"


def test_a_sitters_scheduled_photos_follow_their_text_rules(app, client, auth, world):
    with app.app_context():
        now = utcnow()
        factories.book_sitter(world.id, world.thread_id, world.sitter_email,
                              now - timedelta(hours=1), now + timedelta(hours=3))
    auth.sign_in(world.sitter_email)
    assert schedule(client, world, [(photos.gps_jpeg(), "a.jpg")]).status_code == 200
    refused = schedule(client, world, [(photos.png(), "b.png")], send_at=later(5))
    assert refused.status_code == 400 and "within the booking" in refused.get_data(as_text=True)
    with app.app_context():
        assert len(kept()) == 1


@pytest.mark.concurrency
def test_the_due_sweep_sends_the_kept_photos_once_through_a_real_worker(app, client,
                                                                        monkeypatch):
    with FakeTwilio(SID, TOKEN) as fake:
        monkeypatch.setitem(app.config, "SMS_PROVIDER", "twilio")
        monkeypatch.setitem(app.config, "TWILIO_API_BASE_URL", fake.base_url)
        monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://paw.example")
        with app.app_context():
            org = factories.org_with_thread()
            then = utcnow() - timedelta(minutes=2)
            reply = scheduled.schedule_message(
                org.id, org.thread_id, "Rex at the park", then + timedelta(minutes=1),
                org.staff_user_id, then, photos=[(photos.gps_jpeg(), "a.jpg"),
                                                 (photos.gif(), "b.gif")],
                photo_base_url=media.photo_base_url(app.config))
            planned = [p.data for p in kept()]
        jobs.bind(app)
        sweep = jobs.queue.tasks["send_scheduled_messages"]
        race_ok(None, [lambda: sweep(timestamp=0), lambda: sweep(timestamp=0)])  # two at once

        work_off(app)  # a real worker runs the delivery job
        sweep(timestamp=0)
        work_off(app)

        [accepted] = fake.messages
    assert accepted.body == "Rex at the park" and len(accepted.media_urls) == 2
    for url, data in zip(accepted.media_urls, planned, strict=True):
        assert client.get(url.removeprefix("https://paw.example")).data == data
    with app.app_context():
        [message] = outbound()
        assert (message.client_token, message.attempts, message.num_media) == (
            f"scheduled-{reply}", 1, 2)
        assert message.provider_sid is not None  # Twilio took it (queued there)
        sent = db.session.scalars(sa.select(Attachment).where(Attachment.message_id == message.id)
                                  .options(sa.orm.undefer(Attachment.data))
                                  .order_by(Attachment.position)).all()
        assert [a.data for a in sent] == planned


def test_photos_alone_can_be_scheduled_and_go_out_as_an_mms_without_words(app, client, auth,
                                                                          world):
    auth.sign_in(world.staff_email)
    assert schedule(client, world, [], body="").status_code == 400  # neither: refused
    response = schedule(client, world, [(photos.png(), "walk.png")], body="")
    assert response.status_code == 200 and "With 1 photo<" in response.get_data(as_text=True)
    with app.app_context():
        reply = db.session.scalar(sa.select(ScheduledMessage.id))
    url = f"/threads/{world.thread_id}/scheduled/{reply}"

    # its only photo goes only with words in its place
    refused = client.post(url, headers=HX, data={"body": "", "send_at": later(3),
                                                 "remove_photos": "y"})
    assert refused.status_code == 400 and "Write a message first." in refused.get_data(
        as_text=True)
    assert client.post(url, headers=HX, data={"body": "", "send_at": later(3)}).status_code == 200
    with app.app_context():
        assert len(kept()) == 1
        assert scheduled.send_due("console", utcnow() + timedelta(hours=4),
                                  photo_base_url="https://paw.example") == 1
        [message] = outbound()
        assert (message.body, message.num_media) == ("", 1)


def test_the_database_refuses_a_scheduled_reply_with_neither_words_nor_photos(ctx):
    """The check waits for the commit, when a new reply's photos are in (SET CONSTRAINTS ALL
    IMMEDIATE stands in for it here, the test's transaction never commits): a wordless reply
    needs a photo and keeps its last one; a reply with words may lose every photo."""
    org = factories.org_with_thread()
    at = utcnow() + timedelta(hours=1)

    def reply(body: str) -> int:
        return db.session.scalar(sa.insert(ScheduledMessage).values(
            org_id=org.id, thread_id=org.thread_id, body=body, send_at=at)
            .returning(ScheduledMessage.id))

    def photo(scheduled_id: int, position: int = 0) -> None:
        db.session.execute(sa.insert(ScheduledPhoto).values(
            org_id=org.id, scheduled_id=scheduled_id, position=position,
            content_type="image/png", filename="a.png", data=photos.png()))

    def committed(write):
        with db.session.begin_nested():
            result = write()
            db.session.execute(sa.text("SET CONSTRAINTS ALL IMMEDIATE"))
        db.session.execute(sa.text("SET CONSTRAINTS ALL DEFERRED"))
        return result

    def refused(write) -> str | None:
        with pytest.raises(IntegrityError) as caught:
            committed(write)
        db.session.execute(sa.text("SET CONSTRAINTS ALL DEFERRED"))
        return constraint_name(caught.value)

    def photos_of(scheduled_id: int, *positions: int):
        where = [ScheduledPhoto.scheduled_id == scheduled_id]
        if positions:
            where.append(ScheduledPhoto.position.in_(positions))
        return lambda: db.session.execute(sa.delete(ScheduledPhoto).where(*where))

    assert refused(lambda: reply("  ")) == "scheduled_message_words_or_photos"
    wordless = committed(lambda: _with_photos(reply(""), photo, 2))  # photos alone: accepted
    worded = committed(lambda: _with_photos(reply("Walk done"), photo, 1))
    committed(photos_of(worded))  # words with no photo left
    committed(photos_of(wordless, 1))  # photos alone, one left
    assert refused(photos_of(wordless)) == "scheduled_message_words_or_photos"
    assert refused(lambda: db.session.execute(sa.update(ScheduledMessage).where(
        ScheduledMessage.id == worded).values(body=""))) == "scheduled_message_words_or_photos"


def _with_photos(scheduled_id: int, photo, count: int) -> int:
    for position in range(count):
        photo(scheduled_id, position)
    return scheduled_id
