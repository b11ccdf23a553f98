"""The sitter's own page."""

from flask import Blueprint

from blueprints.common import render, roles_required

bp = Blueprint("sitter_portal", __name__, url_prefix="/me")


@bp.route("")
@roles_required("sitter")
def home():
    """The signed-in sitter's number, bookings and current clients."""
    return render("sitter_portal/home.html")
