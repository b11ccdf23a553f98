"""Audit: the organization's append-only trail, newest first, filtered, paged by id."""

from flask import Blueprint, request
from flask_login import current_user

from blueprints.common import id_arg, render, staff_only
from blueprints.formatting import org_zone
from pawline import audit_log, sentences

bp = Blueprint("audit", __name__, url_prefix="/audit")
staff_only(bp)


@bp.route("")
def index():
    """The Audit page; with ?before=<id> only the next, older rows (for htmx)."""
    filters = {
        "action": request.args.get("action", "").strip() or None,
        "actor_id": id_arg("actor"),
        "entity_type": request.args.get("entity", "").strip() or None,
    }
    before = id_arg("before")
    page = audit_log.audit_page(current_user.org_id, before=before, **filters)
    block = "rows" if before else "results"
    said = sentences.audit_sentences(current_user.org_id, page.lines, org_zone())
    return render("audit/index.html", block=block, page=page, filters=filters, said=said,
                  action_name=sentences.action_name, entity_names=sentences.ENTITY_NAMES,
                  choices=audit_log.filter_choices(current_user.org_id))
