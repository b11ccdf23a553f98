"""Inbox."""

from flask import Blueprint

from blueprints.common import render, staff_only

bp = Blueprint("inbox", __name__, url_prefix="/inbox")
staff_only(bp)


@bp.route("")
def index():
    """The Inbox page."""
    return render("inbox/index.html")
