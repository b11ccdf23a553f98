"""The front desk's thread actions: internal notes and assignment (staff only)."""

from flask import Blueprint, g, request
from flask_login import current_user

from blueprints.common import staff_only
from blueprints.inbox import NoteForm, after_change, thread_for_user
from pawline import assignment, notes
from pawline.errors import DomainError
from pawline.inputs import db_id

bp = Blueprint("desk", __name__)
staff_only(bp)


@bp.route("/threads/<int:thread_id>/notes", methods=["POST"])
def add_note(thread_id: int):
    """Add an internal note to the thread's timeline; it is never sent."""
    thread = thread_for_user(thread_id)
    form = NoteForm()
    if not form.validate():
        return after_change(thread, 400, note_form=form)
    try:
        notes.add_note(g.org.id, thread.id, current_user.id, form.body.data)
    except DomainError as refused:
        return after_change(thread, 400, note_form=form, note_error=refused.message)
    return after_change(thread)


def _assignee() -> int | None:
    """The form's teammate: 'me', an id, or empty for nobody (DomainError for anything else)."""
    raw = request.form.get("assignee_user_id", "").strip()
    if raw == "me":
        return current_user.id
    if not raw:
        return None
    try:
        return db_id(raw)
    except ValueError:
        raise DomainError("Pick a teammate of this organization.", "assignee_user_id") from None


@bp.route("/threads/<int:thread_id>/assign", methods=["POST"])
def assign(thread_id: int):
    """Assign the thread to me, to a teammate, or to nobody."""
    thread = thread_for_user(thread_id)
    try:
        assignment.assign_thread(g.org.id, thread.id, _assignee(), current_user.id)
    except DomainError as refused:
        return after_change(thread, 400, error=refused.message)
    return after_change(thread)
