"""The sitter's own page."""

from flask import Blueprint
from flask_login import current_user

from blueprints.common import render, roles_required
from pawline import sitters
from pawline.clock import utcnow

bp = Blueprint("sitter_portal", __name__, url_prefix="/me")


@bp.route("")
@roles_required("sitter")
def home():
    """The signed-in sitter's number, bookings and current clients."""
    now = utcnow()
    return render("sitter_portal/home.html", now=now,
                  home=sitters.sitter_home(current_user.org_id, current_user.id, now))
