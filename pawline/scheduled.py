"""Send later: a reply scheduled for a time in the organization's zone, sent once when due.

Until it is due a scheduled reply can be edited or cancelled. The periodic job (pawline.jobs)
sweeps every minute; each due reply is claimed by a conditional UPDATE ('scheduled' to 'sent')
in the same transaction that stores its message, so of any number of workers exactly one sends
it, and the message's client_token 'scheduled-<id>' (unique per organization) stores it once
even if a claim were ever repeated. The number is chosen by the routing rules at that moment,
not when it was scheduled, and the routing trace says so.

A reply to a phone that has opted out since it was scheduled is cancelled, with the reason the
thread shows: queue_message refuses the send (OptedOut) while it holds the phone's consent row,
so a STOP stored at the same moment waits for the claim's commit and is seen either way.

A sitter may schedule a reply on a thread they can open, as they may reply there, for a time
while they still cover the client (one of their confirmed bookings with them has a window open
then: pawline.sitters). A sitter speaks to a client only while booked with them, and a reply in
their name after that would be exactly what that rule forbids, sent when they could no longer
see, edit or cancel it. So if at its time they no longer cover the client (the booking was
cancelled, moved or shortened), the reply is not sent: it is cancelled with that reason,
which the front desk sees on the thread. Likewise anyone's reply whose author (sitter, staff or
owner) has been deactivated by then: it would go out in the name of someone who no longer works
there, so it is cancelled saying so, by name. A sitter edits and cancels only their own
scheduled replies; owners and staff any of them.

A scheduled reply may carry photos: checked and re-encoded when it is scheduled, exactly as a
reply's (pawline.outbound.encode_photos: no EXIF or GPS, within an MMS's limits), so a photo
that cannot be sent is refused then, not at 7 AM. They are kept (scheduled_photo) only while
the reply is still to send: they become the message's attachments, as they are, in the
transaction that sends it, which deletes them; cancelling or stopping it deletes them too (the
database refuses a sent or stopped reply that still has photos).
"""

from datetime import datetime, timedelta

import sqlalchemy as sa

from pawline import images, media, outbound
from pawline.accounts import org_zone
from pawline.clock import utcnow
from pawline.db import db
from pawline.desk_models import ScheduledMessage, ScheduledPhoto
from pawline.due_sends import DueSends
from pawline.errors import DomainError, NotFound
from pawline.models import User
from pawline.saved_replies import friendly_time
from pawline.sitters import sitter_can_see_thread

HORIZON = timedelta(days=366)
_DISPLAY_NAME = sa.func.coalesce(sa.func.nullif(User.name, ""), User.email)
NOT_COVERING = ("A sitter's reply goes out only while they are booked with this client: pick a "
                "time within the booking.")
NO_LONGER_COVERING = ("Not sent: the sitter who scheduled it no longer covered this client at "
                      "its time (the booking ended, moved or was cancelled).")
NO_LONGER_WORKS_HERE = "Not sent: {name} no longer works here."


def forget_photos_of(org_id: int, scheduled_id: int) -> None:
    """Delete a reply's kept photos, in the caller's transaction."""
    db.session.execute(sa.delete(ScheduledPhoto).where(
        ScheduledPhoto.org_id == org_id, ScheduledPhoto.scheduled_id == scheduled_id))


def forget_photos(scheduled_id: int) -> None:
    """Delete the photos of a reply the sweep sent or stopped (DueSends.finish)."""
    db.session.execute(sa.delete(ScheduledPhoto).where(ScheduledPhoto.scheduled_id == scheduled_id))


SENDS = DueSends(ScheduledMessage, "scheduled", "send_at", finish=forget_photos)


def _check_time(send_at: datetime, now: datetime) -> None:
    if send_at.tzinfo is None:
        raise DomainError("Pick a date and time.", "send_at")
    if send_at <= now:
        raise DomainError("Pick a time in the future.", "send_at")
    if send_at > now + HORIZON:
        raise DomainError("Schedule at most a year ahead.", "send_at")


def departed_author(org_id: int, user_id: int | None) -> str | None:
    """The name of this user if they have been deactivated; None for anyone still active."""
    if user_id is None:
        return None
    return db.session.scalar(sa.select(_DISPLAY_NAME).where(
        User.id == user_id, User.org_id == org_id, User.active.is_(False)))


def author_covers(org_id: int, user_id: int | None, thread_id: int, at: datetime) -> bool:
    """Whether a reply by this user may go out on the thread at `at`: a sitter's only while they
    cover its client then; anyone else's (owner, staff, nobody) always."""
    if user_id is None:
        return True
    role = db.session.scalar(sa.select(User.role).where(User.id == user_id,
                                                        User.org_id == org_id))
    return role != "sitter" or sitter_can_see_thread(org_id, user_id, thread_id, at)


def schedule_message(org_id: int, thread_id: int, body: str, send_at: datetime,
                     user_id: int | None, now: datetime | None = None,
                     photos: list[tuple[bytes, str]] = (),
                     photo_base_url: str | None = None) -> int:
    """Keep a reply to send at `send_at`, with its photos ((bytes, file name) pairs, which need
    `photo_base_url` as a reply's do); answers its id."""
    now = now or utcnow()
    text = outbound.clean_body(body, with_photos=bool(photos))  # photos alone are a reply too
    _check_time(send_at, now)
    if photos and not photo_base_url:
        raise media.MediaNotConfigured(media.NOT_CONFIGURED, "photos")
    encoded = outbound.encode_photos(list(photos)) if photos else []
    if db.session.scalar(sa.text("SELECT 1 FROM thread WHERE id = :t AND org_id = :o"),
                         {"t": thread_id, "o": org_id}) is None:
        raise NotFound("No such conversation.")
    if not author_covers(org_id, user_id, thread_id, send_at):
        raise DomainError(NOT_COVERING, "send_at")
    scheduled_id = db.session.scalar(sa.insert(ScheduledMessage).values(
        org_id=org_id, thread_id=thread_id, body=text, send_at=send_at,
        created_by_user_id=user_id, created_at=now, updated_at=now).returning(ScheduledMessage.id))
    for position, image in enumerate(encoded):
        db.session.execute(sa.insert(ScheduledPhoto).values(
            org_id=org_id, scheduled_id=scheduled_id, position=position,
            content_type=image.content_type, filename=image.filename, data=image.data))
    db.session.commit()
    return scheduled_id


def kept_photos(org_id: int, scheduled_id: int) -> list[images.Encoded]:
    """A scheduled reply's photos as they were re-encoded, in order (this organization's only)."""
    rows = db.session.execute(
        sa.select(ScheduledPhoto.data, ScheduledPhoto.content_type, ScheduledPhoto.filename)
        .where(ScheduledPhoto.org_id == org_id, ScheduledPhoto.scheduled_id == scheduled_id)
        .order_by(ScheduledPhoto.position)).all()
    return [images.Encoded(r.data, r.content_type, r.filename, 0, 0) for r in rows]


def kept_photo_count(org_id: int, scheduled_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ScheduledPhoto).where(
        ScheduledPhoto.org_id == org_id, ScheduledPhoto.scheduled_id == scheduled_id))


def _mine(org_id: int, thread_id: int, scheduled_id: int, author_id: int | None):
    """The WHERE of this thread's reply (of `author_id`'s only, when given: a sitter's own)."""
    where = [ScheduledMessage.id == scheduled_id, ScheduledMessage.org_id == org_id,
             ScheduledMessage.thread_id == thread_id]
    if author_id is not None:
        where.append(ScheduledMessage.created_by_user_id == author_id)
    return sa.and_(*where)


def _change(org_id: int, thread_id: int, scheduled_id: int, now: datetime,
            author_id: int | None, **values) -> None:
    """Change a reply that is still scheduled and not yet due; NotFound for one that is not
    this thread's (or, with `author_id`, not theirs), DomainError for one already due."""
    changed = db.session.execute(
        sa.update(ScheduledMessage)
        .where(_mine(org_id, thread_id, scheduled_id, author_id),
               ScheduledMessage.status == "scheduled", ScheduledMessage.send_at > now)
        .values(updated_at=now, **values).returning(ScheduledMessage.created_by_user_id)).first()
    if changed is None and _exists(org_id, thread_id, scheduled_id, author_id):
        raise DomainError("This message is already sent or cancelled.")
    if changed is None:
        raise NotFound("No such scheduled message.")
    author = changed.created_by_user_id
    if "send_at" in values and not author_covers(org_id, author, thread_id, values["send_at"]):
        db.session.rollback()  # a sitter's reply moved past their booking with the client
        raise DomainError(NOT_COVERING, "send_at")
    db.session.commit()


def _exists(org_id: int, thread_id: int, scheduled_id: int, author_id: int | None) -> bool:
    db.session.rollback()
    return db.session.scalar(sa.select(ScheduledMessage.id).where(
        _mine(org_id, thread_id, scheduled_id, author_id))) is not None


def update_scheduled(org_id: int, thread_id: int, scheduled_id: int, body: str,
                     send_at: datetime, now: datetime | None = None,
                     author_id: int | None = None, remove_photos: bool = False) -> None:
    """Change the words or the time of a reply that is not yet due (with `author_id`, only a
    reply that user scheduled: a sitter's own); its photos stay unless `remove_photos`."""
    now = now or utcnow()
    keeps_photos = not remove_photos and bool(kept_photo_count(org_id, scheduled_id))
    text = outbound.clean_body(body, with_photos=keeps_photos)
    _check_time(send_at, now)
    if remove_photos:  # in the change's transaction: rolled back with it if it is refused
        forget_photos_of(org_id, scheduled_id)
    _change(org_id, thread_id, scheduled_id, now, author_id, body=text, send_at=send_at)


def cancel_scheduled(org_id: int, thread_id: int, scheduled_id: int,
                     now: datetime | None = None, author_id: int | None = None) -> None:
    """Cancel a reply that is not yet due (with `author_id`, only that user's own); its photos
    are deleted with it."""
    forget_photos_of(org_id, scheduled_id)  # in the change's transaction, as update_scheduled's
    _change(org_id, thread_id, scheduled_id, now or utcnow(), author_id, status="canceled")


def for_thread(org_id: int, thread_id: int) -> list:
    """The thread's replies still to send, and those the system cancelled or could not send,
    each with the name of who scheduled it and how many photos it carries (rows of
    (ScheduledMessage, author, photos))."""
    author = _DISPLAY_NAME
    photos = (sa.select(sa.func.count()).where(ScheduledPhoto.scheduled_id == ScheduledMessage.id,
                                               ScheduledPhoto.org_id == ScheduledMessage.org_id)
              .scalar_subquery())
    return db.session.execute(
        sa.select(ScheduledMessage, author.label("author"), photos.label("photos"))
        .outerjoin(User, sa.and_(User.id == ScheduledMessage.created_by_user_id,
                                 User.org_id == ScheduledMessage.org_id))
        .where(ScheduledMessage.org_id == org_id, ScheduledMessage.thread_id == thread_id,
               sa.or_(ScheduledMessage.status == "scheduled",
                      ScheduledMessage.reason.is_not(None)),
               ScheduledMessage.status != "sent")
        .order_by(ScheduledMessage.send_at, ScheduledMessage.id).limit(20)).all()


def send_due(provider_name: str, now: datetime | None = None,
             status_callback: str | None = None, photo_base_url: str | None = None) -> int:
    """Send every reply due at `now` (each exactly once); answers how many this call sent.
    `photo_base_url` (pawline.media.photo_base_url): where the provider fetches photos from."""
    now = now or utcnow()
    return sum(send_one(i, provider_name, now, status_callback, photo_base_url)
               for i in SENDS.due_ids(now))


def send_one(scheduled_id: int, provider_name: str, now: datetime,
             status_callback: str | None = None, photo_base_url: str | None = None) -> bool:
    """Claim one due reply and store its message, in one transaction; False if another worker
    had it, or it was not sent (cancelled: an opt-out, an author deactivated, a sitter no longer
    covering the client; else failed; with the reason). Its kept photos, read here, are deleted
    in the transaction that stores them as the message's attachments."""
    row = SENDS.claim(scheduled_id, now)
    if row is None:
        return False
    if (gone := departed_author(row.org_id, row.created_by_user_id)) is not None:
        SENDS.stop(row.id, "canceled", NO_LONGER_WORKS_HERE.format(name=gone), now)
        return False
    if not author_covers(row.org_id, row.created_by_user_id, row.thread_id, now):
        SENDS.stop(row.id, "canceled", NO_LONGER_COVERING, now)
        return False
    kept = kept_photos(row.org_id, row.id)
    zone = org_zone(row.org_id)
    note = (f"Scheduled on {friendly_time(row.created_at, zone)} for "
            f"{friendly_time(row.send_at, zone)}: this number was chosen when it was sent.")
    return SENDS.send(row.id, now, lambda: outbound.queue_message(
        row.org_id, row.thread_id, row.body, row.created_by_user_id, provider_name,
        f"scheduled-{row.id}", now, status_callback=status_callback, route_note=note,
        encoded_photos=kept, photo_base_url=photo_base_url))
