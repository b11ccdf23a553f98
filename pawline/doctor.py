"""Proof queries for the invariants of DESIGN.md: each answers the rows that would break one.

Two kinds. Catalog checks prove an invariant through the constraint that holds it: a valid
unique index cannot hold duplicates, a validated and enabled foreign key cannot hold a row of
another organization. They cost the same at any size, so `doctor` runs them by default. Data
checks re-read every row for the same claims (`doctor --full`): for after a restore, a bulk load
with triggers off, or hand surgery, which can slip rows past a foreign key.
"""

from dataclasses import dataclass

import sqlalchemy as sa

UNIQUE_INDEXES = {
    "I1": "uq_client_contact_org_id_e164",
    "I2": "uq_client_contact_client_id_e164",
    "I3": "uq_thread_org_id_client_id",
    "I5": "uq_message_number_assigned_sitter_id",
    "I6": "uq_message_provider_provider_sid",
    "I7": "uq_assignment_window_booking_id",
    "I8": "uq_message_number_e164",
}

# (child table, its id column, parent table): the composite foreign keys that hold I4.
TENANT_LINKS = [
    ("client_contact", "client_id", "client"),
    ("thread", "client_id", "client"),
    ("thread", "default_number_id", "message_number"),
    ("message", "thread_id", "thread"),
    ("message", "number_id", "message_number"),
    ("message", "sent_by_user_id", "app_user"),
    ("thread_event", "thread_id", "thread"),
    ("thread_event", "actor_user_id", "app_user"),
    ("booking", "client_id", "client"),
    ("booking", "sitter_id", "sitter"),
    ("assignment_window", "thread_id", "thread"),
    ("assignment_window", "booking_id", "booking"),
    ("assignment_window", "sitter_id", "sitter"),
    ("message_number", "assigned_sitter_id", "sitter"),
    ("sitter", "user_id", "app_user"),
    ("audit_event", "actor_user_id", "app_user"),
]


@dataclass(frozen=True)
class Check:
    invariant: str
    claim: str
    sql: str  # answers one row per violation
    reads_every_row: bool = False  # a data check: run by run_checks(..., full=True) only


@dataclass(frozen=True)
class Result:
    check: Check
    violations: list

    @property
    def holds(self) -> bool:
        return not self.violations


def _duplicates(table: str, columns: str) -> str:
    not_null = " AND ".join(f"{c.strip()} IS NOT NULL" for c in columns.split(","))
    return (f"SELECT {columns}, count(*) FROM {table} WHERE {not_null} "
            f"GROUP BY {columns} HAVING count(*) > 1")


def _index_exists(name: str) -> str:
    return (f"SELECT '{name}' AS missing WHERE NOT EXISTS (SELECT 1 FROM pg_index i "
            f"JOIN pg_class c ON c.oid = i.indexrelid "
            f"WHERE c.relname = '{name}' AND i.indisunique AND i.indisvalid)")


def _foreign_key_enforced(name: str) -> str:
    return (f"SELECT '{name}' AS not_enforced WHERE NOT EXISTS (SELECT 1 FROM pg_constraint k "
            f"WHERE k.conname = '{name}' AND k.contype = 'f' AND k.convalidated AND NOT EXISTS "
            f"(SELECT 1 FROM pg_trigger t WHERE t.tgconstraint = k.oid AND t.tgenabled = 'D'))")


def _cross_tenant(child: str, column: str, parent: str) -> str:
    return (f"SELECT c.id FROM {child} c JOIN {parent} p ON p.id = c.{column} "
            f"WHERE p.org_id <> c.org_id")


def foreign_key_name(child: str, column: str, parent: str) -> str:
    return f"fk_{child}_{column}_org_id_{parent}"


def checks() -> list[Check]:
    """Every proof query, in the order of DESIGN.md."""
    found = [
        Check("I1", "no (org_id, e164) appears twice in client_contact",
              _duplicates("client_contact", "org_id, e164"), reads_every_row=True),
        Check("I2", "no client lists a phone twice",
              _duplicates("client_contact", "client_id, e164"), reads_every_row=True),
        Check("I3", "no client has two threads", _duplicates("thread", "org_id, client_id"),
              reads_every_row=True),
        Check("I5", "no sitter holds two numbers",
              _duplicates("message_number", "assigned_sitter_id"), reads_every_row=True),
        Check("I5", "no number is assigned to an inactive sitter or while quarantined",
              "SELECT n.id FROM message_number n JOIN sitter s ON s.id = n.assigned_sitter_id "
              "WHERE NOT s.active OR n.status <> 'active'"),
        Check("I6", "no provider message is stored twice",
              _duplicates("message", "provider, provider_sid"), reads_every_row=True),
        Check("I7", "no booking has two assignment windows",
              _duplicates("assignment_window", "booking_id"), reads_every_row=True),
        Check("I8", "no number is in two pools", _duplicates("message_number", "e164"),
              reads_every_row=True),
        Check("I9", "the audit trail refuses UPDATE and DELETE (trigger installed)",
              "SELECT 'audit_event_append_only' AS missing WHERE NOT EXISTS (SELECT 1 FROM "
              "pg_trigger WHERE tgname = 'audit_event_append_only' AND NOT tgisinternal "
              "AND tgenabled <> 'D')"),
    ]
    for child, column, parent in TENANT_LINKS:
        name = foreign_key_name(child, column, parent)
        found.append(Check("I4", f"the foreign key {name} is validated and enforced",
                           _foreign_key_enforced(name)))
        found.append(Check("I4", f"every {child}.{column} is a {parent} of the same organization",
                           _cross_tenant(child, column, parent), reads_every_row=True))
    for invariant, name in UNIQUE_INDEXES.items():
        found.append(Check(invariant, f"the unique index {name} exists and is valid",
                           _index_exists(name)))
    return sorted(found, key=lambda c: int(c.invariant[1:]))


def run_checks(connection, full: bool = False) -> list[Result]:
    """Run the catalog checks, and with `full` the data checks too; answer the results."""
    return [
        Result(check, [tuple(row) for row in connection.execute(sa.text(check.sql)).fetchmany(5)])
        for check in checks() if full or not check.reads_every_row
    ]
