"""People as the front desk names them: display names, who wrote a message, the profile."""

import sqlalchemy as sa

from pawline.db import db
from pawline.errors import DomainError, NotFound
from pawline.models import Message, ThreadEvent, User

NAME_MAX = 60
ROLE_NAMES = {"owner": "Owner", "staff": "Staff", "sitter": "Sitter"}
AUTOMATIC = "Automatic"


def author_names(org_id: int, messages) -> dict[int, str]:
    """The display names of the people who wrote these messages or caused these timeline
    events, in one query."""
    ids = {m.sent_by_user_id for m in messages if isinstance(m, Message) and m.sent_by_user_id}
    ids |= {e.actor_user_id for e in messages if isinstance(e, ThreadEvent) and e.actor_user_id}
    if not ids:
        return {}
    rows = db.session.execute(sa.select(User.id, User.name, User.email).where(
        User.org_id == org_id, User.id.in_(ids))).all()
    return {row.id: row.name or row.email for row in rows}


def set_display_name(org_id: int, user_id: int, name: str) -> User:
    """Change the name a user is shown by (header, messages, audit); ends no session."""
    text = " ".join((name or "").split())
    if not text:
        raise DomainError("Enter the name colleagues know you by.", "name")
    if len(text) > NAME_MAX:
        raise DomainError(f"A name can have at most {NAME_MAX} characters.", "name")
    user = db.session.scalar(sa.select(User).where(User.id == user_id, User.org_id == org_id))
    if user is None:
        raise NotFound("No such user.")
    user.name = text
    db.session.commit()
    return user
