"""Numbers."""

from flask import Blueprint

from blueprints.common import render, staff_only

bp = Blueprint("numbers", __name__, url_prefix="/numbers")
staff_only(bp)


@bp.route("")
def index():
    """The Numbers page."""
    return render("numbers/index.html")
