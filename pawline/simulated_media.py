"""The phone simulator's photos: kept where Twilio's media store would keep them, and fetched
from a signed local URL by the same job as a real MMS's media (demo only, console provider)."""

from datetime import datetime, timedelta

import sqlalchemy as sa

from pawline.db import db
from pawline.errors import DomainError
from pawline.inbound import InboundResult, receive_sms, simulator_sid
from pawline.media import Media, read_media_token, signed_media_token, sniff
from pawline.media_models import MAX_UPLOAD_BYTES, SimulatorUpload

SALT = "simulator-media"
TTL = timedelta(days=1)  # the fetch job tries for about 20 minutes
PATH = "/media/simulated/"  # + a token: blueprints/media.py serves it


def store(org_id: int, data: bytes, secret: str, now: datetime | None = None) -> str:
    """Keep a photo the simulated phone sends (no commit); answer the path to fetch it from,
    signed with `secret`."""
    if not data:
        raise DomainError("The photo is empty.", "photo")
    if len(data) > MAX_UPLOAD_BYTES:
        raise DomainError(f"A photo can be {MAX_UPLOAD_BYTES // (1024 * 1024)} MB at most.",
                          "photo")
    kind = sniff(data) or "application/octet-stream"
    upload_id = db.session.scalar(sa.insert(SimulatorUpload).values(
        org_id=org_id, content_type=kind, data=data).returning(SimulatorUpload.id))
    return PATH + signed_media_token(upload_id, secret, now, TTL, salt=SALT)


def read(token: str, secret: str) -> SimulatorUpload | None:
    """The upload a token names, while the token is good."""
    upload_id = read_media_token(token, secret, salt=SALT)
    return db.session.get(SimulatorUpload, upload_id) if upload_id else None


def text_from_phone(org_id: int, to_raw: str, from_raw: str, body: str, photo: bytes | None,
                    base_url: str, secret: str, reply_provider: str | None = None,
                    channel: str = "sms") -> InboundResult:
    """The simulated phone texts the business: with a photo, kept first at a signed URL under
    `base_url` (this site), which the message names as its MediaUrl0, as Twilio's would.

    On WhatsApp it goes through the same path with Twilio's `whatsapp:` addresses. On another
    channel the phone's owner writes from an address made of its digits, linked to the phone
    first (pawline.channels.link_phone), so the message lands in the thread of the phone's SMS.
    """
    if channel not in ("sms", "whatsapp"):
        return _write_on(org_id, channel, from_raw, body, photo)
    if channel == "whatsapp":
        to_raw, from_raw = f"whatsapp:{to_raw}", f"whatsapp:{from_raw}"
    media_items = ()
    if photo:  # stored in the message's transaction: a refused text keeps no photo
        path = store(org_id, photo, secret)
        media_items = (Media(base_url.rstrip("/") + path, sniff(photo) or ""),)
    try:
        return receive_sms(to_raw, from_raw, body, simulator_sid(), provider="simulator",
                           num_media=len(media_items), media_items=media_items,
                           reply_provider=reply_provider)
    except DomainError:
        db.session.rollback()
        raise


def _write_on(org_id: int, channel: str, from_raw: str, body: str, photo: bytes | None
              ) -> InboundResult:
    """A message from the phone's owner on a non-phone channel (demo only)."""
    from pawline import channel_accounts, channels  # channels imports inbound, as we do
    from pawline.accounts import org_region
    from pawline.phones import sender_phone

    if channel not in channels.IDENTITY_CHANNELS:
        raise DomainError("Pick one of the channels.", "channel")
    if photo:
        raise DomainError(f"The simulator sends photos by SMS or WhatsApp only, not on "
                          f"{channels.label(channel)}.", "photo")
    if not (body or "").strip():
        raise DomainError("Type a message.", "body")
    e164 = sender_phone(from_raw, org_region(org_id))
    digits = e164.lstrip("+")
    address = f"simulator-{digits}" if channel == "webchat" else digits
    account = channel_accounts.get(org_id, channel)
    channels.link_phone(org_id, channel, address, e164)
    return channels.receive(org_id, channel, address, body, provider=channels.PROVIDERS[channel],
                            provider_sid=simulator_sid(),
                            to_address=account.account_id if account else "simulator")
