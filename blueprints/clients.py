"""Clients."""

from flask import Blueprint

from blueprints.common import render, staff_only

bp = Blueprint("clients", __name__, url_prefix="/clients")
staff_only(bp)


@bp.route("")
def index():
    """The Clients page."""
    return render("clients/index.html")
