"""The front desk's thread actions: internal notes and assignment (owners and staff), send later
(anyone who may reply on the thread: a sitter too, on their own scheduled replies)."""

from flask import Blueprint, abort, current_app, g, request
from flask_login import current_user, login_required

from blueprints.common import STAFF, roles_required
from blueprints.formatting import org_zone
from blueprints.hygiene import accepts_uploads
from blueprints.inbox import after_change, thread_for_user
from blueprints.inbox_forms import UPLOAD_LIMIT, NoteForm, ReplyForm, ScheduleForm
from pawline import assignment, media, notes, scheduled
from pawline.bookings import parse_local_time
from pawline.errors import DomainError, NotFound
from pawline.inputs import db_id

bp = Blueprint("desk", __name__)


@bp.before_request
@login_required
def signed_in():
    """Everything here needs a signed-in user; notes and assignment are for staff, and the
    thread is checked for each user (thread_for_user: a sitter only while booked)."""


@bp.route("/threads/<int:thread_id>/notes", methods=["POST"])
@roles_required(*STAFF)
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
@roles_required(*STAFF)
def assign(thread_id: int):
    """Assign the thread to me, to a teammate, or to nobody."""
    thread = thread_for_user(thread_id)
    try:
        assignment.assign_thread(g.org.id, thread.id, _assignee(), current_user.id)
    except DomainError as refused:
        return after_change(thread, 400, error=refused.message)
    return after_change(thread)


def _send_at(form: ScheduleForm):
    return parse_local_time(form.send_at.data, org_zone(), "send_at")


def _own_only() -> int | None:
    """A sitter changes only the replies they scheduled (another's is a 404); staff any."""
    return None if current_user.role in STAFF else current_user.id


@bp.route("/threads/<int:thread_id>/scheduled", methods=["POST"])
@accepts_uploads(UPLOAD_LIMIT)  # the reply box's photos come along, checked as a reply's
def schedule(thread_id: int):
    """Keep the reply box's text and photos to send at a time in the organization's zone."""
    thread = thread_for_user(thread_id)
    form = ScheduleForm()
    try:
        if not form.validate():
            raise DomainError(form.first_error(), "body")
        scheduled.schedule_message(g.org.id, thread.id, form.body.data, _send_at(form),
                                   current_user.id, photos=form.photo_files(),
                                   photo_base_url=media.photo_base_url(current_app.config))
    except DomainError as refused:
        reply = ReplyForm(formdata=None, body=form.body.data)
        return after_change(thread, 400, form=reply, schedule_error=refused.message)
    return after_change(thread)


@bp.route("/threads/<int:thread_id>/scheduled/<int:scheduled_id>", methods=["POST"])
def edit_scheduled(thread_id: int, scheduled_id: int):
    """Change the words or the time of a reply that is not yet due, or remove its photos."""
    thread = thread_for_user(thread_id)
    form = ScheduleForm()
    try:
        if not form.validate():
            raise DomainError(form.first_error(), "body")
        scheduled.update_scheduled(g.org.id, thread.id, scheduled_id, form.body.data,
                                   _send_at(form), author_id=_own_only(),
                                   remove_photos=form.remove_photos.data)
    except NotFound:
        abort(404)
    except DomainError as refused:
        return after_change(thread, 400, schedule_error=refused.message)
    return after_change(thread)


@bp.route("/threads/<int:thread_id>/scheduled/<int:scheduled_id>/cancel", methods=["POST"])
def cancel_scheduled(thread_id: int, scheduled_id: int):
    """Cancel a reply that is not yet due."""
    thread = thread_for_user(thread_id)
    try:
        scheduled.cancel_scheduled(g.org.id, thread.id, scheduled_id, author_id=_own_only())
    except NotFound:
        abort(404)
    except DomainError as refused:
        return after_change(thread, 400, schedule_error=refused.message)
    return after_change(thread)
