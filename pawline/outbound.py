"""Sending a message: store it on its route and queue its delivery, in one transaction.

The message row and its delivery job commit together (see docs/delivery.md), so nothing is lost
and the request answers at once with the message `queued`; a worker hands it to the provider
(pawline.delivery). A resubmitted form (same client token) finds the stored message and queues
nothing.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from pawline import channel_routes, consent, images, jobs, media
from pawline.clock import utcnow
from pawline.db import db
from pawline.errors import DomainError, NotFound
from pawline.models import Client, ClientContact, Message, Thread
from pawline.phones import display_phone, normalize_phone
from pawline.routing import choose_sending_number
from pawline.saved_replies import unfilled_variables
from pawline.threads import find_or_create_client_by_phone, find_or_create_thread

MAX_BODY = 1600  # Twilio's limit for one message body
TOKEN_MAX = 64  # a form's client_token is a UUID; a longer one would not fit its unique index


@dataclass(frozen=True)
class Queued:
    message_id: int
    thread_id: int
    created: bool  # False when the form was a retry of a message already stored


def clean_body(body: str | None, with_photos: bool = False) -> str:
    text = (body or "").strip()
    if not text and not with_photos:  # a message of photos alone may have no words
        raise DomainError("Write a message first.", "body")
    if len(text) > MAX_BODY:
        raise DomainError(f"A message can have at most {MAX_BODY} characters.", "body")
    left = unfilled_variables(text)
    if left:  # ck_message_no_unfilled_variable would refuse it too
        names = ", ".join(f"{{{name}}}" for name in left)
        raise DomainError(f"Replace {names} before sending: this conversation has nothing to "
                          "fill it with.", "body")
    return text


def _check_token(client_token: str | None) -> None:
    if client_token and len(client_token) > TOKEN_MAX:
        raise DomainError("This form is out of date: reload the page and send again.", "body")


def _recipient(org_id: int, thread: Thread) -> str:
    """The client's phone: the one they last wrote from if it is still theirs, else their first.

    Two index reads: their phones, then the thread's last inbound message (ix_message_thread_id_id
    backwards). One query joining the two made the planner sort a 10,000-message thread.
    """
    phones = db.session.scalars(
        sa.select(ClientContact.e164)
        .where(ClientContact.org_id == org_id, ClientContact.client_id == thread.client_id)
        .order_by(ClientContact.id)).all()
    if not phones:
        raise DomainError("This client has no phone number: add one on their client page.",
                          "body")
    last_from = db.session.scalar(
        sa.select(Message.from_e164)
        .where(Message.thread_id == thread.id, Message.direction == "inbound")
        .order_by(Message.id.desc()).limit(1))
    return last_from if last_from in phones else phones[0]


def _photos(photos: list[tuple[bytes, str]], photo_base_url: str | None,
            encoded: list = ()) -> list:
    """The photos to send: those already re-encoded (a scheduled reply's, pawline.scheduled),
    else the attached ones re-encoded now; or a refusal saying what is wrong."""
    if not photos and not encoded:
        return []
    if not photo_base_url:
        raise media.MediaNotConfigured(media.NOT_CONFIGURED, "photos")
    return list(encoded) or encode_photos(photos)


def encode_photos(photos: list[tuple[bytes, str]]) -> list:
    """(bytes, file name) pairs re-encoded (no EXIF, resized) within a message's limits."""
    images.check_upload([len(data) for data, _ in photos])
    encoded = [images.reencode(data, name) for data, name in photos]
    images.check_upload([len(image.data) for image in encoded])
    return encoded


def queue_message(org_id: int, thread_id: int, body: str, sender_user_id: int | None,
                  provider_name: str, client_token: str | None = None,
                  now: datetime | None = None, to_e164: str | None = None,
                  status_callback: str | None = None, photos: list[tuple[bytes, str]] = (),
                  photo_base_url: str | None = None, route_note: str | None = None,
                  auto_reply: str | None = None, channel: str | None = None,
                  encoded_photos: list = ()) -> Queued:
    """Store an outbound message on its route (status queued) with its delivery job; commit.

    `channel` None: where the client last wrote (pawline.channel_routes), SMS if they never
    did or when `to_e164` names the phone; an automatic message goes by SMS when they have a
    phone (the business writes first: outside WhatsApp's and Meta's reply windows). Another
    channel's rules (its 24-hour window, an account set up) are checked before storing.

    A phone that opted out is refused (OptedOut) before anything is stored; the phone's consent
    is held until the commit, so a STOP stored meanwhile waits and the worker then cancels it.
    `photos` are (bytes, file name) pairs, re-encoded and stored with the message; they need
    `photo_base_url`, the address the provider will fetch them from (pawline.media);
    `encoded_photos` (pawline.images.Encoded) were re-encoded before and are stored as they are.
    `route_note` adds a line to the routing trace (a scheduled message says when it was
    scheduled: its number was chosen now, at sending). `auto_reply` names an automatic message's
    kind (pawline.booking_messages); it has no author and leaves the thread's preview alone.
    """
    now = now or utcnow()
    text = clean_body(body, with_photos=bool(photos or encoded_photos))
    _check_token(client_token)
    encoded = _photos(list(photos), photo_base_url, encoded_photos)
    thread = db.session.scalar(
        sa.select(Thread).where(Thread.id == thread_id, Thread.org_id == org_id))
    if thread is None:
        raise NotFound("No such conversation.")
    if client_token:
        existing = db.session.scalar(sa.select(Message.id).where(
            Message.org_id == org_id, Message.client_token == client_token))
        if existing is not None:
            return Queued(existing, thread_id, created=False)
    if channel is None:
        channel = "sms" if to_e164 else channel_routes.default_channel(org_id, thread,
                                                                       auto_reply is not None)
    if channel == "sms":
        to_e164 = to_e164 or _recipient(org_id, thread)
        refuse_if_opted_out(org_id, to_e164, lambda: client_name(org_id, thread.client_id))
        route = None
    else:  # consent is SMS's (docs/design.md, Channels): other platforms have their own
        route = channel_routes.plan(org_id, thread, channel, now)
        to_e164, provider_name = route.to_address, route.provider or provider_name
    message_id = store_outbound(org_id, thread_id, text, to_e164, provider_name, now,
                                sender_user_id=sender_user_id, client_token=client_token,
                                encoded=encoded, route_note=route_note, auto_reply=auto_reply,
                                channel_route=route)
    if message_id is None:  # the same form, submitted twice at once: the other one stored it
        db.session.rollback()
        existing = db.session.scalar(sa.select(Message.id).where(
            Message.org_id == org_id, Message.client_token == client_token))
        return Queued(existing, thread_id, created=False)
    jobs.defer_delivery(message_id, status_callback)
    db.session.commit()
    return Queued(message_id, thread_id, created=True)


def refuse_if_opted_out(org_id: int, e164: str, name, field: str = "body") -> None:
    """Hold the phone's consent until the commit; OptedOut, after a rollback, if it opted out."""
    opt_out = consent.hold(org_id, e164)
    if opt_out is not None:
        refused = consent.OptedOut(name() or display_phone(e164), opt_out, org_id, field)
        db.session.rollback()
        raise refused


def client_name(org_id: int, client_id: int) -> str | None:
    return db.session.scalar(
        sa.select(Client.name).where(Client.id == client_id, Client.org_id == org_id))


def store_outbound(org_id: int, thread_id: int, text: str, to_e164: str, provider_name: str,
                   now: datetime, sender_user_id: int | None = None,
                   client_token: str | None = None, auto_reply: str | None = None,
                   encoded: list = (), route_note: str | None = None,
                   channel_route=None) -> int | None:
    """Insert a queued message on the route chosen now, in the caller's transaction; its id, or
    None when its client token is taken. A person's message marks the thread answered; an
    automatic one leaves the thread's preview and unread count as they are. `channel_route`
    (pawline.channel_routes) sends on another channel than SMS, from its account."""
    route = channel_route or choose_sending_number(org_id, thread_id, now)
    if route_note:
        route.steps.append(route_note)
    message_id = db.session.scalar(
        insert(Message).values(
            org_id=org_id, thread_id=thread_id, direction="outbound", body=text,
            from_e164=channel_route.from_address if channel_route else route.e164,
            to_e164=to_e164, number_id=route.number_id, status="queued",
            channel=channel_route.channel if channel_route else "sms",
            provider=provider_name, routing_trace=route.trace(now),
            sent_by_user_id=sender_user_id, client_token=client_token, created_at=now,
            queued_at=now, auto_reply=auto_reply, num_media=len(encoded),
        )
        .on_conflict_do_nothing(index_elements=["org_id", "client_token"])
        .returning(Message.id)
    )
    if message_id is None:
        return None
    media.add_stored(org_id, message_id, encoded)
    if auto_reply is None:
        shown = media.preview(text, [image.content_type for image in encoded])
        db.session.execute(
            sa.update(Thread).where(Thread.id == thread_id).values(
                last_message_at=now, last_activity_at=now, last_message_preview=shown[:160],
                last_message_direction="outbound", last_message_user_id=sender_user_id,
                unread_count=0,
            )
        )
    return message_id


def message_anyone(org_id: int, region: str, phone_raw: str, body: str,
                   sender_user_id: int | None, provider_name: str,
                   client_token: str | None = None, now: datetime | None = None,
                   status_callback: str | None = None) -> Queued:
    """Text any phone: its client and thread are found or created atomically, then queued."""
    e164 = normalize_phone(phone_raw, region)
    clean_body(body)
    _check_token(client_token)
    # before the client and thread are found or created: a refusal stores nothing
    refuse_if_opted_out(org_id, e164, lambda: _owner_name(org_id, e164), field="phone")
    client_id, _ = find_or_create_client_by_phone(org_id, e164)
    thread_id = find_or_create_thread(org_id, client_id, now)
    return queue_message(org_id, thread_id, body, sender_user_id, provider_name, client_token,
                         now, to_e164=e164, status_callback=status_callback)


def _owner_name(org_id: int, e164: str) -> str | None:
    """The name of the client the phone belongs to in the organization, if any."""
    return db.session.scalar(
        sa.select(Client.name).join(ClientContact, sa.and_(
            ClientContact.client_id == Client.id, ClientContact.org_id == Client.org_id))
        .where(ClientContact.org_id == org_id, ClientContact.e164 == e164))
