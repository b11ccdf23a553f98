"""Bookings: list, add, edit, confirm (the sitter covers the client's thread) and cancel."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SearchField, SelectField, StringField

from blueprints.common import get_or_404, render, staff_only
from pawline import accounts, bookings
from pawline.clock import utcnow
from pawline.errors import DomainError, Refused
from pawline.models import Booking

bp = Blueprint("bookings", __name__, url_prefix="/bookings")
staff_only(bp)


class BookingForm(FlaskForm):
    client_q = SearchField("Find a client")
    client_id = SelectField("Client", coerce=str, validate_choice=False)
    sitter_id = SelectField("Sitter", coerce=str, validate_choice=False)
    starts_at = StringField("Starts", render_kw={"type": "datetime-local"})
    ends_at = StringField("Ends", render_kw={"type": "datetime-local"})


def _form(booking: Booking | None = None) -> BookingForm:
    zone = accounts.org_zone(current_user.org_id)
    data = None
    if booking is not None:
        data = {"client_id": str(booking.client_id), "sitter_id": str(booking.sitter_id),
                "starts_at": bookings.local_input_value(booking.starts_at, zone),
                "ends_at": bookings.local_input_value(booking.ends_at, zone)}
    form = BookingForm(data=data)
    _offer_clients(form)
    sitters = bookings.sitter_choices(current_user.org_id)
    form.sitter_id.choices = [("", "Choose a sitter")] + [(str(i), n) for i, n in sitters]
    return form


def _offer_clients(form: BookingForm) -> None:
    """The picker's clients: those the search finds, and the one chosen."""
    query = (form.client_q.data or "").strip()
    clients = bookings.client_choices(current_user.org_id, query, form.client_id.data)
    form.client_id.choices = [("", "Choose a client")] + [(str(i), n) for i, n in clients]
    many = len(clients) >= bookings.CLIENT_CHOICES
    if query and not clients:
        form.client_id.description = f"No client matches “{query}”."
    elif many:
        form.client_id.description = (
            f"The first {bookings.CLIENT_CHOICES} by name: "
            + ("type more to narrow them." if query else "search to find any other."))


def _save(form: BookingForm, booking_id: int | None = None) -> Booking:
    """Read the form's times in the organization's zone, then create or update."""
    zone = accounts.org_zone(current_user.org_id)
    starts = bookings.parse_local_time(form.starts_at.data, zone, "starts_at")
    ends = bookings.parse_local_time(form.ends_at.data, zone, "ends_at")
    org_id, who = current_user.org_id, form.client_id.data
    if booking_id is None:
        return bookings.create_booking(org_id, who, form.sitter_id.data, starts, ends,
                                       actor_user_id=current_user.id)
    return bookings.update_booking(org_id, booking_id, who, form.sitter_id.data, starts, ends,
                                   actor_user_id=current_user.id)


def _form_error(form, error: Refused) -> None:
    field = getattr(form, error.field or "", None) or form.client_id
    field.errors = [*field.errors, error.message]


def _index(form: BookingForm, status: int = 200):
    now = utcnow()
    ahead, past = bookings.list_bookings(current_user.org_id, now)
    return render("bookings/index.html", status=status, ahead=ahead, past=past, form=form,
                  now=now)


@bp.route("")
def index():
    """Current and upcoming bookings first, then recent ones; a form to add one."""
    return _index(_form())


@bp.route("", methods=["POST"])
def create():
    """Add a pending booking."""
    form = _form()
    if not form.validate_on_submit():
        return _index(form, 400)
    try:
        _save(form)
    except Refused as error:  # a client or sitter not of this organization is a field error too
        _form_error(form, error)
        return _index(form, 422)
    flash("Booking added. Confirm it to let the sitter cover the client.", "success")
    return redirect(url_for("bookings.index"))


@bp.route("/client-picker")
def client_picker():
    """The client picker of a booking form, for what was typed in its search box (htmx)."""
    form = BookingForm(formdata=request.args, meta={"csrf": False})
    _offer_clients(form)
    return render_template("bookings/_client_picker.html", form=form)


@bp.route("/<int:booking_id>", methods=["GET", "POST"])
def edit(booking_id: int):
    """Edit a booking; a confirmed booking's window moves with it."""
    booking = get_or_404(Booking, booking_id)
    form = _form(booking)
    if form.validate_on_submit():
        try:
            _save(form, booking_id)
        except Refused as error:  # as in create: the chosen client or sitter is a form field
            _form_error(form, error)
            return render("bookings/edit.html", status=422, form=form, booking=booking)
        flash("Booking saved.", "success")
        return redirect(url_for("bookings.index"))
    return render("bookings/edit.html", form=form, booking=booking)


@bp.route("/<int:booking_id>/confirm", methods=["POST"])
def confirm(booking_id: int):
    """Confirm a booking (twice is once)."""
    get_or_404(Booking, booking_id)
    try:
        bookings.confirm_booking(current_user.org_id, booking_id, current_user.id)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash("Booking confirmed: the sitter covers this client during the booking.", "success")
    return redirect(url_for("bookings.index"))


@bp.route("/<int:booking_id>/cancel", methods=["POST"])
def cancel(booking_id: int):
    """Cancel a booking; its window ends now (or is removed if it had not started)."""
    get_or_404(Booking, booking_id)
    bookings.cancel_booking(current_user.org_id, booking_id, current_user.id)
    flash("Booking cancelled.", "success")
    return redirect(url_for("bookings.index"))
