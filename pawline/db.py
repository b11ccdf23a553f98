"""The SQLAlchemy handle, with named constraints so code matches violations on names."""

import select

import psycopg
from flask_sqlalchemy import SQLAlchemy
from psycopg.rows import namedtuple_row
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError
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


def ours(name, type_, parent_names) -> bool:
    """What alembic compares: our tables, not the job queue's (procrastinate owns its schema)."""
    return not (type_ == "table" and name and name.startswith("procrastinate_"))


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


def run_sql(statement: str, params: dict | None = None) -> psycopg.Cursor:
    """Run fixed SQL through psycopg on the session's connection, inside its transaction.

    For the statements every inbound SMS runs: SQLAlchemy's building, compiling and result
    handling cost ~0.15 ms a statement on top of the round trip (bench/), and psycopg prepares
    a statement it has run five times. Errors come out as SQLAlchemy's, like any other query's.
    """
    session = db.session()
    session.flush()  # rows the session holds unsent are visible to the statement, as usual
    try:
        return driver_connection(session).cursor(row_factory=namedtuple_row).execute(
            statement, params)
    except psycopg.Error as error:
        raise DBAPIError.instance(statement, params, error, psycopg.Error) from None


_DRIVER = "pawline.db driver connection"  # session.info's key: (transaction, connection)


def driver_connection(session=None) -> psycopg.Connection:
    """The psycopg connection under the session's transaction (begun if there is none), looked
    up once a transaction: through the session it costs as much CPU as a short statement's
    round trip. For fixed SQL (`run_sql`) and for procrastinate's defers, which commit with the
    session's rows."""
    session = session or db.session()
    transaction = session.get_transaction()
    known = session.info.get(_DRIVER)
    if known is not None and transaction is not None and known[0] is transaction:
        return known[1]
    connection = session.connection().connection.driver_connection
    # the transaction session.connection() stands in, begun just now when there was none
    session.info[_DRIVER] = (session.get_transaction(), connection)
    return connection


def refuse_dead_connections(engine: Engine) -> None:
    """Check each pooled connection as it is checked out, without a round trip to the server.

    A server that ends a connection (a restart, `pg_terminate_backend`, an idle timeout) says
    so on its socket: a FATAL message and the close. A connection idle in the pool has nothing
    to read otherwise, so one that does is given up, and the pool opens a new one in its place.
    This replaces SQLAlchemy's `pool_pre_ping`, which sent the server an empty query on every
    checkout: one more round trip for every request and every job (bench/: about a tenth of
    an inbound webhook's CPU, the server's and ours).
    """
    event.listen(engine, "checkout", _alive_or_replaced)


def _alive_or_replaced(dbapi_connection, _record, _proxy) -> None:
    if _gone(dbapi_connection):
        raise DisconnectionError("the server closed this connection while it was in the pool")


def _gone(connection: psycopg.Connection) -> bool:
    """True when `connection` is closed, broken, or has input waiting while idle."""
    if connection.closed or connection.broken:
        return True
    try:
        waiting = select.poll()
        waiting.register(connection.fileno(), select.POLLIN)
        return bool(waiting.poll(0))
    except (OSError, ValueError, psycopg.Error):
        return True
