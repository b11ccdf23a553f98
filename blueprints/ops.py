"""For the platform, not for people: liveness, readiness and Prometheus metrics.

None needs a sign-in, sets a cookie, or is CSRF-checked or rate-limited (app.py's tenancy hook
skips this blueprint); their request log lines are at DEBUG (pawline.observability).

- `GET /healthz`: the process answers HTTP. No database: a restart would not fix one that is
  away, so a liveness probe must not fail for it.
- `GET /readyz`: this process can serve: a round trip to PostgreSQL, and the database's
  migration is the code's head (an app newer or older than its schema must take no traffic).
  503 with the reason otherwise.
- `GET /metrics`: Prometheus text, only with `Authorization: Bearer $METRICS_TOKEN`; everyone
  else, and everyone while METRICS_TOKEN is unset, gets the same 404 as an unknown page.
"""

import hmac
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Blueprint, abort, current_app, request

from pawline import metrics
from pawline.db import db
from pawline.queue_health import queue_health

bp = Blueprint("ops", __name__)
READY_TIMEOUT_MS = 2000  # each statement of a probe; a hung database is "not ready", not a hang


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    try:
        db.session.execute(sa.text(f"SET LOCAL statement_timeout = {READY_TIMEOUT_MS}"))
        db.session.execute(sa.text("SELECT 1"))
        current = set(db.session.scalars(sa.text("SELECT version_num FROM alembic_version")))
    except sa.exc.ProgrammingError:  # the session ends with the request, as always
        return _not_ready("the database has no migration: run `flask --app app db upgrade`")
    except sa.exc.SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        return _not_ready(f"database unreachable ({type(cause).__name__})")
    heads = migration_heads()
    if current != heads:
        return _not_ready(f"the database is at migration {_names(current)}, the code at "
                          f"{_names(heads)}: run `flask --app app db upgrade`")
    return {"status": "ready", "migration": _names(heads)}


def migration_heads() -> set[str]:
    """The head revision(s) of the migrations this code ships (read once per process)."""
    heads = current_app.extensions.get("pawline_migration_heads")
    if heads is None:
        directory = Path(current_app.extensions["migrate"].directory)
        heads = set(ScriptDirectory(str(directory)).get_heads())
        current_app.extensions["pawline_migration_heads"] = heads
    return heads


@bp.get("/metrics", endpoint="metrics")
def metrics_view():
    token = current_app.config.get("METRICS_TOKEN", "")
    given = request.headers.get("Authorization", "")
    if not token or not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        abort(404)  # the same answer as a page that does not exist: nothing to find here

    def read_queue():
        return queue_health(db.session.connection(),
                            current_app.config["JOB_STALLED_AFTER_SECONDS"])

    return metrics.exposition(read_queue), 200, {
        "Content-Type": "text/plain; version=0.0.4; charset=utf-8"}


def _not_ready(reason: str):
    return {"status": "not ready", "reason": reason}, 503


def _names(revisions: set[str]) -> str:
    return ", ".join(sorted(revisions)) or "none"
