"""Attachments of messages: storing them with their message, reading them, naming them.

An inbound MMS's MediaUrlN, a Messenger or Instagram attachment's URL and a Telegram photo or
document become pending attachment rows in the transaction that stores the message, each with
a fetch job (pawline.media_fetch). A photo a person sends is re-encoded
(pawline.images) and stored with its message. Twilio fetches an outbound photo from a signed,
expiring URL that names one attachment (`signed_media_token`); inbound media has no such URL:
only a signed-in user who can open the thread sees it (blueprints/media.py).
"""

import hashlib
import mimetypes
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import undefer

from pawline import images
from pawline.clock import utcnow
from pawline.db import db
from pawline.errors import DomainError
from pawline.media_models import CONTENT_TYPE_PATTERN, URL_MAX, Attachment
from pawline.models import Message

UNKNOWN_TYPE = "application/octet-stream"
# Shown in the page as they are: the bytes were sniffed as one of these (never SVG or HTML).
INLINE_IMAGES = ("image/jpeg", "image/png", "image/gif", "image/webp")
# Labelled with their own type when downloaded; anything else is application/octet-stream.
LABELLED = ("application/pdf", "text/vcard", "text/x-vcard", "text/calendar", "image/heic",
            "image/heif", "image/tiff", "image/bmp")
LABELLED_FAMILIES = ("audio/", "video/")
FILENAME_MAX = 255  # the attachment's filename_length check
MEDIA_URL_TTL = timedelta(hours=2)  # Twilio fetches at send time; a retried send signs anew
TOKEN_SALT = "outbound-media"


@dataclass(frozen=True)
class Media:
    """A file a client sent, to fetch: an MMS's MediaUrlN with its MediaContentTypeN, a Meta
    CDN URL, or a Telegram file's reference (pawline.telegram_files), with its name if any."""

    url: str
    content_type: str
    filename: str | None = None


class MediaNotConfigured(DomainError):
    """Photos cannot be sent: Twilio would have no address to fetch them from."""


def content_type(declared: str | None) -> str:
    """A declared Content-Type as we store it: lower case, no parameters, or the unknown type."""
    value = (declared or "").split(";", 1)[0].strip().lower()
    return value if re.fullmatch(CONTENT_TYPE_PATTERN, value) else UNKNOWN_TYPE


def usable_url(url: str) -> bool:
    """Whether a MediaUrl is one the fetch job may try: http(s), of a sane length."""
    return len(url) <= URL_MAX and re.match(r"^https?://[^\s/]+(/\S*)?$", url) is not None


def sniff(data: bytes) -> str | None:
    """The image type the bytes themselves show (their magic numbers), if one we know."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"heim"):
        return "image/heic"
    return None


def stored_type(data: bytes, declared: str) -> str:
    """The type a fetched file is kept as: what its bytes show, else what was declared, unless
    that claimed an image the bytes are not."""
    found = sniff(data)
    if found:
        return found
    return UNKNOWN_TYPE if declared.startswith("image/") else declared


def served_type(data: bytes, stored: str) -> tuple[str, bool]:
    """The Content-Type a file is served with, and whether the page may show it inline: only
    sniffed raster images inline; a few safe labels for downloads; else octet-stream."""
    found = sniff(data)
    if found in INLINE_IMAGES:
        return found, True
    if stored in LABELLED or stored.startswith(LABELLED_FAMILIES):
        return stored, False
    return UNKNOWN_TYPE, False


def is_photo(attachment) -> bool:
    """Shown as a photo in the thread: one a browser shows, or a HEIC we made a thumbnail of."""
    return attachment.content_type in (*INLINE_IMAGES, "image/heic")


def shown_full_size(attachment) -> tuple[bytes, str, str] | None:
    """A fetched photo as a browser shows it full size, with its type and name: its own bytes,
    or an iPhone's HEIC (which browsers cannot show) as a JPEG; None when it is no photo."""
    if not is_photo(attachment):
        return None
    name = display_name(attachment)
    kind, inline = served_type(attachment.data, attachment.content_type)
    if inline:
        return attachment.data, kind, name
    jpeg = images.full_size_jpeg(attachment.data)
    return (jpeg, "image/jpeg", name.rsplit(".", 1)[0] + ".jpg") if jpeg else None


def display_name(attachment) -> str:
    """The name a download is saved under: its own, else photo-12.jpg, file-12.pdf..."""
    if attachment.filename:
        return attachment.filename
    extension = {"image/jpeg": ".jpg", "text/vcard": ".vcf", UNKNOWN_TYPE: ".bin"}.get(
        attachment.content_type) or mimetypes.guess_extension(attachment.content_type) or ".bin"
    stem = "photo" if attachment.content_type.startswith("image/") else "file"
    return f"{stem}-{attachment.id}{extension}"


def preview(body: str, content_types: list[str]) -> str:
    """The inbox line of a message: its words, or with none, what it carries."""
    if body.strip() or not content_types:
        return body
    photos = sum(1 for t in content_types if t.startswith("image/"))
    if photos == len(content_types):
        return "📷 Photo" if photos == 1 else f"📷 {photos} photos"
    return "📎 File" if len(content_types) == 1 else f"📎 {len(content_types)} files"


def add_inbound(org_id: int, message_id: int, media: list[Media]) -> list[int]:
    """Store each file as a pending attachment in the caller's transaction; answer ids."""
    ids = []
    for position, item in enumerate(media):
        ids.append(db.session.scalar(sa.insert(Attachment).values(
            org_id=org_id, message_id=message_id, position=position, source_url=item.url,
            content_type=content_type(item.content_type), status="pending",
            filename=(item.filename or "").strip()[:FILENAME_MAX] or None,
        ).returning(Attachment.id)))
    return ids


def add_stored(org_id: int, message_id: int, photos: list) -> None:
    """Store re-encoded photos (pawline.images.Encoded) with their message, in its transaction."""
    for position, image in enumerate(photos):
        db.session.execute(sa.insert(Attachment).values(
            org_id=org_id, message_id=message_id, position=position, source_url=None,
            content_type=image.content_type, filename=image.filename, status="fetched",
            data=image.data, size_bytes=len(image.data),
            sha256=hashlib.sha256(image.data).digest(), thumbnail=images.thumbnail(image.data)))


def for_messages(org_id: int, message_ids: list[int]) -> dict[int, list[Attachment]]:
    """The attachments of these messages (without their bytes), by message id, in order."""
    if not message_ids:
        return {}
    found: dict[int, list[Attachment]] = {}
    rows = db.session.scalars(
        sa.select(Attachment)
        .where(Attachment.org_id == org_id, Attachment.message_id.in_(message_ids))
        .order_by(Attachment.message_id, Attachment.position))
    for row in rows:
        found.setdefault(row.message_id, []).append(row)
    return found


def with_thread(org_id: int, attachment_id: int) -> tuple[Attachment, int] | None:
    """An attachment of this organization (with its bytes) and its message's thread id."""
    row = db.session.execute(
        sa.select(Attachment, Message.thread_id)
        .join(Message, sa.and_(Message.id == Attachment.message_id,
                               Message.org_id == Attachment.org_id))
        .where(Attachment.id == attachment_id, Attachment.org_id == org_id)
        .options(undefer(Attachment.data))).first()
    return (row[0], row[1]) if row else None


def thumbnail_with_thread(org_id: int, attachment_id: int) -> tuple[bytes | None, int] | None:
    """A fetched attachment's thumbnail (None if it has none) and its message's thread id."""
    row = db.session.execute(
        sa.select(Attachment.thumbnail, Message.thread_id)
        .join(Message, sa.and_(Message.id == Attachment.message_id,
                               Message.org_id == Attachment.org_id))
        .where(Attachment.id == attachment_id, Attachment.org_id == org_id,
               Attachment.status == "fetched")).first()
    return (row[0], row[1]) if row else None


def outbound_photo(attachment_id: int) -> Attachment | None:
    """A photo a person sent (what a signed URL may serve): never an inbound file."""
    return db.session.scalar(
        sa.select(Attachment)
        .join(Message, sa.and_(Message.id == Attachment.message_id,
                               Message.org_id == Attachment.org_id))
        .where(Attachment.id == attachment_id, Attachment.source_url.is_(None),
               Attachment.status == "fetched", Message.direction == "outbound")
        .options(undefer(Attachment.data)))


# -- signed URLs for Twilio ---------------------------------------------------------------

def _serializer(secret: str, salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=salt)


def signed_media_token(attachment_id: int, secret: str, now: datetime | None = None,
                       ttl: timedelta = MEDIA_URL_TTL, salt: str = TOKEN_SALT) -> str:
    """An HMAC-signed token naming one attachment and when it stops working."""
    expires = int(((now or utcnow()) + ttl).timestamp())
    return _serializer(secret, salt).dumps([attachment_id, expires])


def read_media_token(token: str, secret: str, now: datetime | None = None,
                     salt: str = TOKEN_SALT) -> int | None:
    """The attachment id a token names, or None when tampered with, garbled or expired."""
    try:
        attachment_id, expires = _serializer(secret, salt).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if not (isinstance(attachment_id, int) and isinstance(expires, int)):
        return None
    if (now or utcnow()).timestamp() >= expires:
        return None
    return attachment_id


DEMO_BASE_URL = "http://127.0.0.1:5000"  # the console provider only logs the URL


def photo_base_url(config) -> str | None:
    """The absolute address a provider fetches our photos from: PUBLIC_BASE_URL; in the demo
    (console provider, which only logs the URL) a local default; with Twilio and none set,
    None: photos cannot be sent."""
    base = (config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if base:
        return base
    return DEMO_BASE_URL if config.get("SMS_PROVIDER") != "twilio" else None


NOT_CONFIGURED = ("Photos cannot be sent yet: set PUBLIC_BASE_URL to this site's public https "
                  "address, so Twilio can fetch them.")


def media_base_url(config) -> str:
    """photo_base_url, or a refusal saying which setting is missing."""
    base = photo_base_url(config)
    if base is None:
        raise MediaNotConfigured(NOT_CONFIGURED, "photos")
    return base


SIGNED_PATH = "/media/"  # + a token: blueprints/media.py serves it, no session needed


def link_maker(config):
    """`link(attachment_id)`: the absolute signed URL a provider fetches one photo from."""

    def link(attachment_id: int) -> str:
        token = signed_media_token(attachment_id, config["SECRET_KEY"])
        return media_base_url(config) + SIGNED_PATH + token

    return link


def media_ids(message_id: int) -> list[int]:
    """The attachment ids of one message, in their order."""
    return list(db.session.scalars(
        sa.select(Attachment.id).where(Attachment.message_id == message_id)
        .order_by(Attachment.position)))
