"""The attachment table's rules are PostgreSQL's: each bad row refused by its named constraint,
its allowed neighbours stored."""

import hashlib

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from pawline.db import constraint_name, db
from pawline.inbound import receive_sms
from pawline.media_models import Attachment, SimulatorUpload
from pawline.models import Message
from tests import factories

PNG = b"\x89PNG\r\n\x1a\n" + b"x" * 20


@pytest.fixture
def message(ctx):
    org = factories.org()
    factories.number(org.id, "+14155550101")
    result = receive_sms("+14155550101", "+14155552671", "photo", "SMrules1")
    return db.session.get(Message, result.message_id)


def row(message, **values) -> dict:
    base = {"org_id": message.org_id, "message_id": message.id, "position": 0,
            "source_url": "https://api.twilio.com/m/ME1", "content_type": "image/jpeg"}
    return {**base, **values}


def fetched(data: bytes = PNG) -> dict:
    return {"status": "fetched", "data": data, "size_bytes": len(data),
            "sha256": hashlib.sha256(data).digest()}


def stored(model, **values) -> int:
    with db.session.begin_nested():
        return db.session.execute(sa.insert(model).values(**values).returning(model.id)).scalar()


def refused(model, **values) -> str | None:
    with pytest.raises(IntegrityError) as caught, db.session.begin_nested():
        db.session.execute(sa.insert(model).values(**values))
    return constraint_name(caught.value)


def test_a_message_holds_one_attachment_per_position(message):
    stored(Attachment, **row(message))

    assert refused(Attachment, **row(message)) == "uq_attachment_message_id_position"
    stored(Attachment, **row(message, position=1))


def test_an_attachment_cannot_name_another_organizations_message(message):
    other = factories.org()

    assert refused(Attachment, **row(message, org_id=other.id)) == \
        "fk_attachment_message_id_org_id_message"


@pytest.mark.parametrize(("values", "constraint"), [
    ({"status": "lost"}, "ck_attachment_status_known"),
    ({"position": -1}, "ck_attachment_position_range"),
    ({"position": 100}, "ck_attachment_position_range"),
    ({"content_type": "image/JPEG"}, "ck_attachment_content_type_format"),
    ({"content_type": "text/html; charset=utf-8"}, "ck_attachment_content_type_format"),
    ({"content_type": "jpeg"}, "ck_attachment_content_type_format"),
    ({"source_url": "https://x/" + "a" * 2048}, "ck_attachment_source_url_length"),
    ({"filename": ""}, "ck_attachment_filename_length"),
    ({"attempts": -1}, "ck_attachment_attempts_not_negative"),
    ({"status": "failed"}, "ck_attachment_failed_says_why"),
    # fetched without bytes, or with a size or digest that is not theirs
    ({"status": "fetched"}, "ck_attachment_fetched_is_measured"),
    ({**fetched(), "size_bytes": 3}, "ck_attachment_fetched_is_measured"),
    ({**fetched(), "sha256": hashlib.sha256(b"other").digest()},
     "ck_attachment_fetched_is_measured"),
    ({"data": PNG}, "ck_attachment_fetched_is_measured"),  # bytes while pending
    ({**fetched(b"x" * (10 * 1024 * 1024 + 1))}, "ck_attachment_size_limit"),
    # no URL: only a photo we stored ourselves, of our three types
    ({"thumbnail": b"\xff\xd8\xff"}, "ck_attachment_thumbnail_of_fetched"),  # while pending
    ({**fetched(), "thumbnail": b"x" * (256 * 1024 + 1)}, "ck_attachment_thumbnail_of_fetched"),
    ({"source_url": None}, "ck_attachment_upload_is_stored_image"),
    ({"source_url": None, **fetched(), "content_type": "image/heic"},
     "ck_attachment_upload_is_stored_image"),
])
def test_a_bad_attachment_is_refused_by_its_constraint(message, values, constraint):
    assert refused(Attachment, **row(message, **values)) == constraint


@pytest.mark.parametrize("values", [
    {},  # pending, fetched from Twilio by the job
    {"status": "failed", "error": "Twilio answered 404", "attempts": 1},
    {**fetched(), "content_type": "application/pdf", "filename": "vet-notes.pdf"},
    {**fetched(b"x" * (10 * 1024 * 1024))},  # the largest file
    {**fetched(), "thumbnail": b"\xff\xd8\xff small"},
    {"source_url": None, **fetched(), "content_type": "image/png"},  # a photo a person sent
    {"content_type": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
])
def test_the_allowed_neighbours_are_stored(message, values):
    stored(Attachment, **row(message, **values))


def test_a_simulator_upload_is_bounded(message):
    org_id = message.org_id
    stored(SimulatorUpload, org_id=org_id, content_type="image/png", data=PNG)

    assert refused(SimulatorUpload, org_id=org_id, content_type="image/png", data=b"") == \
        "ck_simulator_upload_size_limit"
    assert refused(SimulatorUpload, org_id=org_id, content_type="image/png",
                   data=b"x" * (5 * 1024 * 1024 + 1)) == "ck_simulator_upload_size_limit"
    assert refused(SimulatorUpload, org_id=org_id, content_type="<svg>",
                   data=PNG) == "ck_simulator_upload_content_type_format"


def changed(attachment_id: int, **values) -> str | None:
    """An UPDATE that must be refused; answers the name of what refused it."""
    with pytest.raises(DBAPIError) as caught, db.session.begin_nested():
        db.session.execute(sa.update(Attachment).where(Attachment.id == attachment_id)
                           .values(**values))
    return constraint_name(caught.value)


def test_a_fetched_or_failed_attachment_never_changes_again(message):
    fetched_id = stored(Attachment, **row(message, **fetched()))
    failed_id = stored(Attachment, **row(message, position=1, status="failed", error="404"))
    pending_id = stored(Attachment, **row(message, position=2))

    assert changed(fetched_id, **fetched(b"other bytes")) == "attachment_settled_is_final"
    assert changed(fetched_id, status="pending", data=None, size_bytes=None,
                   sha256=None) == "attachment_settled_is_final"
    assert changed(failed_id, attempts=2) == "attachment_settled_is_final"
    with db.session.begin_nested():  # a pending one is fetched, or tried again
        db.session.execute(sa.update(Attachment).where(Attachment.id == pending_id)
                           .values(attempts=1, error="HTTP 503"))
        db.session.execute(sa.update(Attachment).where(Attachment.id == pending_id)
                           .values(**fetched()))
