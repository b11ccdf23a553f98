"""Clients: search, create, edit phones, merge a guest into a known client."""

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectChoice, SelectField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from blueprints.common import id_arg, render, staff_only, wants_fragment
from pawline import client_page, clients, consent
from pawline.errors import DomainError
from pawline.inputs import BIGINT_MAX

bp = Blueprint("clients", __name__, url_prefix="/clients")
staff_only(bp)

LABEL_CHOICES = [SelectChoice(label, label.capitalize()) for label in clients.LABELS]
MERGE_CANDIDATES = 10


class NewClientForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=clients.NAME_MAX)])
    phone = TelField("Phone", validators=[Optional(), Length(max=40)])


class RenameForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=clients.NAME_MAX)])


class ContactForm(FlaskForm):
    phone = TelField("Phone", validators=[DataRequired(), Length(max=40)])
    label = SelectField("Label", choices=LABEL_CHOICES, default="mobile")


class LabelForm(FlaskForm):
    label = SelectField("Label", choices=LABEL_CHOICES)


class NotesForm(FlaskForm):
    notes = TextAreaField("What to remember about this client",
                          validators=[Length(max=client_page.NOTES_MAX)])


class MergeForm(FlaskForm):
    into_client_id = IntegerField("Client to keep", validators=[
        DataRequired("Choose the client to keep."),
        NumberRange(1, BIGINT_MAX, "Choose the client to keep.")])


def _show_error(form: FlaskForm, error: DomainError, default: str) -> None:
    """Put a domain refusal under the field it concerns."""
    target = getattr(form, error.field or default, None) or getattr(form, default)
    target.errors = [*target.errors, error.message]


def _cursor(args) -> tuple[str, int] | None:
    after_id = id_arg("after_id")
    return (args.get("after_name", ""), after_id) if after_id is not None else None


@bp.get("")
def index():
    """The client list: search by name or phone, a page at a time."""
    q = request.args.get("q", "").strip()
    after = _cursor(request.args)
    page = clients.search_clients(current_user.org_id, q, after)
    return render("clients/index.html", block="rows" if after else "results",
                  page=page, q=q, form=NewClientForm(formdata=None))


@bp.post("")
def create():
    """Add a client, with a first phone when given."""
    form = NewClientForm()
    if form.validate_on_submit():
        try:
            client_id = clients.create_client(current_user.org_id, form.name.data, form.phone.data)
        except DomainError as error:
            _show_error(form, error, "name")
        else:
            flash(f"{form.name.data.strip()} was added.", "success")
            return redirect(url_for(".detail", client_id=client_id))
    page = clients.search_clients(current_user.org_id)
    return render("clients/index.html", page=page, q="", form=form, status=400)


def _detail(client_id: int, block: str | None = None, status: int = 200, **forms):
    """The client page (or one of its blocks) with fresh forms unless given."""
    org_id = current_user.org_id
    client = clients.get_client(org_id, client_id)
    merge_q = request.args.get("merge_q", "").strip()
    candidates = []
    if client.is_guest and merge_q:
        rows = clients.search_clients(org_id, merge_q, limit=MERGE_CANDIDATES + 1).rows
        candidates = [row for row in rows if row.id != client.id][:MERGE_CANDIDATES]
    thread_id = clients.client_thread_id(org_id, client_id)
    contacts = clients.client_contacts(org_id, client_id)
    return render(
        "clients/detail.html", block=block, status=status, client=client, contacts=contacts,
        identities=clients.client_identities(org_id, client_id),
        opted_out=consent.opted_out_phones(org_id, [c.e164 for c in contacts]),
        thread_id=thread_id,
        recent=client_page.recent_messages(org_id, thread_id),
        bookings=client_page.client_bookings(org_id, client_id),
        notes_form=forms.get("notes_form") or NotesForm(formdata=None, notes=client.notes),
        notes_saved=forms.get("notes_saved", False),
        merge_q=merge_q, candidates=candidates,
        rename_form=forms.get("rename_form") or RenameForm(
            formdata=None, name="" if client.is_guest else client.name),
        contact_form=forms.get("contact_form") or ContactForm(formdata=None),
        merge_form=forms.get("merge_form") or MergeForm(formdata=None),
        label_errors=forms.get("label_errors", {}), label_choices=LABEL_CHOICES,
    )


def _contacts_changed(client_id: int):
    """After a phone edit: the phones block for htmx, else back to the page."""
    if wants_fragment():
        return _detail(client_id, block="contacts")
    return redirect(url_for(".detail", client_id=client_id))


@bp.get("/<int:client_id>")
def detail(client_id: int):
    """One client: name, phones, conversation link, and merging for guests."""
    return _detail(client_id, block="candidates" if "merge_q" in request.args else None)


@bp.post("/<int:client_id>")
def rename(client_id: int):
    """Rename the client."""
    form = RenameForm()
    if form.validate_on_submit():
        try:
            clients.rename_client(current_user.org_id, client_id, form.name.data)
        except DomainError as error:
            _show_error(form, error, "name")
        else:
            flash("Name saved.", "success")
            return redirect(url_for(".detail", client_id=client_id))
    return _detail(client_id, status=400, rename_form=form)


@bp.post("/<int:client_id>/notes")
def save_notes(client_id: int):
    """Keep the staff's notes on the client."""
    form = NotesForm()
    if form.validate_on_submit():
        try:
            client_page.set_notes(current_user.org_id, client_id, form.notes.data)
        except DomainError as error:
            _show_error(form, error, "notes")
        else:
            if wants_fragment():
                return _detail(client_id, block="notes", notes_saved=True)
            flash("Notes saved.", "success")
            return redirect(url_for(".detail", client_id=client_id))
    return _detail(client_id, block="notes", status=400, notes_form=form)


@bp.post("/<int:client_id>/contacts")
def add_contact(client_id: int):
    """List another phone for the client."""
    form = ContactForm()
    if form.validate_on_submit():
        try:
            clients.add_contact(current_user.org_id, client_id, form.phone.data, form.label.data)
        except DomainError as error:
            _show_error(form, error, "phone")
        else:
            return _contacts_changed(client_id)
    return _detail(client_id, block="contacts", status=400, contact_form=form)


@bp.post("/<int:client_id>/contacts/<int:contact_id>/delete")
def remove_contact(client_id: int, contact_id: int):
    """Remove one of the client's phones."""
    clients.remove_contact(current_user.org_id, client_id, contact_id)
    return _contacts_changed(client_id)


@bp.post("/<int:client_id>/contacts/<int:contact_id>/label")
def set_label(client_id: int, contact_id: int):
    """Call one of the client's phones mobile, home, work or other."""
    form = LabelForm()
    if form.validate_on_submit():
        clients.set_contact_label(current_user.org_id, client_id, contact_id, form.label.data)
        return _contacts_changed(client_id)
    clients.get_client(current_user.org_id, client_id)
    errors = {contact_id: "Choose mobile, home, work or other."}
    return _detail(client_id, block="contacts", status=400, label_errors=errors)


@bp.post("/<int:client_id>/merge")
def merge(client_id: int):
    """Merge this client into the one chosen; the survivor's page answers."""
    form = MergeForm()
    if form.validate_on_submit():
        try:
            into_id = clients.merge_client(current_user.org_id, client_id,
                                           form.into_client_id.data, current_user.id)
        except DomainError as error:
            _show_error(form, error, "into_client_id")
        else:
            flash("Merged. The phones, conversation and bookings are now here.", "success")
            return redirect(url_for(".detail", client_id=into_id))
    return _detail(client_id, status=400, merge_form=form)
