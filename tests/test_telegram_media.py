"""A photo or document sent to the bot: one attachment, fetched by a job with the organization's
bot (getFile, then the download) from the fake Bot API over real HTTP, as an MMS's media is;
the bot's token stored and logged nowhere."""

import hashlib
import logging

import pytest
import sqlalchemy as sa

from bench.fake_telegram import FakeTelegram, accept, hang, server_error
from pawline import jobs
from pawline.db import db
from pawline.media_fetch import MAX_ATTEMPTS
from pawline.media_models import Attachment
from pawline.models import Message, Thread
from pawline.telegram import BotClient
from tests import factories, photos
from tests.jobs import run_jobs_here
from tests.media_world import attachments, fetch_jobs, retries_due_now, whole_database_as_text
from tests.telegram_world import BOT_ID, TOKEN, connect, message_update, post_update

CHAT = 555000111


@pytest.fixture
def fake():
    with FakeTelegram(TOKEN) as fake:
        yield fake


@pytest.fixture
def tg_app(app, fake, monkeypatch):
    """The suite's app, its fetch jobs pointed at the fake Bot API with a short read timeout."""
    monkeypatch.setitem(app.config, "TELEGRAM_API_BASE", fake.base_url)
    monkeypatch.setitem(app.config, "MEDIA_READ_TIMEOUT", 0.5)
    yield app
    jobs.bind(app)  # later tests get the suite's own settings back


@pytest.fixture
def org(tg_app):
    with tg_app.app_context():
        org = factories.org()
        org.secret = connect(org.id)
        return org


def send(client, org, update_id: int, **fields):
    response = post_update(client, org.slug, message_update(update_id, CHAT, None, **fields),
                           org.secret)
    assert response.status_code == 200


def test_a_photo_becomes_one_attachment_of_its_largest_size(tg_app, client, org, fake):
    sizes = fake.photo(photos.gps_jpeg())

    send(client, org, 1, photo=sizes)

    with tg_app.app_context():
        [row] = attachments()
        assert (row.position, row.status, row.content_type) == (0, "pending", "image/jpeg")
        assert row.source_url == f"telegram:{BOT_ID}:{sizes[1]['file_id']}"
        assert [job.id for job in fetch_jobs()] == [row.id]
        message = db.session.scalar(sa.select(Message))
        assert (message.body, message.num_media) == ("", 1)  # as an MMS photo without words
        assert db.session.scalar(sa.select(Thread.last_message_preview)) == "📷 Photo"


def test_the_job_fetches_it_through_getfile_with_its_size_and_sha256(tg_app, client, org, fake):
    data = photos.gps_jpeg()
    sizes = fake.photo(data)
    send(client, org, 1, photo=sizes)

    assert run_jobs_here(tg_app) == ["fetch_attachment"]

    with tg_app.app_context():
        [row] = attachments()
        assert (row.status, row.data, row.size_bytes, row.attempts) == (
            "fetched", data, len(data), 1)
        assert row.sha256 == hashlib.sha256(data).digest()
        assert row.thumbnail.startswith(b"\xff\xd8\xff") and len(row.thumbnail) < len(data)
    [get_file] = [c for c in fake.calls if c.method == "getFile"]
    assert get_file.authorized and get_file.payload == {"file_id": sizes[1]["file_id"]}
    assert [(r.file_path, r.authorized) for r in fake.file_requests] == [
        ("photos/file_1.jpg", True)]


def test_the_fetched_photo_is_a_thumbnail_in_the_thread(tg_app, client, auth, org, fake):
    send(client, org, 1, photo=fake.photo(photos.gps_jpeg()), caption="Rex at the park")
    run_jobs_here(tg_app)
    with tg_app.app_context():
        [row] = attachments()
        thread_id = db.session.scalar(sa.select(Thread.id))
        assert db.session.scalar(sa.select(Message.body)) == "Rex at the park"
    auth.sign_in(org.staff_email)

    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)

    assert f'<a class="thumb" href="/attachments/{row.id}" target="_blank"' in page
    assert f'<img src="/attachments/{row.id}/thumbnail"' in page
    assert "Rex at the park" in page
    thumbnail = client.get(f"/attachments/{row.id}/thumbnail")
    assert thumbnail.status_code == 200 and thumbnail.data == row.thumbnail


def test_a_document_keeps_its_name_and_type(tg_app, client, auth, org, fake):
    pdf = b"%PDF-1.7 vaccination record"
    send(client, org, 1, document=fake.document(pdf, "rex-vaccines.pdf", "application/pdf"))
    run_jobs_here(tg_app)
    with tg_app.app_context():
        [row] = attachments()
        assert (row.status, row.content_type, row.filename, row.data) == (
            "fetched", "application/pdf", "rex-vaccines.pdf", pdf)
        thread_id = db.session.scalar(sa.select(Thread.id))
        assert db.session.scalar(sa.select(Thread.last_message_preview)) == "📎 File"
    auth.sign_in(org.staff_email)

    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)

    assert f'href="/attachments/{row.id}" download>📎 rex-vaccines.pdf' in page


def test_a_voice_note_is_fetched_as_audio_a_sticker_stays_a_placeholder(tg_app, client, org,
                                                                        fake):
    voice = b"OggS voice note: is Rex okay?"
    send(client, org, 1, voice={"file_id": fake.add_file(voice, "voice", "oga"),
                                "file_unique_id": "v1", "duration": 3, "file_size": len(voice)})
    send(client, org, 2, sticker={"file_id": fake.add_file(b"webp", "stickers", "webp"),
                                  "file_unique_id": "s1", "width": 512, "height": 512})
    run_jobs_here(tg_app)
    with tg_app.app_context():
        [row] = attachments()
        assert (row.status, row.content_type, row.data) == ("fetched", "audio/ogg", voice)
        bodies = db.session.scalars(sa.select(Message.body).order_by(Message.id)).all()
        assert bodies == ["", "[sticker]"]


def test_a_repeated_update_stores_and_queues_nothing_again(tg_app, client, org, fake):
    update = message_update(7, CHAT, None, photo=fake.photo(photos.png()))

    for _ in range(3):
        assert post_update(client, org.slug, update, org.secret).status_code == 200

    with tg_app.app_context():
        assert len(attachments()) == 1 and len(fetch_jobs()) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1


def test_no_answer_to_getfile_is_tried_again_later_and_then_fetched(tg_app, client, org, fake):
    data = photos.png()
    send(client, org, 1, photo=fake.photo(data))
    fake.then(server_error(502))

    run_jobs_here(tg_app)

    with tg_app.app_context():
        [row] = attachments()
        assert (row.status, row.attempts, row.error) == (
            "pending", 1, "Telegram's getFile failed: Internal Server Error")
        [job] = fetch_jobs()
        assert job.status == "todo" and job.scheduled_at is not None
        retries_due_now()
    run_jobs_here(tg_app)
    with tg_app.app_context():
        [row] = attachments()
        assert (row.status, row.attempts, row.data) == ("fetched", 2, data)


def test_a_slow_download_is_cut_off_by_the_read_timeout_and_tried_again(tg_app, client, org,
                                                                         fake):
    data = photos.png()
    send(client, org, 1, photo=fake.photo(data))
    fake.file_then(accept(delay=2.0))

    run_jobs_here(tg_app)

    with tg_app.app_context():
        [row] = attachments()
        assert (row.status, row.attempts) == ("pending", 1)
        assert "ReadTimeout" in row.error
        retries_due_now()
    run_jobs_here(tg_app)
    with tg_app.app_context():
        assert attachments()[0].data == data


def test_after_the_last_try_a_failing_download_is_final_saying_why(tg_app, client, org, fake):
    send(client, org, 1, photo=fake.photo(photos.png()))
    with tg_app.app_context():
        db.session.execute(sa.update(Attachment).values(attempts=MAX_ATTEMPTS - 1))
        db.session.commit()
    fake.file_then(server_error(503))

    run_jobs_here(tg_app)

    with tg_app.app_context():
        [row] = attachments()
        assert (row.status, row.data) == ("failed", None)
        assert row.error == (f"Gave up after {MAX_ATTEMPTS} tries: The media server answered "
                             "HTTP 503.")
        assert fetch_jobs() == []


def test_a_file_telegram_does_not_know_fails_for_good_in_its_words(tg_app, client, org, fake):
    send(client, org, 1, photo=[{"file_id": "AgACnever-given", "width": 10, "height": 10}])

    run_jobs_here(tg_app)

    with tg_app.app_context():
        [row] = attachments()
        assert (row.status, row.error) == (
            "failed", "Telegram's getFile failed: Bad Request: invalid file_id")


def test_a_file_received_by_a_bot_since_replaced_fails_saying_why(tg_app, client, org, fake):
    send(client, org, 1, photo=fake.photo(photos.png()))
    with tg_app.app_context():
        connect(org.id, token="222222222:AAE" + "b" * 32)

    run_jobs_here(tg_app)

    with tg_app.app_context():
        [row] = attachments()
        assert row.status == "failed" and "no longer the one connected" in row.error
    assert [c.method for c in fake.calls] == [] and fake.file_requests == []


def test_the_bot_token_is_in_no_row_and_no_log(tg_app, client, org, fake, caplog):
    caplog.set_level(logging.DEBUG, logger="pawline")
    send(client, org, 1, photo=fake.photo(photos.png()))
    send(client, org, 2, document=fake.document(b"%PDF-1.7", "a.pdf", "application/pdf"))
    send(client, org, 3, photo=fake.photo(photos.png()))
    fake.file_then(accept(), hang(), server_error(500))

    run_jobs_here(tg_app)  # one fetched, one timed out, one refused: all recorded

    with tg_app.app_context():
        assert sorted(row.status for row in attachments()) == ["fetched", "pending", "pending"]
        everything = whole_database_as_text()
    secret_part = TOKEN.split(":", 1)[1]
    assert BOT_ID in everything  # the search reads what was stored
    assert secret_part not in everything and secret_part.encode().hex() not in everything
    assert caplog.records and secret_part not in caplog.text


def test_a_text_quoting_the_download_url_is_told_with_the_bots_id_instead():
    bot = BotClient(TOKEN, api_base="http://127.0.0.1:9")

    told = bot.redact(f"Invalid URL {bot.file_url('photos/file_0.jpg')}: no host")

    assert TOKEN.split(":", 1)[1] not in told
    assert told == (f"Invalid URL http://127.0.0.1:9/file/bot<bot {BOT_ID} token>/photos/"
                    "file_0.jpg: no host")


def test_another_organization_gets_404_for_the_file(tg_app, client, auth, org, fake):
    send(client, org, 1, photo=fake.photo(photos.png()))
    run_jobs_here(tg_app)
    with tg_app.app_context():
        other = factories.org()
        [row] = attachments()
    paths = (f"/attachments/{row.id}", f"/attachments/{row.id}/thumbnail",
             f"/attachments/{row.id}/full")
    auth.sign_in(org.staff_email)
    assert [client.get(path).status_code for path in paths] == [200, 200, 200]
    auth.sign_out()
    auth.sign_in(other.staff_email)

    assert [client.get(path).status_code for path in paths] == [404, 404, 404]
