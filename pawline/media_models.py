"""Photos and files of MMS messages, kept in PostgreSQL (pawline.media, pawline.media_fetch).

Imported at the end of pawline.models, so db.metadata holds these tables too.

The bytes live in a bytea column, not on a disk: a web process that shows a photo and the
worker that fetched it may run on different hosts, and PostgreSQL is the one store they all
reach already (backed up with the rest, no bucket or shared volume to set up). PostgreSQL
keeps a large value out of line (TOAST), so reading a timeline's attachment rows without
`data` does not read the files.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pawline.db import db
from pawline.models import TenantScoped, _created, _in, _pk, _tenant_fk

ATTACHMENT_STATUSES = ("pending", "fetched", "failed")
# What we store ourselves: every photo a person sends is re-encoded to one of these.
STORED_IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif")
MAX_FILE_BYTES = 10 * 1024 * 1024  # one fetched file; Twilio's own MMS limit is 5 MB a message
MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # one photo the phone simulator sends
MAX_THUMBNAIL_BYTES = 256 * 1024
URL_MAX = 2048
# type/subtype as RFC 6838 names them, lower case, no parameters
CONTENT_TYPE_PATTERN = r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$"


class Attachment(TenantScoped, db.Model):
    """One photo or file of a message: position N of an inbound MMS (MediaUrlN), fetched by a
    job, or a photo a person attached to a reply, re-encoded and stored at once.

    Once fetched or failed it is final: the migration's trigger attachment_settled_is_final
    refuses any UPDATE of a row no longer pending."""

    __tablename__ = "attachment"
    __table_args__ = (
        sa.UniqueConstraint("message_id", "position"),  # a retried webhook adds none
        _tenant_fk("message_id", "message"),
        sa.CheckConstraint(_in("status", ATTACHMENT_STATUSES), name="status_known"),
        sa.CheckConstraint("position >= 0 AND position < 100", name="position_range"),
        sa.CheckConstraint(f"content_type ~ '{CONTENT_TYPE_PATTERN}'",
                           name="content_type_format"),
        sa.CheckConstraint(f"length(source_url) <= {URL_MAX}", name="source_url_length"),
        sa.CheckConstraint("length(filename) BETWEEN 1 AND 255", name="filename_length"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # fetched: the bytes, their size and their SHA-256, all agreeing; else none of them
        sa.CheckConstraint(
            "(status = 'fetched' AND data IS NOT NULL AND size_bytes IS NOT NULL "
            "AND sha256 IS NOT NULL AND size_bytes = octet_length(data) "
            "AND sha256 = sha256(data)) OR "
            "(status <> 'fetched' AND data IS NULL AND size_bytes IS NULL AND sha256 IS NULL)",
            name="fetched_is_measured"),
        sa.CheckConstraint(f"size_bytes BETWEEN 1 AND {MAX_FILE_BYTES}", name="size_limit"),
        sa.CheckConstraint(
            f"thumbnail IS NULL OR (status = 'fetched' AND octet_length(thumbnail) BETWEEN 1 AND "
            f"{MAX_THUMBNAIL_BYTES})", name="thumbnail_of_fetched"),
        sa.CheckConstraint("status <> 'failed' OR error IS NOT NULL", name="failed_says_why"),
        # no URL to fetch from: a photo a person sent, which we re-encoded and stored
        sa.CheckConstraint(
            f"source_url IS NOT NULL OR (status = 'fetched' AND "
            f"{_in('content_type', STORED_IMAGE_TYPES)})", name="upload_is_stored_image"),
    )

    id: Mapped[int] = _pk()
    message_id: Mapped[int] = mapped_column(sa.BigInteger)
    position: Mapped[int] = mapped_column(sa.SmallInteger)
    source_url: Mapped[str | None] = mapped_column(sa.Text)
    content_type: Mapped[str] = mapped_column(sa.Text)
    filename: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.Text, server_default="pending")
    data: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    size_bytes: Mapped[int | None] = mapped_column(sa.Integer)
    sha256: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    # a small JPEG of a photo, for the thread (the photo itself opens full size)
    thumbnail: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    attempts: Mapped[int] = mapped_column(server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _created()  # a status change: the thread's live refresh


class SimulatorUpload(TenantScoped, db.Model):
    """A photo sent from the phone simulator: it stands where Twilio's media store would, at a
    signed local URL the fetch job downloads like any MediaUrl (demo only)."""

    __tablename__ = "simulator_upload"
    __table_args__ = (
        sa.CheckConstraint(f"content_type ~ '{CONTENT_TYPE_PATTERN}'",
                           name="content_type_format"),
        sa.CheckConstraint(f"octet_length(data) BETWEEN 1 AND {MAX_UPLOAD_BYTES}",
                           name="size_limit"),
    )

    id: Mapped[int] = _pk()
    content_type: Mapped[str] = mapped_column(sa.Text)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = _created()
