"""Numbers: the masked-number panel; owners add, quarantine, restore and pick the front desk."""

from functools import wraps

from flask import Blueprint, abort, flash, redirect, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from blueprints.common import get_or_404, render, wants_fragment
from blueprints.common import staff_only as _staff_only
from pawline import lines, numbers
from pawline.clock import utcnow
from pawline.errors import DomainError
from pawline.models import MessageNumber
from pawline.phones import display_phone

bp = Blueprint("numbers", __name__, url_prefix="/numbers")
_staff_only(bp)

PAGE = "numbers/index.html"
CLASS_CHOICES = [SelectChoice("pool", "Pool"), SelectChoice("front_desk", "Front desk"),
                 SelectChoice("sitter", "Sitter")]
DURATION_CHOICES = [SelectChoice(d, f"{d} day" if d == "1" else f"{d} days")
                    for d in numbers.QUARANTINE_DURATIONS] + [
                        SelectChoice(numbers.CUSTOM, "Custom date")]


class AddNumberForm(FlaskForm):
    e164 = StringField("Phone number", validators=[DataRequired("Enter a phone number.")])
    number_class = SelectField("Class", choices=CLASS_CHOICES, default="pool")


class QuarantineForm(FlaskForm):
    duration = RadioField("Quarantine for", choices=DURATION_CHOICES,
                          default=str(numbers.DEFAULT_QUARANTINE_DAYS),
                          validators=[Optional()], validate_choice=False)
    custom_release_date = StringField("Release date", validators=[Optional()])
    reason = TextAreaField("Reason", validators=[Length(max=500)])


class LabelForm(FlaskForm):
    label = StringField("Line name", validators=[Length(max=lines.LABEL_MAX)])


class RestoreForm(FlaskForm):
    force_restore = BooleanField("Restore before the release date")
    restore_reason = StringField("Reason for restoring now", validators=[Length(max=500)])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.force_restore.data and not (self.restore_reason.data or "").strip():
            self.restore_reason.errors.append("Give a reason to restore before the release date.")
            return False
        return ok


def owner_only(view):
    """Owner actions: staff can see the panel but get 403 on a change."""

    @wraps(view)
    def guarded(*args, **kwargs):
        if "number_id" in kwargs:  # another organization's id is 404 for everyone, staff too
            get_or_404(MessageNumber, kwargs["number_id"])
        if current_user.role != "owner":
            abort(403, "Only an owner can change numbers.")
        return view(*args, **kwargs)

    return guarded


def _panel(status: int = 200, **context):
    context.setdefault("add_form", AddNumberForm(formdata=None))
    return render(PAGE, block="panel", status=status,
                  rows=numbers.list_numbers(current_user.org_id),
                  release_dates=numbers.release_dates(current_user.org_id, utcnow()),
                  can_manage=current_user.role == "owner",
                  blank_quarantine=QuarantineForm(formdata=None),
                  blank_restore=RestoreForm(formdata=None), **context)


def _done(message: str):
    """After a change: the fresh panel for htmx (retargeted), else a redirect with a flash."""
    if not wants_fragment():
        flash(message, "success")
        return redirect(url_for("numbers.index"))
    body, status = _panel(notice=message)
    return body, status, {"HX-Retarget": "#numbers-panel", "HX-Reswap": "outerHTML"}


def _form_error(block: str, status: int, **context):
    """A form with its errors: only that form for htmx, else the whole page."""
    if wants_fragment():
        return render(PAGE, block=block, status=status, **context,
                      release_dates=numbers.release_dates(current_user.org_id, utcnow()))
    return _panel(status=status, **context)


def _explain(form, error: DomainError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is None:
        form.form_errors.append(error.message)
    else:
        field.errors = [*field.errors, error.message]


@bp.route("")
def index():
    """The Numbers panel: every number, its class, status, sitter and release date."""
    return _panel()


@bp.route("", methods=["POST"])
@owner_only
def add():
    """Add a number to the organization's pool."""
    form = AddNumberForm()
    if form.validate():
        try:
            number = numbers.add_number(current_user.org_id, form.e164.data,
                                        form.number_class.data)
            return _done(f"Added {display_phone(number.e164)}.")
        except DomainError as error:
            _explain(form, error)
    return _form_error("add_form", 422, add_form=form)


@bp.route("/<int:number_id>/quarantine", methods=["POST"])
@owner_only
def quarantine(number_id: int):
    """Quarantine a number for a chosen duration or until a custom date."""
    row = _row_or_404(number_id)
    form = QuarantineForm()
    if form.validate():
        try:
            numbers.quarantine_number(
                current_user.org_id, number_id, current_user.id, form.duration.data or "",
                form.custom_release_date.data, form.reason.data or "")
            return _done(f"{display_phone(row.e164)} is quarantined.")
        except DomainError as error:
            _explain(form, error)
    return _form_error("quarantine_form", 422, row=row, failed_id=number_id,
                       qform=form)


@bp.route("/<int:number_id>/restore", methods=["POST"])
@owner_only
def restore(number_id: int):
    """Restore a quarantined number; before its release date only with a reason."""
    row = _row_or_404(number_id)
    form = RestoreForm()
    if form.validate():
        try:
            numbers.restore_number(current_user.org_id, number_id, current_user.id,
                                   form.force_restore.data, form.restore_reason.data or "")
            return _done(f"{display_phone(row.e164)} is active again, in the pool.")
        except DomainError as error:
            _explain(form, error)
    return _form_error("restore_form", 400, row=row, failed_id=number_id, rform=form)


@bp.route("/<int:number_id>/front-desk", methods=["POST"])
@owner_only
def front_desk(number_id: int):
    """Make a number the organization's front desk."""
    try:
        number = numbers.set_front_desk(current_user.org_id, number_id, current_user.id)
    except DomainError as error:
        if not wants_fragment():
            flash(error.message, "error")
            return redirect(url_for("numbers.index"))
        body, status = _panel(status=422, error=error.message)
        return body, status, {"HX-Retarget": "#numbers-panel", "HX-Reswap": "outerHTML"}
    return _done(f"{display_phone(number.e164)} is now the front desk.")


@bp.route("/<int:number_id>/label", methods=["POST"])
@owner_only
def rename(number_id: int):
    """Name a line ("Pool 2"); an empty name goes back to the one Paw-line derives."""
    row = _row_or_404(number_id)
    form = LabelForm()
    if form.validate():
        try:
            number = lines.rename_line(current_user.org_id, number_id, form.label.data)
            said = f"“{number.label}”" if number.label else "its usual name"
            return _done(f"{display_phone(row.e164)} is now called {said}.")
        except DomainError as error:
            _explain(form, error)
    message = "; ".join(form.label.errors) or "That name cannot be used."
    if not wants_fragment():
        flash(message, "error")
        return redirect(url_for("numbers.index"))
    body, status = _panel(status=422, error=message)
    return body, status, {"HX-Retarget": "#numbers-panel", "HX-Reswap": "outerHTML"}


def _row_or_404(number_id: int) -> numbers.NumberRow:
    return numbers.number_row(current_user.org_id, number_id)  # NotFound answers 404
