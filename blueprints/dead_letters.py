"""Dead letters: texts a signed webhook delivered that could not be filed as messages (owners)."""

from flask import Blueprint
from flask_login import current_user

from blueprints.common import render, roles_required
from pawline import dead_letters
from pawline.lines import org_lines

bp = Blueprint("dead_letters", __name__, url_prefix="/dead-letters")


@bp.route("")
@roles_required("owner")
def index():
    """The organization's dead letters, newest first: when, from, to, what it said, and why."""
    lines = {line.e164: line for line in org_lines(current_user.org_id).values()}
    return render("dead_letters/index.html", rows=dead_letters.recent(current_user.org_id),
                  page_size=dead_letters.PAGE, lines=lines)
