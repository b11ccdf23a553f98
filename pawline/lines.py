"""Lines: the organization's numbers as a front desk names them ("Front desk", "Sam's line").

An owner may name a line; an unnamed one takes a name from its class and its sitter, so a
number that moves (made front desk, handed to a sitter, quarantined) is named for what it is now.
"""

from dataclasses import dataclass

import sqlalchemy as sa

from pawline.db import db
from pawline.errors import DomainError, NotFound
from pawline.models import MessageNumber, Sitter
from pawline.phones import display_phone

LABEL_MAX = 40


@dataclass(frozen=True)
class Line:
    """A number with its name: `label` first, the digits second."""

    id: int
    e164: str
    label: str
    number_class: str
    status: str

    @property
    def digits(self) -> str:
        return display_phone(self.e164)


def derived_label(e164: str, number_class: str, sitter_name: str | None) -> str:
    """The name of a line nobody has named: by its class, or its sitter's name."""
    if number_class == "front_desk":
        return "Front desk"
    if sitter_name:
        return f"{sitter_name}'s line"
    if number_class == "sitter":
        return f"Sitter line {e164[-4:]}"
    return f"Pool {e164[-4:]}"


def line_of(number: MessageNumber, sitter_name: str | None) -> Line:
    """A number as a line: the owner's label, else the derived one."""
    label = number.label or derived_label(number.e164, number.number_class, sitter_name)
    return Line(number.id, number.e164, label, number.number_class, number.status)


def org_lines(org_id: int) -> dict[int, Line]:
    """Every line of the organization by number id, in one query (an organization has few)."""
    rows = db.session.execute(
        sa.select(MessageNumber, Sitter.name)
        .outerjoin(Sitter, sa.and_(Sitter.id == MessageNumber.assigned_sitter_id,
                                   Sitter.org_id == MessageNumber.org_id))
        .where(MessageNumber.org_id == org_id)).all()
    return {number.id: line_of(number, sitter_name) for number, sitter_name in rows}


def rename_line(org_id: int, number_id: int, label: str | None) -> MessageNumber:
    """Name a line; an empty name goes back to the derived one."""
    text = " ".join((label or "").split())
    if len(text) > LABEL_MAX:
        raise DomainError(f"A line's name can have at most {LABEL_MAX} characters.", "label")
    number = db.session.scalar(sa.select(MessageNumber).where(
        MessageNumber.id == number_id, MessageNumber.org_id == org_id))
    if number is None:
        raise NotFound("That number does not exist.")
    number.label = text or None
    db.session.commit()
    return number
