"""Phone simulator."""

from flask import Blueprint

from blueprints.common import render, staff_only

bp = Blueprint("simulator", __name__, url_prefix="/simulator")
staff_only(bp)


@bp.route("")
def index():
    """The Phone simulator page."""
    return render("simulator/index.html")
