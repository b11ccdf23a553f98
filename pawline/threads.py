"""Clients by phone and their one thread (I1, I3): atomic find-or-create, never look-then-create.

Each function runs inside the caller's transaction and does not commit; under any number of
concurrent callers the result is the same rows as one caller.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from pawline.clock import utcnow
from pawline.db import db
from pawline.models import Client, ClientContact, Thread, ThreadEvent


def guest_name(e164: str) -> str:
    return f"Guest ({e164})"


def find_or_create_client_by_phone(org_id: int, e164: str) -> tuple[int, bool]:
    """The client whose contact is `e164` in this organization, made a guest if new.

    Answers (client_id, created). A new client and its contact are inserted together; when a
    concurrent caller wins the contact's unique index (I1), our client row is removed again in
    this transaction and the winner's client is answered.
    """
    session = db.session
    existing = session.scalar(
        sa.select(ClientContact.client_id).where(
            ClientContact.org_id == org_id, ClientContact.e164 == e164)
    )
    if existing is not None:
        return existing, False
    client_id = session.scalar(
        insert(Client).values(org_id=org_id, name=guest_name(e164), is_guest=True)
        .returning(Client.id)
    )
    won = session.scalar(
        insert(ClientContact)
        .values(org_id=org_id, client_id=client_id, e164=e164, label="mobile")
        .on_conflict_do_nothing(index_elements=["org_id", "e164"])
        .returning(ClientContact.client_id)
    )
    if won is not None:
        return won, True
    session.execute(sa.delete(Client).where(Client.id == client_id))
    winner = session.scalar(
        sa.select(ClientContact.client_id).where(
            ClientContact.org_id == org_id, ClientContact.e164 == e164)
    )
    return winner, False


def find_or_create_thread(org_id: int, client_id: int, now: datetime | None = None) -> int:
    """The client's one thread (I3), created open if it has none; answers its id."""
    session = db.session
    created = session.scalar(
        insert(Thread)
        .values(org_id=org_id, client_id=client_id, status="open",
                last_activity_at=now or utcnow())
        .on_conflict_do_nothing(index_elements=["org_id", "client_id"])
        .returning(Thread.id)
    )
    if created is not None:
        return created
    return session.scalar(
        sa.select(Thread.id).where(Thread.org_id == org_id, Thread.client_id == client_id)
    )


def add_event(org_id: int, thread_id: int, kind: str, detail: str = "",
              actor_user_id: int | None = None, now: datetime | None = None) -> None:
    """Append a line (closed, reopened, snoozed, merged...) to a thread's timeline."""
    db.session.add(ThreadEvent(org_id=org_id, thread_id=thread_id, kind=kind, detail=detail,
                               actor_user_id=actor_user_id, created_at=now or utcnow()))
