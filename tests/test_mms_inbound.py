"""An inbound MMS: every MediaUrlN stored with its message, fetched into PostgreSQL by a job with
the account's credentials, from the fake Twilio over real HTTP."""

import hashlib

import pytest
import sqlalchemy as sa

from bench.fake_twilio import FakeTwilio, hang, redirect, server_error, twilio_error
from pawline import jobs, media_fetch
from pawline.db import db
from pawline.media_fetch import MAX_ATTEMPTS, MediaFetcher
from pawline.media_models import Attachment
from pawline.models import Message, Thread
from tests import factories, photos
from tests.jobs import run_jobs_here
from tests.twilio_signing import message_sid, post_signed, sms_params

SID, TOKEN = "AC" + "0" * 32, "test-auth-token"  # tests.conftest.make_app's account
POOL, PHONE = "+14155550101", "+14155552671"


@pytest.fixture
def fake():
    with FakeTwilio(SID, TOKEN) as fake:
        yield fake


@pytest.fixture
def media_app(app, fake, monkeypatch):
    """The suite's app, its fetch jobs pointed at the fake Twilio with a short read timeout."""
    monkeypatch.setitem(app.config, "TWILIO_API_BASE_URL", fake.base_url)
    monkeypatch.setitem(app.config, "MEDIA_READ_TIMEOUT", 0.5)
    yield app
    jobs.bind(app)  # later tests get the suite's own settings back


@pytest.fixture
def org(media_app):
    with media_app.app_context():
        org = factories.org()
        factories.number(org.id, POOL)
        return org


def mms(urls: list[str], types: list[str], body: str = "", sid: str | None = None) -> dict:
    extra = {f"MediaUrl{n}": url for n, url in enumerate(urls)}
    extra |= {f"MediaContentType{n}": kind for n, kind in enumerate(types)}
    return sms_params(POOL, PHONE, body, sid=sid, NumMedia=str(len(urls)), **extra)


def attachments() -> list[Attachment]:
    return db.session.scalars(sa.select(Attachment).order_by(Attachment.id)).all()


def fetch_jobs() -> list:
    return db.session.execute(sa.text(
        "SELECT (args->>'attachment_id')::bigint AS id, status, scheduled_at "
        "FROM procrastinate_jobs WHERE task_name = 'fetch_attachment' ORDER BY id")).all()


def test_each_media_url_becomes_a_pending_attachment_with_its_fetch_job(media_app, client, org,
                                                                       fake):
    jpeg, pdf = fake.add_media(photos.gps_jpeg()), fake.add_media(b"%PDF-1.7", "application/pdf")

    response = post_signed(client, "/webhooks/twilio/sms",
                           mms([jpeg, pdf], ["image/jpeg", "application/pdf"], "Rex's papers"))

    assert response.status_code == 200
    with media_app.app_context():
        found = attachments()
        assert [(a.position, a.source_url, a.content_type, a.status) for a in found] == [
            (0, jpeg, "image/jpeg", "pending"), (1, pdf, "application/pdf", "pending")]
        assert [job.id for job in fetch_jobs()] == [a.id for a in found]
        assert db.session.scalar(sa.select(Message.num_media)) == 2


def test_a_retried_webhook_adds_no_attachment_and_no_job(media_app, client, org, fake):
    params = mms([fake.add_media(b"\xff\xd8\xff jpeg")], ["image/jpeg"], sid=message_sid())

    for _ in range(3):
        assert post_signed(client, "/webhooks/twilio/sms", params).status_code == 200

    with media_app.app_context():
        assert len(attachments()) == 1 and len(fetch_jobs()) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1


def test_a_photo_without_words_is_previewed_as_a_photo(media_app, client, org, fake):
    post_signed(client, "/webhooks/twilio/sms", mms([fake.add_media(b"x")], ["image/jpeg"]))

    with media_app.app_context():
        assert db.session.scalar(sa.select(Thread.last_message_preview)) == "📷 Photo"


@pytest.mark.parametrize(("types", "shown"), [
    (["image/png", "image/jpeg"], "📷 2 photos"),
    (["text/vcard"], "📎 File"),
    (["image/png", "video/mp4"], "📎 2 files"),
])
def test_other_media_without_words_make_a_sensible_preview(media_app, client, org, fake, types,
                                                           shown):
    urls = [fake.add_media(b"x") for _ in types]
    post_signed(client, "/webhooks/twilio/sms", mms(urls, types))

    with media_app.app_context():
        assert db.session.scalar(sa.select(Thread.last_message_preview)) == shown


def test_an_unusable_media_url_is_left_out_and_the_message_kept(media_app, client, org, fake):
    good = fake.add_media(b"x")
    params = mms(["javascript:alert(1)", good], ["image/jpeg", "image/jpeg; charset=x"])

    assert post_signed(client, "/webhooks/twilio/sms", params).status_code == 200

    with media_app.app_context():
        assert [(a.position, a.source_url, a.content_type) for a in attachments()] == [
            (0, good, "image/jpeg")]


def receive(client, fake, data: bytes, kind: str = "image/jpeg") -> str:
    url = fake.add_media(data, kind)
    post_signed(client, "/webhooks/twilio/sms", mms([url], [kind]))
    return url


def test_the_job_fetches_the_file_with_the_accounts_credentials(media_app, client, org, fake):
    data = photos.gps_jpeg()
    url = receive(client, fake, data)

    assert run_jobs_here(media_app) == ["fetch_attachment"]

    with media_app.app_context():
        [row] = db.session.scalars(sa.select(Attachment).options(
            sa.orm.undefer(Attachment.data), sa.orm.undefer(Attachment.thumbnail))).all()
        assert (row.status, row.data, row.size_bytes) == ("fetched", data, len(data))
        assert row.sha256 == hashlib.sha256(data).digest()
        assert row.content_type == "image/jpeg" and row.attempts == 1
        assert row.thumbnail.startswith(b"\xff\xd8\xff") and len(row.thumbnail) < len(data)
    [request] = fake.media_requests
    assert request.authorized and url.endswith(request.path)


def test_the_stored_type_is_what_the_bytes_are(media_app, client, org, fake):
    receive(client, fake, b"<html><script>alert(1)</script>", "image/jpeg")

    run_jobs_here(media_app)

    with media_app.app_context():
        assert attachments()[0].content_type == "application/octet-stream"


def test_a_missing_file_fails_for_good_saying_why(media_app, client, org, fake):
    receive(client, fake, b"x")
    fake.media_then(twilio_error(20404, 404))

    run_jobs_here(media_app)

    with media_app.app_context():
        [row] = attachments()
        assert (row.status, row.error) == ("failed", "The media server answered HTTP 404.")
        assert fetch_jobs() == []


def test_a_server_error_is_tried_again_later(media_app, client, org, fake):
    receive(client, fake, b"x")
    fake.media_then(server_error(500))

    run_jobs_here(media_app)

    with media_app.app_context():
        [row] = attachments()
        assert (row.status, row.attempts) == ("pending", 1)
        assert row.next_attempt_at is not None
        [job] = fetch_jobs()
        assert job.id == row.id and job.status == "todo" and job.scheduled_at is not None


def test_a_hanging_server_is_cut_off_by_the_read_timeout_and_tried_again(media_app, client, org,
                                                                         fake):
    receive(client, fake, b"x")
    fake.media_then(hang())

    run_jobs_here(media_app)

    with media_app.app_context():
        [row] = attachments()
        assert (row.status, row.attempts) == ("pending", 1)
        assert "ReadTimeout" in row.error


def test_after_the_last_try_a_transient_failure_is_final(media_app, client, org, fake):
    receive(client, fake, b"x")
    with media_app.app_context():
        db.session.execute(sa.update(Attachment).values(attempts=MAX_ATTEMPTS - 1))
        db.session.commit()
    fake.media_then(server_error(503))

    run_jobs_here(media_app)

    with media_app.app_context():
        [row] = attachments()
        assert row.status == "failed"
        assert row.error == f"Gave up after {MAX_ATTEMPTS} tries: The media server answered " \
                            "HTTP 503."


def test_wrong_credentials_fail_for_good(media_app, client, org, fake, monkeypatch):
    receive(client, fake, b"x")
    monkeypatch.setitem(media_app.config, "TWILIO_AUTH_TOKEN", "not-the-token")

    run_jobs_here(media_app)

    with media_app.app_context():
        assert attachments()[0].error == "The media server answered HTTP 401."


def test_a_file_over_the_cap_is_refused_while_it_downloads(ctx, fake):
    url = fake.add_media(b"x" * 2000)
    fetcher = MediaFetcher(SID, TOKEN, api_base_url=fake.base_url, max_bytes=1000)

    with pytest.raises(media_fetch.FetchError) as refused:
        fetcher.get(url)

    assert not refused.value.transient and "larger than" in refused.value.message


def test_the_credentials_go_only_to_twilios_own_host(ctx, fake):
    with FakeTwilio(SID, TOKEN) as elsewhere:
        url = elsewhere.add_media(b"x")
        fetcher = MediaFetcher(SID, TOKEN, api_base_url=fake.base_url)

        with pytest.raises(media_fetch.FetchError):
            fetcher.get(url)

        assert [r.authorized for r in elsewhere.media_requests] == [False]


def test_a_fetched_attachment_is_not_fetched_again(media_app, client, org, fake):
    receive(client, fake, b"x")
    run_jobs_here(media_app)
    with media_app.app_context():
        attachment_id = attachments()[0].id

        status = media_fetch.fetch(attachment_id, media_fetch.fetcher_from_config(
            media_app.config), jobs.defer_fetch)

    assert status == "fetched" and len(fake.media_requests) == 1


def test_twilio_sends_the_file_on_to_its_cdn_without_our_credentials(ctx, fake):
    with FakeTwilio(SID, TOKEN) as cdn:
        data = photos.png()
        url = fake.add_media(b"never served")
        fake.media_then(redirect(cdn.add_media(data, "image/png", public=True)))
        fetcher = MediaFetcher(SID, TOKEN, api_base_url=fake.base_url)

        fetched = fetcher.get(url)

        assert fetched.data == data and fetched.content_type == "image/png"
        assert [r.authorized for r in fake.media_requests] == [True]
        assert [r.authorized for r in cdn.media_requests] == [False]
