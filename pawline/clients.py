"""Clients and their phones: search, create, edit contacts, merge a guest into a known client.

Every write names the constraint it may break (I1, I2) and turns it into a sentence naming the
client that already holds the phone; the constraint decides, never a look beforehand.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.exc import IntegrityError

from pawline.accounts import org_region
from pawline.channel_models import ClientIdentity
from pawline.db import constraint_name, db
from pawline.errors import DomainError, DuplicateRecord, NotFound
from pawline.models import (
    Client,
    ClientContact,
    Thread,
)
from pawline.phones import display_phone, normalize_phone
from pawline.search import client_filter

LABELS = ("mobile", "home", "work", "other")
NAME_MAX = 120
ORG_PHONE_TAKEN = "uq_client_contact_org_id_e164"  # I1
CLIENT_PHONE_TAKEN = "uq_client_contact_client_id_e164"  # I2


class DuplicatePhone(DuplicateRecord):
    """The phone already belongs to a client of the organization; the message names it."""

    field = "phone"


@dataclass(frozen=True)
class ClientRow:
    id: int
    name: str
    is_guest: bool
    sort_name: str
    phones: list[str]
    thread_id: int | None

    @property
    def cursor(self) -> tuple[str, int]:
        return (self.sort_name, self.id)


@dataclass(frozen=True)
class ClientPage:
    rows: list[ClientRow]
    after: tuple[str, int] | None  # the cursor of the next page, None on the last page


# --- search ---------------------------------------------------------------------------------

def search_clients(org_id: int, query: str = "", after: tuple[str, int] | None = None,
                   limit: int = 50, only_id: int | None = None) -> ClientPage:
    """One page of the organization's clients matching words of a name or a phone, by name."""
    query = (query or "").strip()
    sort_name = sa.func.lower(Client.name)
    phones = (
        sa.select(sa.func.coalesce(
            sa.func.array_agg(aggregate_order_by(ClientContact.e164, ClientContact.id)),
            sa.literal([], sa.ARRAY(sa.Text))))
        .where(ClientContact.client_id == Client.id, ClientContact.org_id == Client.org_id)
        .scalar_subquery()
    )
    stmt = (
        sa.select(Client.id, Client.name, Client.is_guest, sort_name.label("sort_name"),
                  phones.label("phones"), Thread.id.label("thread_id"))
        .outerjoin(Thread, sa.and_(Thread.client_id == Client.id, Thread.org_id == Client.org_id))
        .where(Client.org_id == org_id)
        .order_by(sort_name, Client.id)
        .limit(limit + 1)
    )
    if query:
        stmt = stmt.where(client_filter(org_id, query, org_region(org_id)))
    if after is not None:
        stmt = stmt.where(sa.tuple_(sort_name, Client.id) > sa.tuple_(after[0], after[1]))
    if only_id is not None:
        stmt = stmt.where(Client.id == only_id)
    rows = [ClientRow(r.id, r.name, r.is_guest, r.sort_name, list(r.phones), r.thread_id)
            for r in db.session.execute(stmt)]
    more = len(rows) > limit
    rows = rows[:limit]
    return ClientPage(rows, rows[-1].cursor if more else None)


def get_client(org_id: int, client_id: int) -> Client:
    """The client of this organization, or NotFound."""
    found = db.session.scalar(
        sa.select(Client).where(Client.id == client_id, Client.org_id == org_id))
    if found is None:
        raise NotFound("That client does not exist.")
    return found


def client_contacts(org_id: int, client_id: int) -> list[ClientContact]:
    """The client's phones, oldest first."""
    return list(db.session.scalars(
        sa.select(ClientContact)
        .where(ClientContact.org_id == org_id, ClientContact.client_id == client_id)
        .order_by(ClientContact.id)))


def client_identities(org_id: int, client_id: int) -> list[ClientIdentity]:
    """The client's addresses on channels other than the phone (Telegram, Meta, web chat)."""
    return list(db.session.scalars(
        sa.select(ClientIdentity)
        .where(ClientIdentity.org_id == org_id, ClientIdentity.client_id == client_id)
        .order_by(ClientIdentity.channel, ClientIdentity.id)))


def client_thread_id(org_id: int, client_id: int) -> int | None:
    """The id of the client's one thread (I3), if it has one."""
    return db.session.scalar(
        sa.select(Thread.id).where(Thread.org_id == org_id, Thread.client_id == client_id))


# --- create and edit ------------------------------------------------------------------------

def _clean_name(name: str | None) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise DomainError("Enter a name.", field="name")
    if len(cleaned) > NAME_MAX:
        raise DomainError(f"Keep the name under {NAME_MAX} characters.", field="name")
    return cleaned


def _clean_label(label: str | None) -> str:
    if label not in LABELS:
        raise DomainError(f"Choose one of: {', '.join(LABELS)}.", field="label")
    return label


def _phone_owner_error(org_id: int, e164: str) -> DuplicatePhone:
    owner = db.session.scalar(
        sa.select(Client.name).join(
            ClientContact, sa.and_(ClientContact.client_id == Client.id,
                                   ClientContact.org_id == Client.org_id))
        .where(ClientContact.org_id == org_id, ClientContact.e164 == e164))
    return DuplicatePhone(f"{display_phone(e164)} already belongs to {owner or 'another client'}.")


def _insert_contact(org_id: int, client_id: int, e164: str, label: str) -> ClientContact:
    """Insert a contact in a savepoint; I1 and I2 violations become sentences (no commit)."""
    contact = ClientContact(org_id=org_id, client_id=client_id, e164=e164, label=label)
    try:
        with db.session.begin_nested():
            db.session.add(contact)
    except IntegrityError as error:
        name = constraint_name(error)
        if name == CLIENT_PHONE_TAKEN:
            raise DuplicatePhone(f"{display_phone(e164)} is already listed for this client.") \
                from None
        if name == ORG_PHONE_TAKEN:
            raise _phone_owner_error(org_id, e164) from None
        raise
    return contact


def create_client(org_id: int, name: str, phone_raw: str | None = None,
                  label: str = "mobile") -> int:
    """Create a client, with a first phone when given; answers the new client's id."""
    name = _clean_name(name)
    label = _clean_label(label)
    e164 = normalize_phone(phone_raw, org_region(org_id)) if (phone_raw or "").strip() else None
    try:
        # One savepoint for both rows: a taken phone leaves no client behind.
        with db.session.begin_nested():
            client = Client(org_id=org_id, name=name)
            db.session.add(client)
            db.session.flush()
            if e164:
                _insert_contact(org_id, client.id, e164, label)
    except DuplicatePhone:
        db.session.rollback()
        raise
    db.session.commit()
    return client.id


def rename_client(org_id: int, client_id: int, name: str) -> None:
    """Give the client a new name (a guest who is named stops being a guest)."""
    name = _clean_name(name)
    updated = db.session.execute(
        sa.update(Client).where(Client.id == client_id, Client.org_id == org_id)
        .values(name=name, is_guest=False))
    if updated.rowcount == 0:
        raise NotFound("That client does not exist.")
    db.session.commit()


def add_contact(org_id: int, client_id: int, phone_raw: str | None,
                label: str = "mobile") -> int:
    """List another phone for the client; a phone held by anyone in the org is refused."""
    label = _clean_label(label)
    get_client(org_id, client_id)
    e164 = normalize_phone(phone_raw, org_region(org_id))
    try:
        contact = _insert_contact(org_id, client_id, e164, label)
    except DuplicatePhone:
        db.session.rollback()
        raise
    db.session.commit()
    return contact.id


def remove_contact(org_id: int, client_id: int, contact_id: int) -> None:
    """Remove one of the client's phones (a client may end with none)."""
    deleted = db.session.execute(
        sa.delete(ClientContact).where(ClientContact.id == contact_id,
                                       ClientContact.client_id == client_id,
                                       ClientContact.org_id == org_id))
    if deleted.rowcount == 0:
        raise NotFound("That phone is not listed for this client.")
    db.session.commit()


def set_contact_label(org_id: int, client_id: int, contact_id: int, label: str) -> None:
    """Call one of the client's phones mobile, home, work or other."""
    label = _clean_label(label)
    updated = db.session.execute(
        sa.update(ClientContact).where(ClientContact.id == contact_id,
                                       ClientContact.client_id == client_id,
                                       ClientContact.org_id == org_id)
        .values(label=label))
    if updated.rowcount == 0:
        raise NotFound("That phone is not listed for this client.")
    db.session.commit()


# Merging lives in pawline.client_merge; this name stays for its callers.
from pawline.client_merge import merge_client  # noqa: E402,F401
