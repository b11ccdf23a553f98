"""What every blueprint shares: page-or-fragment rendering, role checks, org-scoped lookups."""

from functools import wraps

import sqlalchemy as sa
from flask import abort, render_template, request
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block

from pawline.clock import utcnow
from pawline.db import db
from pawline.inputs import db_id
from pawline.models import Thread
from pawline.sitters import sitter_can_see_thread

STAFF = ("owner", "staff")


def wants_fragment() -> bool:
    """True for an htmx request that swaps part of a page (not boosted, not a history restore,
    not one that replaces the whole <main>, as an HX-Location to another page does)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
        and request.headers.get("HX-Target") != "main"
    )


def render(template: str, block: str | None = None, status: int = 200, **context):
    """The full page, or for an htmx partial request only `block` of the same template."""
    if block and wants_fragment():
        return render_block(template, block, **context), status
    return render_template(template, **context), status


def roles_required(*roles: str):
    """Allow a view to signed-in users of these roles; anyone else gets 404, not a hint."""

    def decorate(view):
        @wraps(view)
        @login_required
        def guarded(*args, **kwargs):
            if current_user.role not in roles:
                abort(404)
            return view(*args, **kwargs)

        return guarded

    return decorate


def staff_only(bp) -> None:
    """Restrict a whole blueprint to owners and staff (sitters get 404)."""

    @bp.before_request
    @login_required
    def _staff():
        if current_user.role not in ("owner", "staff"):
            abort(404)


def id_arg(name: str, default: int | None = None) -> int | None:
    """An id from the query string: `default` when absent or empty, a 400 when not an id
    PostgreSQL can compare (past a bigint it would be a 500 instead)."""
    raw = request.args.get(name, "")
    if not raw.strip():
        return default
    try:
        return db_id(raw)
    except ValueError:
        abort(400, f"The parameter {name!r} must be a record id.")


def get_or_404(model, record_id: int):
    """A record of the signed-in user's organization by id; any other id is 404."""
    return db.first_or_404(
        sa.select(model).where(model.id == record_id, model.org_id == current_user.org_id)
    )


def visible_thread(thread_id: int) -> Thread:
    """The thread if the signed-in user may open it (staff: any of the org's; a sitter: only
    while booked with its client), else 404."""
    thread = get_or_404(Thread, thread_id)
    if current_user.role not in STAFF and not sitter_can_see_thread(
            current_user.org_id, current_user.id, thread.id, utcnow()):
        abort(404)
    return thread
