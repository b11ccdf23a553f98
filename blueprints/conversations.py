"""The Closed tab's Conversations view: every closed conversation, not only every thread, each
a link to its thread with that conversation unfolded (pawline/conversations.py). On the inbox
blueprint, as the Closed tab is the inbox's."""

from flask import g, request

from blueprints.common import render
from blueprints.inbox import _new_message, _staff_only, bp
from pawline import conversations, inbox
from pawline.assignment import WHO
from pawline.clock import utcnow


@bp.route("/inbox/conversations")
def closed_conversations():
    """Closed conversations newest first; `cursor` continues a page (htmx: only the rows)."""
    _staff_only()
    page = conversations.closed(g.org.id, request.args.get("cursor"))
    return render("inbox/closed_conversations.html", "conversation_rows", **_new_message(),
                  conversations_page=page, page=page, tab="closed", q="", who="all", whos=WHO,
                  tabs=inbox.TABS, tab_counts=inbox.tab_counts(g.org.id),
                  count_cap=inbox.COUNT_CAP, loaded_at=utcnow().isoformat())
