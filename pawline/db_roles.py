"""The two database roles Paw-line runs with (docs/operations.md).

The migration role owns the schema and runs `flask --app app db upgrade`. The runtime role, whose
URL the web and the workers use, owns nothing: PostgreSQL lets only a table's owner (or a
superuser) ALTER it, so the runtime role cannot drop or disable the triggers that keep I9 and
I10, and it holds no TRUNCATE. `grant_runtime_role` gives it exactly what the app uses;
`role_warnings` (in `doctor`) says when the app connects as anything more, or less.
"""

import sqlalchemy as sa

from pawline.db import db
from pawline.errors import DomainError

# What the runtime role may do to each table; any other table of ours or of the job queue gets
# DEFAULT. Never TRUNCATE, REFERENCES or TRIGGER, never ownership.
DEFAULT = ("SELECT", "INSERT", "UPDATE", "DELETE")
LIMITED = {
    "audit_event": ("SELECT", "INSERT"),  # I9: only ever added
    "message": ("SELECT", "INSERT", "UPDATE"),  # I10: never removed
    "consent_event": ("SELECT", "INSERT"),  # I11: only ever added
    "phone_consent": ("SELECT", "INSERT", "UPDATE"),  # I11: a phone's consent is never forgotten
    "thread_note": ("SELECT", "INSERT", "UPDATE"),  # I13: never removed (a merge moves one)
    "alembic_version": ("SELECT",),
}
NEVER = ("TRUNCATE", "REFERENCES", "TRIGGER")
ALL = DEFAULT + NEVER


def allowed(table: str) -> tuple[str, ...]:
    return LIMITED.get(table, DEFAULT)


def app_tables(connection) -> list[str]:
    """Our tables, the job queue's and alembic_version, as the current schema has them."""
    names = connection.scalars(sa.text(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"))
    ours = set(db.metadata.tables) | {"alembic_version"}
    return [name for name in names if name in ours or name.startswith("procrastinate_")]


def _job_queue_routines(connection) -> list[str]:
    return list(connection.scalars(sa.text(
        "SELECT p.oid::regprocedure::text FROM pg_proc p "
        "WHERE p.pronamespace = current_schema()::regnamespace "
        "AND p.proname LIKE 'procrastinate\\_%' AND p.prokind IN ('f', 'p') ORDER BY 1")))


def _check_runtime_role(connection, role: str) -> None:
    row = connection.execute(sa.text(
        "SELECT rolsuper, rolname = current_user AS is_me FROM pg_roles "
        "WHERE rolname = :role"), {"role": role}).first()
    if row is None:
        raise DomainError(f"No role is named {role}: create it first (docs/operations.md).")
    if row.rolsuper or row.is_me:
        raise DomainError(f"{role} is a superuser or the role running this command: the "
                          "runtime role must be another role, one that owns nothing.")
    owned = connection.scalars(sa.text(
        "SELECT c.relname FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace "
        "AND pg_has_role(:role, c.relowner, 'USAGE') ORDER BY 1 LIMIT 3"), {"role": role}).all()
    if owned:
        raise DomainError(f"{role} owns (or is a member of the owner of) {', '.join(owned)}: "
                          "the runtime role must own nothing.")


def grant_statements(connection, role: str) -> list[str]:
    """The statements that give `role` exactly the runtime privileges (and take back others)."""
    quote = connection.dialect.identifier_preparer.quote
    who = quote(role)
    schema = quote(connection.scalar(sa.text("SELECT current_schema()")))
    statements = [f"GRANT USAGE ON SCHEMA {schema} TO {who}"]
    for table in app_tables(connection):
        statements.append(f"REVOKE ALL ON TABLE {quote(table)} FROM {who}")
        statements.append(f"GRANT {', '.join(allowed(table))} ON TABLE {quote(table)} TO {who}")
    # Identity and serial columns draw from sequences: nextval needs USAGE, nothing more.
    statements.append(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {who}")
    statements += [f"GRANT EXECUTE ON ROUTINE {routine} TO {who}"
                   for routine in _job_queue_routines(connection)]
    return statements


def grant_runtime_role(connection, role: str) -> list[str]:
    """Give `role` the runtime privileges on every table of the app (idempotent; run it as the
    migration role after each `db upgrade`). Answers the statements run."""
    _check_runtime_role(connection, role)
    statements = grant_statements(connection, role)
    for statement in statements:
        connection.execute(sa.text(statement))
    return statements


OWNED = sa.text(
    "SELECT count(*) FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace "
    "AND c.relname = ANY(:tables) AND pg_has_role(current_user, c.relowner, 'USAGE')")
HELD = sa.text(
    "SELECT c.relname, p.privilege FROM pg_class c "
    "CROSS JOIN unnest(CAST(:privileges AS text[])) AS p (privilege) "
    "WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = ANY(:tables) "
    "AND has_table_privilege(current_user, c.oid, p.privilege)")


def role_warnings(connection) -> list[str]:
    """What is wrong with the role this connection runs as, for the app's runtime role."""
    me, superuser = connection.execute(sa.text(
        "SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")).one()
    if superuser:
        return [f"connected as {me}, a superuser: it can switch off every rule of the design; "
                "run the app as a runtime role (docs/operations.md)"]
    tables = app_tables(connection)
    owned = connection.scalar(OWNED, {"tables": tables})
    if owned:
        return [f"connected as {me}, the owner of {owned} tables: it can disable the triggers "
                "of I9 and I10; run the app as a runtime role (docs/operations.md)"]
    held: dict[str, set[str]] = {table: set() for table in tables}
    for table, privilege in connection.execute(HELD, {"privileges": list(ALL),
                                                      "tables": tables}):
        held[table].add(privilege)
    found = []
    for table in tables:
        missing, extra = set(allowed(table)) - held[table], held[table] - set(allowed(table))
        if missing:
            found.append(f"{me} lacks {', '.join(sorted(missing))} on {table}: run "
                         f"`flask --app app grant-runtime-role {me}` as the migration role")
        if extra:
            found.append(f"{me} holds {', '.join(sorted(extra))} on {table}, more than the "
                         "app needs: run `grant-runtime-role` again as the migration role")
    return found
