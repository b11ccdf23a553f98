"""Bookings."""

from flask import Blueprint

from blueprints.common import render, staff_only

bp = Blueprint("bookings", __name__, url_prefix="/bookings")
staff_only(bp)


@bp.route("")
def index():
    """The Bookings page."""
    return render("bookings/index.html")
