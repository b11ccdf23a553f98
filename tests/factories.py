"""Test data through the domain layer. Call inside an app context; each answers plain ids."""

import itertools
from types import SimpleNamespace

import sqlalchemy as sa

from pawline import accounts
from pawline.db import db
from pawline.models import Client, ClientContact, MessageNumber, User

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
