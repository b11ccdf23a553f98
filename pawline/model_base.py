"""What every model module builds on: the tenancy mixin, the column and key helpers, and the
patterns more than one table checks. pawline.models re-exports all of it.

Tenancy (I4): every row that points at a client, thread, number, sitter, booking or user points
with a composite foreign key `(x_id, org_id) -> x (id, org_id)`, so it cannot name a row of another
organization. Those targets carry `UNIQUE (id, org_id)` for the foreign keys to reference.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

# The variables of a saved reply (pawline.saved_replies), here for message's check: a known
# variable left as typed ({booking_start}) is never sent to a client.
VARIABLES = ("client_first_name", "client_name", "sitter_name", "booking_start", "booking_end",
             "business_name")
UNFILLED_VARIABLE_SQL = rf"\{{({'|'.join(VARIABLES)})\}}"
# {word} that is not one of VARIABLES: PostgreSQL's regular expressions have lookahead. Here,
# with the most a saved or automatic message may say, for the tables of both.
UNKNOWN_VARIABLE_SQL = rf"\{{(?!({'|'.join(VARIABLES)})\}})[A-Za-z_][A-Za-z0-9_]*\}}"
BODY_MAX = 1600

E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _pk() -> Mapped[int]:
    return mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)


def _created() -> Mapped[datetime]:
    return mapped_column(sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _tenant_fk(column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column, "org_id"], [f"{target}.id", f"{target}.org_id"])


class TenantScoped:
    """A row that belongs to one organization (pawline.tenancy filters queries on it)."""

    org_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("organization.id"), nullable=False
    )
