"""Sitters."""

from flask import Blueprint

from blueprints.common import render, staff_only

bp = Blueprint("sitters", __name__, url_prefix="/sitters")
staff_only(bp)


@bp.route("")
def index():
    """The Sitters page."""
    return render("sitters/index.html")
