"""The proof queries as an operator reads them: `doctor --sql` and docs/proofs.md.

Both are rendered from pawline.doctor.checks(), the list `doctor` runs, so the command, the
document and the checks cannot drift apart: tests/test_docs.py fails while docs/proofs.md
differs from render_markdown(). Regenerate it with REGENERATE.
"""

import sys
from collections.abc import Iterable
from itertools import groupby

from pawline.doctor import INVARIANTS, Check, checks

REGENERATE = "python -m pawline.proofs > docs/proofs.md"

SQL_HEADER = """\
-- Paw-line proof queries, one per check of `flask --app app doctor` (pawline/doctor.py).
-- Each returns zero rows when its rule holds, one row per problem otherwise.
-- [doctor] runs by default at any size; [doctor --full] re-reads every row."""

MARKDOWN_HEADER = f"""\
# Proof queries

<!-- Generated from the checks in pawline/doctor.py by `{REGENERATE}`.
Edit the checks, not this file: tests/test_docs.py fails while the two differ. -->

Every invariant of [the design](design.md) is held by a named constraint, index or trigger. The
queries below check, in `psql` on your own data, that each one holds. **Each query returns zero
rows when all is well**, and one row per problem otherwise: a duplicate, a row that points into
another organization, a constraint that is missing, invalid or switched off.

They are the queries `flask --app app doctor` runs, from the same list in `pawline/doctor.py`;
`doctor --sql` prints them all as one script for `psql`, as a role that can read every table:

```sh
flask --app app doctor --sql | psql "$DATABASE_URL"   # every query prints (0 rows)
```

Each query is marked with the command that runs it:

- **[doctor]** runs by default and costs the same at any size. Most ask PostgreSQL's catalog
  whether a constraint is in force: the unique index exists, is valid (a failed
  `CREATE UNIQUE INDEX CONCURRENTLY` leaves an invalid one behind) and is not partial; the
  foreign key is validated and none of its triggers is disabled; the audit trigger fires. A
  constraint in force admits no violating row, so the rows need not be read.
- **[doctor --full]** re-reads the rows for the same claims; its time grows with the data. Run
  these after a restore, a bulk load with triggers disabled, hand edits as a superuser, or
  anything done under `SET session_replication_role = replica`: such a session skips the
  foreign-key and audit triggers without changing the catalog, so only the rows show what it
  let in."""


def statement(check: Check) -> str:
    """One check as pasteable SQL: a comment saying what it proves, the query, a semicolon."""
    when = "doctor --full" if check.reads_every_row else "doctor"
    return f"-- {check.invariant} [{when}] {check.claim}\n{check.sql};"


def _by_invariant(found: Iterable[Check]) -> list[tuple[str, list[Check]]]:
    return [(key, list(group)) for key, group in groupby(found, key=lambda c: c.invariant)]


def render_sql(found: list[Check] | None = None) -> str:
    """Every proof query as one psql script (what `doctor --sql` prints)."""
    parts = [SQL_HEADER]
    for invariant, group in _by_invariant(checks() if found is None else found):
        said, _ = INVARIANTS[invariant]
        parts.append(f"-- {invariant}. {said}\n" + "\n".join(statement(c) for c in group))
    return "\n\n".join(parts) + "\n"


def render_markdown(found: list[Check] | None = None) -> str:
    """docs/proofs.md: per invariant, what holds it and its queries in one psql block."""
    sections = [MARKDOWN_HEADER]
    for invariant, group in _by_invariant(checks() if found is None else found):
        said, held_by = INVARIANTS[invariant]
        queries = "\n".join(statement(c) for c in group)
        sections.append(f"## {invariant}. {said}\n\nHeld by {held_by}.\n\n"
                        f"```sql\n{queries}\n```")
    return "\n\n".join(sections) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_markdown())
