"""Send later leaves nothing behind that should not be there: a reply whose author has been
deactivated since is not sent in their name (cancelled at its time, with the reason the thread
shows), and a reply's kept photos are deleted once it is sent (its message's attachments are
then the photos) or cancelled, in the same transaction, which the database holds at the commit."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from pawline import accounts, scheduled
from pawline.clock import utcnow
from pawline.db import constraint_name, db
from pawline.desk_models import ScheduledMessage, ScheduledPhoto
from pawline.media_models import Attachment
from pawline.models import Message, User
from tests import factories, photos

HX = {"HX-Request": "true"}
BASE = "https://paw.example"


@pytest.fixture
def world(app):
    with app.app_context():
        org = factories.org_with_thread()
        db.session.execute(sa.update(User).where(User.id == org.staff_user_id)
                           .values(name="Kim"))
        db.session.commit()
        return org


def row(scheduled_id: int) -> ScheduledMessage:
    return db.session.get(ScheduledMessage, scheduled_id, populate_existing=True)


def outbound() -> list[Message]:
    return db.session.scalars(sa.select(Message).where(Message.direction == "outbound")
                              .execution_options(populate_existing=True)).all()


def kept_rows() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ScheduledPhoto))


def checked_as_at_commit() -> None:
    """Run the deferred constraint triggers on everything written so far, as the commit would
    (the test's transaction never commits); IntegrityError if one refuses."""
    db.session.execute(sa.text("SET CONSTRAINTS ALL IMMEDIATE"))
    db.session.execute(sa.text("SET CONSTRAINTS ALL DEFERRED"))


def with_photos(world, body: str, user_id: int, at, now) -> int:
    return scheduled.schedule_message(
        world.id, world.thread_id, body, at, user_id, now,
        photos=[(photos.gps_jpeg(), "a.jpg"), (photos.png(), "b.png")], photo_base_url=BASE)


def test_a_reply_by_someone_deactivated_since_is_cancelled_and_the_thread_says_who(
        app, client, auth, world):
    with app.app_context():
        now = utcnow()
        reply = scheduled.schedule_message(world.id, world.thread_id, "Rex is fine",
                                           now + timedelta(hours=2), world.staff_user_id, now)
        accounts.set_active(world.staff_email, False, world.owner_user_id)

        assert scheduled.send_due("console", now + timedelta(hours=2, minutes=1)) == 0

        assert (row(reply).status, row(reply).reason) == (
            "canceled", "Not sent: Kim no longer works here.")
        assert outbound() == []
    auth.sign_in(world.owner_email)
    page = client.get(f"/threads/{world.thread_id}").get_data(as_text=True)
    assert "Not sent: Kim no longer works here." in page


def test_a_reply_by_an_author_still_active_goes_though_a_colleague_left(app, world):
    with app.app_context():
        now = utcnow()
        reply = scheduled.schedule_message(world.id, world.thread_id, "Rex is fine",
                                           now + timedelta(hours=2), world.owner_user_id, now)
        accounts.set_active(world.staff_email, False, world.owner_user_id)  # not the author

        assert scheduled.send_due("console", now + timedelta(hours=2, minutes=1)) == 1

        assert (row(reply).status, row(reply).reason) == ("sent", None)
        [message] = outbound()
        assert (message.body, message.sent_by_user_id) == ("Rex is fine", world.owner_user_id)


def test_a_sent_replys_photos_are_deleted_and_its_message_keeps_them(ctx):
    world = factories.org_with_thread()
    now = utcnow()
    wordless = with_photos(world, "", world.staff_user_id, now + timedelta(hours=1), now)
    planned = [p.data for p in scheduled.kept_photos(world.id, wordless)]

    assert scheduled.send_due("console", now + timedelta(hours=1, minutes=1),
                              photo_base_url=BASE) == 1

    assert kept_rows() == 0
    [message] = outbound()
    sent = db.session.scalars(sa.select(Attachment.data).where(Attachment.message_id == message.id)
                              .order_by(Attachment.position)).all()
    assert (message.body, message.num_media, sent) == ("", 2, planned)
    checked_as_at_commit()  # a sent reply of photos alone may lose them


def test_cancelled_and_stopped_replies_lose_their_photos(app, client, auth, world):
    with app.app_context():
        now = utcnow()
        by_desk = with_photos(world, "", world.owner_user_id, now + timedelta(hours=2), now)
        by_kim = with_photos(world, "Rex", world.staff_user_id, now + timedelta(hours=2), now)
    auth.sign_in(world.owner_email)

    cancel = f"/threads/{world.thread_id}/scheduled/{by_desk}/cancel"
    assert client.post(cancel, headers=HX).status_code == 200

    with app.app_context():
        assert scheduled.kept_photo_count(world.id, by_desk) == 0
        assert scheduled.kept_photo_count(world.id, by_kim) == 2  # the other one is untouched
        accounts.set_active(world.staff_email, False, world.owner_user_id)
        assert scheduled.send_due("console", now + timedelta(hours=2, minutes=1),
                                  photo_base_url=BASE) == 0
        assert row(by_kim).status == "canceled" and kept_rows() == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 0
        checked_as_at_commit()


def test_the_database_keeps_photos_only_for_a_reply_still_to_send(ctx):
    """scheduled_photo_only_while_scheduled, checked at the commit: a sent or cancelled reply
    that keeps a photo is refused, as is a photo added to one; emptied, it is accepted."""
    world = factories.org_with_thread()
    now = utcnow()
    reply = with_photos(world, "", world.staff_user_id, now + timedelta(hours=1), now)
    checked_as_at_commit()

    def refused(write) -> str | None:
        with pytest.raises(IntegrityError) as caught, db.session.begin_nested():
            write()
            checked_as_at_commit()
        db.session.execute(sa.text("SET CONSTRAINTS ALL DEFERRED"))
        return constraint_name(caught.value)

    def status(value: str, **more):
        return lambda: db.session.execute(sa.update(ScheduledMessage).where(
            ScheduledMessage.id == reply).values(status=value, **more))

    assert refused(status("sent", sent_at=now)) == "scheduled_photo_only_while_scheduled"
    assert refused(status("canceled")) == "scheduled_photo_only_while_scheduled"
    with db.session.begin_nested():
        status("canceled")()
        scheduled.forget_photos(reply)
        checked_as_at_commit()  # photos alone, cancelled, emptied: accepted
    assert refused(lambda: db.session.execute(sa.insert(ScheduledPhoto).values(
        org_id=world.id, scheduled_id=reply, position=0, content_type="image/png",
        filename="a.png", data=photos.png()))) == "scheduled_photo_only_while_scheduled"
    # put back to scheduled with neither words nor photos: the words rule again
    assert refused(status("scheduled")) == "scheduled_message_words_or_photos"
