"""Audit."""

from flask import Blueprint

from blueprints.common import render, staff_only

bp = Blueprint("audit", __name__, url_prefix="/audit")
staff_only(bp)


@bp.route("")
def index():
    """The Audit page."""
    return render("audit/index.html")
