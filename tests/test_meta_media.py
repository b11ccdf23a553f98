"""A photo or file sent on Messenger or Instagram: one attachment per CDN URL of the webhook,
fetched by a job from the fake Meta CDN over real HTTP (no credentials), as an MMS's media is."""

import hashlib

import pytest
import sqlalchemy as sa

from bench.fake_meta import FakeMeta, accept, expired, hang, server_error
from pawline import channel_accounts, jobs
from pawline.db import db
from pawline.media_fetch import MAX_ATTEMPTS
from pawline.media_models import Attachment
from pawline.models import Message, Thread
from tests import factories, photos
from tests.jobs import run_jobs_here
from tests.media_world import attachments, fetch_jobs, retries_due_now
from tests.meta_signing import delivery_of, message, mid, post

PAGE, IG = "104729381927364", "17841400000000001"
PSID, IGSID = "6873450192837465", "1234567890123456"


@pytest.fixture
def cdn():
    with FakeMeta() as fake:
        yield fake


@pytest.fixture
def meta_app(app, monkeypatch):
    """The suite's app, its fetch jobs with a short read timeout."""
    monkeypatch.setitem(app.config, "MEDIA_READ_TIMEOUT", 0.5)
    yield app
    jobs.bind(app)  # later tests get the suite's own settings back


@pytest.fixture
def org(meta_app):
    with meta_app.app_context():
        org = factories.org()
        channel_accounts.save(org.id, "messenger", PAGE, "Happy Paws", secret="EAAG-page")
        channel_accounts.save(org.id, "instagram", IG, "@happypaws", secret="EAAG-page")
        return org


def sent(kind: str, url: str) -> list[dict]:
    return [{"type": kind, "payload": {"url": url}}]


def test_a_photo_becomes_one_pending_attachment_with_its_fetch_job(meta_app, client, org, cdn):
    url = cdn.add_cdn_file(photos.gps_jpeg())

    response = post(client, delivery_of(PAGE, message(PSID, PAGE, None,
                                                      attachments=sent("image", url))))

    assert response.status_code == 200

    with meta_app.app_context():
        [row] = attachments()
        assert (row.position, row.source_url, row.content_type, row.status) == (
            0, url, "image/jpeg", "pending")
        assert [job.id for job in fetch_jobs()] == [row.id]
        stored = db.session.scalar(sa.select(Message))
        assert (stored.channel, stored.body, stored.num_media) == ("messenger", "", 1)
        assert db.session.scalar(sa.select(Thread.last_message_preview)) == "📷 Photo"


def test_the_job_fetches_it_without_credentials_with_size_and_sha256(meta_app, client, org,
                                                                     cdn):
    data = photos.png()
    post(client, delivery_of(PAGE, message(PSID, PAGE, "Rex", attachments=sent(
        "image", cdn.add_cdn_file(data, "image/png")))))

    assert run_jobs_here(meta_app) == ["fetch_attachment"]

    with meta_app.app_context():
        [row] = attachments()
        assert (row.status, row.content_type, row.data, row.size_bytes) == (
            "fetched", "image/png", data, len(data))
        assert row.sha256 == hashlib.sha256(data).digest() and row.thumbnail
    assert [r.authorization for r in cdn.cdn_requests] == [None]


def test_the_fetched_photo_is_a_thumbnail_in_the_thread(meta_app, client, auth, org, cdn):
    post(client, delivery_of(PAGE, message(PSID, PAGE, "Look at him", attachments=sent(
        "image", cdn.add_cdn_file(photos.gps_jpeg())))))
    run_jobs_here(meta_app)
    with meta_app.app_context():
        [row] = attachments()
        thread_id = db.session.scalar(sa.select(Thread.id))
    auth.sign_in(org.staff_email)

    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)

    assert f'<img src="/attachments/{row.id}/thumbnail"' in page and "Look at him" in page
    assert client.get(f"/attachments/{row.id}/thumbnail").data == row.thumbnail


def test_an_instagram_file_takes_the_type_the_cdn_gives(meta_app, client, org, cdn):
    pdf = b"%PDF-1.7 vet notes"
    post(client, delivery_of(IG, message(IGSID, IG, None, attachments=sent(
        "file", cdn.add_cdn_file(pdf, "application/pdf"))), object_="instagram"))

    run_jobs_here(meta_app)

    with meta_app.app_context():
        [row] = attachments()
        assert (row.status, row.content_type, row.data) == ("fetched", "application/pdf", pdf)
        assert db.session.scalar(sa.select(Message.channel)) == "instagram"
        assert db.session.scalar(sa.select(Thread.last_message_preview)) == "📎 File"


def test_a_repeated_delivery_stores_and_queues_nothing_again(meta_app, client, org, cdn):
    event = message(PSID, PAGE, None, message_id=mid(),
                    attachments=sent("image", cdn.add_cdn_file(photos.png())))

    for _ in range(3):
        assert post(client, delivery_of(PAGE, event)).status_code == 200

    with meta_app.app_context():
        assert len(attachments()) == 1 and len(fetch_jobs()) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1


def test_a_slow_cdn_is_cut_off_by_the_read_timeout_and_tried_again(meta_app, client, org, cdn):
    data = photos.png()
    post(client, delivery_of(PAGE, message(PSID, PAGE, None, attachments=sent(
        "image", cdn.add_cdn_file(data, "image/png")))))
    cdn.cdn_then(accept(delay=2.0), hang())

    for attempt in (1, 2):
        run_jobs_here(meta_app)
        with meta_app.app_context():
            [row] = attachments()
            assert (row.status, row.attempts) == ("pending", attempt)
            assert "ReadTimeout" in row.error
            retries_due_now()
    run_jobs_here(meta_app)
    with meta_app.app_context():
        assert (attachments()[0].status, attachments()[0].data) == ("fetched", data)


def test_an_expired_url_fails_for_good_saying_why(meta_app, client, org, cdn):
    post(client, delivery_of(PAGE, message(PSID, PAGE, None, attachments=sent(
        "video", cdn.add_cdn_file(b"\x00\x00\x00\x18ftypmp42", "video/mp4")))))
    cdn.cdn_then(expired())

    run_jobs_here(meta_app)

    with meta_app.app_context():
        [row] = attachments()
        assert (row.status, row.error) == ("failed", "The media server answered HTTP 403.")
        assert fetch_jobs() == []


def test_after_the_last_try_a_failing_cdn_is_final_saying_why(meta_app, client, org, cdn):
    post(client, delivery_of(PAGE, message(PSID, PAGE, None, attachments=sent(
        "audio", cdn.add_cdn_file(b"ID3 voice", "audio/mpeg")))))
    with meta_app.app_context():
        db.session.execute(sa.update(Attachment).values(attempts=MAX_ATTEMPTS - 1))
        db.session.commit()
    cdn.cdn_then(server_error(503))

    run_jobs_here(meta_app)

    with meta_app.app_context():
        [row] = attachments()
        assert row.status == "failed"
        assert row.error == (f"Gave up after {MAX_ATTEMPTS} tries: The media server answered "
                             "HTTP 503.")


def test_another_organization_gets_404_for_the_file(meta_app, client, auth, org, cdn):
    post(client, delivery_of(PAGE, message(PSID, PAGE, None, attachments=sent(
        "image", cdn.add_cdn_file(photos.png(), "image/png")))))
    run_jobs_here(meta_app)
    with meta_app.app_context():
        other = factories.org()
        [row] = attachments()
    paths = (f"/attachments/{row.id}", f"/attachments/{row.id}/thumbnail")
    auth.sign_in(org.staff_email)
    assert [client.get(path).status_code for path in paths] == [200, 200]
    auth.sign_out()
    auth.sign_in(other.staff_email)

    assert [client.get(path).status_code for path in paths] == [404, 404]
