"""Sitters: list, add, edit, activate (a masked number for good) and deactivate (quarantine)."""

from flask import Blueprint, flash, redirect, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, TelField
from wtforms.validators import Optional

from blueprints.common import get_or_404, render, staff_only
from pawline import sitters
from pawline.errors import DomainError
from pawline.models import Sitter
from pawline.phones import display_phone

bp = Blueprint("sitters", __name__, url_prefix="/sitters")
staff_only(bp)


class SitterForm(FlaskForm):
    name = StringField("Name")
    phone = TelField("Personal phone")


class NewSitterForm(SitterForm):
    email = EmailField("Sign-in email (optional)", validators=[Optional()])
    password = PasswordField("Password for a new sign-in", validators=[Optional()])


def _form_error(form, error: DomainError) -> None:
    field = getattr(form, error.field or "", None) or form.name
    field.errors = [*field.errors, error.message]


def _index(form=None, status=200):
    return render("sitters/index.html", block="add_form" if status != 200 else None,
                  status=status, rows=sitters.list_sitters(current_user.org_id),
                  form=form or NewSitterForm())


@bp.route("")
def index():
    """The sitters, their masked numbers and sign-ins, and a form to add one."""
    return _index()


@bp.route("", methods=["POST"])
def create():
    """Add an inactive sitter (optionally with a sitter sign-in)."""
    form = NewSitterForm()
    if not form.validate_on_submit():
        return _index(form, 400)
    try:
        sitter = sitters.create_sitter(current_user.org_id, form.name.data, form.phone.data,
                                       email=form.email.data, actor_user_id=current_user.id,
                                       password=form.password.data)
    except DomainError as error:
        _form_error(form, error)
        return _index(form, 422)
    flash(f"{sitter.name} added. Activate them to give them a masked number.", "success")
    return redirect(url_for("sitters.index"))


@bp.route("/<int:sitter_id>", methods=["GET", "POST"])
def edit(sitter_id: int):
    """Edit a sitter's name and personal phone."""
    sitter = get_or_404(Sitter, sitter_id)
    form = SitterForm(data={"name": sitter.name, "phone": display_phone(sitter.phone_e164)})
    if form.validate_on_submit():
        try:
            sitters.update_sitter(current_user.org_id, sitter_id, form.name.data,
                                  form.phone.data, actor_user_id=current_user.id)
        except DomainError as error:
            _form_error(form, error)
            return render("sitters/edit.html", block="edit_form", status=422, form=form,
                          sitter=sitter,
                          number=sitters.sitter_number(current_user.org_id, sitter_id))
        flash("Saved.", "success")
        return redirect(url_for("sitters.index"))
    return render("sitters/edit.html", form=form, sitter=sitter,
                  number=sitters.sitter_number(current_user.org_id, sitter_id))


@bp.route("/<int:sitter_id>/activate", methods=["POST"])
def activate(sitter_id: int):
    """Activate a sitter; it gets one masked number unless it holds one already."""
    sitter = get_or_404(Sitter, sitter_id)
    result = sitters.activate_sitter(current_user.org_id, sitter_id, current_user.id)
    if result.number is None:
        flash(f"{sitter.name} is active. {sitters.NO_NUMBER}", "warning")
    elif result.newly_assigned:
        flash(f"{sitter.name} is active with the masked number {display_phone(result.number)}.",
              "success")
    else:
        flash(f"{sitter.name} is active and keeps {display_phone(result.number)}.", "success")
    return redirect(url_for("sitters.index"))


@bp.route("/<int:sitter_id>/deactivate", methods=["POST"])
def deactivate(sitter_id: int):
    """Deactivate a sitter; its number goes into quarantine."""
    sitter = get_or_404(Sitter, sitter_id)
    e164 = sitters.deactivate_sitter(current_user.org_id, sitter_id, current_user.id)
    signed_out = " Their sign-in is signed out and turned off." if sitter.user_id else ""
    if e164:
        flash(f"{sitter.name} is inactive. {display_phone(e164)} is in quarantine for "
              f"90 days: clients who text it are still heard.{signed_out}", "success")
    else:
        flash(f"{sitter.name} is inactive.{signed_out}", "success")
    return redirect(url_for("sitters.index"))
