"""Saved replies: owners keep the list; anyone who can open a thread inserts one into its reply."""

from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, Length

from blueprints.common import id_arg, render, roles_required, wants_fragment
from blueprints.inbox import thread_for_user, thread_pane
from blueprints.inbox_forms import ReplyForm
from pawline import saved_replies
from pawline.desk_models import BODY_MAX, NAME_MAX
from pawline.errors import DomainError, NotFound
from pawline.models import VARIABLES

bp = Blueprint("saved_replies", __name__)


def known_variables_only(form, field) -> None:
    """A {name} that is not a variable is refused before anything is saved."""
    unknown = saved_replies.unknown_variables(field.data or "")
    if unknown:
        raise ValidationError(saved_replies.unknown_message(unknown))


class SavedReplyForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Give the reply a name."),
                                           Length(max=NAME_MAX)])
    body = TextAreaField("Text", validators=[DataRequired("Write the reply's text."),
                                             Length(max=BODY_MAX), known_variables_only])


def _form_error(form: SavedReplyForm, error: DomainError) -> None:
    field = getattr(form, error.field or "", None) or form.body
    field.errors = [*field.errors, error.message]


def _index(form: SavedReplyForm | None = None, status: int = 200):
    return render("saved_replies/index.html", "add_form" if status != 200 else None, status,
                  replies=saved_replies.list_saved_replies(g.org.id),
                  form=form or SavedReplyForm(formdata=None), variables=VARIABLES)


def _reply_or_404(reply_id: int):
    try:
        return saved_replies.get_saved_reply(g.org.id, reply_id)
    except NotFound:
        abort(404)


@bp.route("/saved-replies")
@roles_required("owner")
def index():
    """The organization's saved replies and a form to add one."""
    return _index()


@bp.route("/saved-replies", methods=["POST"])
@roles_required("owner")
def create():
    """Save a new reply."""
    form = SavedReplyForm()
    if not form.validate():
        return _index(form, 400)
    try:
        saved_replies.create_saved_reply(g.org.id, form.name.data, form.body.data,
                                         current_user.id)
    except DomainError as error:
        _form_error(form, error)
        return _index(form, 422)
    flash(f"Saved reply “{form.name.data.strip()}” added.", "success")
    return redirect(url_for("saved_replies.index"))


@bp.route("/saved-replies/<int:saved_reply_id>", methods=["GET", "POST"])
@roles_required("owner")
def edit(saved_reply_id: int):
    """Change a saved reply's name and text."""
    reply = _reply_or_404(saved_reply_id)
    form = SavedReplyForm(data={"name": reply.name, "body": reply.body})
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate():
            try:
                saved_replies.update_saved_reply(g.org.id, reply.id, form.name.data,
                                                 form.body.data, current_user.id)
            except DomainError as error:
                _form_error(form, error)
                status = 422
            else:
                flash("Saved.", "success")
                return redirect(url_for("saved_replies.index"))
    return render("saved_replies/edit.html", "edit_form" if status != 200 else None, status,
                  reply=reply, form=form, variables=VARIABLES)


@bp.route("/saved-replies/<int:saved_reply_id>/delete", methods=["POST"])
@roles_required("owner")
def delete(saved_reply_id: int):
    """Remove a saved reply."""
    reply = _reply_or_404(saved_reply_id)
    saved_replies.delete_saved_reply(g.org.id, reply.id, current_user.id)
    flash(f"Saved reply “{reply.name}” removed.", "success")
    return redirect(url_for("saved_replies.index"))


@bp.route("/threads/<int:thread_id>/saved-reply")
def insert(thread_id: int):
    """The reply box with a saved reply added, its variables filled in for this thread."""
    thread = thread_for_user(thread_id)
    reply_id = id_arg("saved_reply_id")
    draft = request.args.get("body", "")
    if reply_id is None:
        filled = saved_replies.Filled(draft, {})
    else:
        try:
            filled = saved_replies.insert_into_draft(g.org.id, thread.id, reply_id, draft)
        except NotFound:
            abort(404)
    form = ReplyForm(formdata=None, body=filled.text)
    if wants_fragment():
        return render("inbox/thread.html", "reply_box", thread=thread, form=form,
                      unfilled=filled.unfilled, form_error=None, variables=VARIABLES)
    return thread_pane(thread, form=form)
