"""The SQLAlchemy handle, with named constraints so code matches violations on names."""

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# create_savepoint: when tests bind the session to a connection inside a transaction, an
# application rollback (after a caught unique violation) undoes only its own savepoint.
db = SQLAlchemy(model_class=Base, session_options={"join_transaction_mode": "create_savepoint"})


def constraint_name(error) -> str | None:
    """The name of the constraint an IntegrityError broke, read from the driver's diagnostics."""
    diag = getattr(getattr(error, "orig", None), "diag", None)
    return getattr(diag, "constraint_name", None)


def add_or_explain(obj, explanations: dict):
    """Insert `obj` in a savepoint; a broken constraint named in `explanations` raises its error.

    The constraint decides; the explanation only turns its name into a sentence for a person.
    """
    try:
        with db.session.begin_nested():
            db.session.add(obj)
    except IntegrityError as error:
        explained = explanations.get(constraint_name(error))
        if explained is None:
            raise
        raise explained from None
    return obj
