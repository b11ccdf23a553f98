"""The Closed tab's Conversations view: every closed conversation, not only every thread, each
a link to its thread with that conversation unfolded (pawline/conversations.py)."""

from flask import Blueprint, g, request

from blueprints.common import render, staff_only
from blueprints.inbox import _new_message
from pawline import conversations, inbox
from pawline.assignment import WHO
from pawline.clock import utcnow

bp = Blueprint("conversations", __name__)
staff_only(bp)


@bp.route("/inbox/conversations")
def closed():
    """Closed conversations newest first; `cursor` continues a page (htmx: only the rows)."""
    page = conversations.closed(g.org.id, request.args.get("cursor"))
    return render("inbox/closed_conversations.html", "conversation_rows", **_new_message(),
                  conversations_page=page, page=page, tab="closed", q="", who="all", whos=WHO,
                  tabs=inbox.TABS, tab_counts=inbox.tab_counts(g.org.id),
                  count_cap=inbox.COUNT_CAP, loaded_at=utcnow().isoformat())
