"""Test data through the domain layer. Call inside an app context; each answers plain ids."""

import hashlib
import itertools
from types import SimpleNamespace

import sqlalchemy as sa

from pawline import accounts, bookings, sitters
from pawline.db import db
from pawline.images import thumbnail
from pawline.inbound import receive_sms
from pawline.media import Media
from pawline.media_models import Attachment
from pawline.models import Client, ClientContact, MessageNumber, Thread, User

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


def org(name: str | None = None) -> SimpleNamespace:
    """An organization with an owner, a staff member and a sitter user."""
    n = next(_seq)
    slug = f"org-{n}"
    created = accounts.register_org(name or f"Org {n}", f"owner{n}@example.com", PASSWORD,
                                    slug=slug)
    staff = accounts.add_user(slug, f"staff{n}@example.com", PASSWORD, "staff")
    sitter = accounts.add_user(slug, f"sitter{n}@example.com", PASSWORD, "sitter")
    owner_id = db.session.scalar(sa.select(User.id).where(User.email == f"owner{n}@example.com"))
    return SimpleNamespace(
        id=created.id, slug=slug, owner_email=f"owner{n}@example.com",
        staff_email=staff.email, sitter_email=sitter.email, sitter_user_id=sitter.id,
        owner_user_id=owner_id, staff_user_id=staff.id,
    )


POOL, CLIENT_PHONE = "+14155550101", "+14155552671"


def org_with_thread(pool: str = POOL, from_: str = CLIENT_PHONE,
                    body: str = "Is Rex okay?") -> SimpleNamespace:
    """An organization (as org()) with a pool number and a client's thread begun by a text
    from `from_`: the front desk's usual world; its thread_id beside the rest."""
    created = org()
    number(created.id, pool, "pool")
    created.thread_id = receive_sms(pool, from_, body, f"SMworld{next(_seq)}").thread_id
    return created


def book_sitter(org_id: int, thread_id: int, email: str, starts_at, ends_at,
                e164: str = "+14155550110") -> int:
    """The sitter user `email` as an active sitter holding the number `e164`, with a confirmed
    booking of the thread's client from `starts_at` to `ends_at`; answers the booking id."""
    number(org_id, e164, "sitter")
    sam = sitters.create_sitter(org_id, "Sam", "+14155553001", email)
    sitters.activate_sitter(org_id, sam.id, None)
    client_id = db.session.get(Thread, thread_id).client_id
    booking = bookings.create_booking(org_id, client_id, sam.id, starts_at, ends_at)
    bookings.confirm_booking(org_id, booking.id)
    return booking.id


def client(org_id: int, name: str = "Ada Lovelace", phone: str | None = None) -> int:
    """A client, with a contact when `phone` (E.164) is given; answers the client id."""
    row = Client(org_id=org_id, name=name)
    db.session.add(row)
    db.session.flush()
    if phone:
        db.session.add(ClientContact(org_id=org_id, client_id=row.id, e164=phone))
    db.session.commit()
    return row.id


def number(org_id: int, e164: str, number_class: str = "pool", **fields) -> int:
    """A masked number of the organization; answers its id."""
    row = MessageNumber(org_id=org_id, e164=e164, number_class=number_class, **fields)
    db.session.add(row)
    db.session.commit()
    return row.id


def phone(n: int | None = None) -> str:
    """A fresh valid US phone number in E.164."""
    n = next(_seq) if n is None else n
    return f"+1415{2000000 + n:07d}"


def mms(to: str, from_: str, *types: str, body: str = "") -> SimpleNamespace:
    """An inbound MMS carrying one file of each content type; answers the receive result and
    its attachment ids (pending, as the webhook leaves them)."""
    n = next(_seq)
    result = receive_sms(to, from_, body, f"MM{n:032d}", num_media=len(types),
                         media_items=tuple(Media(f"https://api.twilio.com/m/ME{n}x{i}", kind)
                                           for i, kind in enumerate(types)))
    ids = db.session.scalars(sa.select(Attachment.id).where(
        Attachment.message_id == result.message_id).order_by(Attachment.position)).all()
    return SimpleNamespace(**vars(result), attachment_ids=list(ids))


def fetched(attachment_id: int, data: bytes, content_type: str) -> None:
    """An attachment as the fetch job leaves it: its bytes, size and SHA-256 stored."""
    db.session.execute(sa.update(Attachment).where(Attachment.id == attachment_id).values(
        status="fetched", data=data, size_bytes=len(data),
        sha256=hashlib.sha256(data).digest(), content_type=content_type, attempts=1,
        thumbnail=thumbnail(data) if content_type.startswith("image/") else None))
    db.session.commit()
