"""The inbox: the thread list and a thread (sending, and close / snooze / reopen, are in
inbox_send and inbox_status, on this blueprint)."""

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, g, make_response, redirect, request, url_for
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_blocks

from blueprints.common import get_or_404, id_arg, render, visible_thread, wants_fragment
from blueprints.formatting import org_zone
from blueprints.inbox_forms import NewMessageForm, NoteForm, ReplyForm, SnoozeForm
from pawline import (
    assignment,
    channel_routes,
    consent,
    conversations,
    delivery,
    inbox,
    media,
    people,
    saved_replies,
    scheduled,
    threads,
)
from pawline.assignment import WHO
from pawline.bookings import local_input_value, windows_for_thread
from pawline.clock import utcnow
from pawline.db import db
from pawline.errors import DomainError
from pawline.lines import org_lines
from pawline.models import VARIABLES, Client, ClientContact, Thread
from pawline.phones import normalize_phone
from pawline.routing import NoSendingNumber, line_for_new_client, line_for_phone, plan_route

bp = Blueprint("inbox", __name__)
STAFF = ("owner", "staff")


@bp.before_request
@login_required
def signed_in():
    """Everything here needs a signed-in user; sitters are checked per thread."""


def _staff_only():
    if current_user.role not in STAFF:
        abort(404)


thread_for_user = visible_thread  # staff any of the org's threads, a sitter only while booked


def _list_args() -> dict:
    who = request.args.get("who", "all")
    return {"tab": request.args.get("tab", "open"), "q": request.args.get("q", "").strip(),
            "who": who if who in WHO else "all"}


def _thread_list(cursor: str | None = None) -> dict:
    args = _list_args()
    threads.wake_snoozed(g.org.id)
    page = inbox.list_threads(g.org.id, args["tab"], args["q"], cursor, g.org.default_region,
                              who=args["who"], user_id=current_user.id)
    counts = inbox.tab_counts(g.org.id, args["who"], current_user.id)
    return {"page": page, "tabs": inbox.TABS, "whos": WHO, "tab_counts": counts,
            "count_cap": inbox.COUNT_CAP, "loaded_at": utcnow().isoformat(), **args}


def _new_token() -> str:
    return uuid.uuid4().hex


def _new_message(form: NewMessageForm | None = None) -> dict:
    """The "Message anyone" dialog: its form, and the line a new client would hear from."""
    return {"new_form": form or NewMessageForm(client_token=_new_token()),
            "new_line": line_for_new_client(g.org.id)}


@bp.route("/inbox")
def index():
    """The thread list (full page, or only the list for a tab or search swap)."""
    _staff_only()
    return render("inbox/index.html", "thread_list", **_new_message(), **_thread_list(),
                  undo=inbox_status.undo_notice(id_arg("undo")))


@bp.route("/inbox/new-line")
def new_line():
    """Which line the person typed in "Message anyone" would hear from (htmx, as they type)."""
    _staff_only()
    try:
        e164 = normalize_phone(request.args.get("phone", ""), g.org.default_region)
    except DomainError:
        line, name = line_for_new_client(g.org.id), None
    else:
        line, name = line_for_phone(g.org.id, e164)
    return render("inbox/index.html", "new_line", new_line=line, new_line_client=name)


@bp.route("/inbox/more")
def more():
    """The next page of the list (keyset cursor)."""
    _staff_only()
    context = _thread_list(request.args.get("cursor"))
    return render("inbox/index.html", "thread_rows", new_form=NewMessageForm(), **context)


@bp.route("/inbox/poll")
def poll():
    """Live refresh: 204 when nothing in this list changed since `since`, else the list."""
    _staff_only()
    args = _list_args()
    try:
        since = datetime.fromisoformat(request.args.get("since", ""))
    except ValueError:
        since = None
    if since is not None and not inbox.changed_since(
            g.org.id, args["tab"], args["q"], since, g.org.default_region, args["who"],
            current_user.id):
        return "", 204
    return render("inbox/index.html", "thread_list", new_form=NewMessageForm(), **_thread_list())


POLL_OVERLAP = timedelta(seconds=5)


def _timeline(thread: Thread, before_id: int | None = None) -> dict:
    """What the timeline and the scheduled replies beside it show: all a live refresh draws."""
    # Polls ask what changed since a little before this read: a status committed while the page
    # was read shows on the next poll instead of never.
    shown_at = utcnow() - POLL_OVERLAP
    timeline = inbox.timeline(g.org.id, thread.id, before_id)
    grouped = conversations.group(conversations.of_thread(g.org.id, thread.id), timeline.items)
    return {
        "thread": thread, "shown_at": shown_at, "timeline": timeline, "now": utcnow(),
        "lines": org_lines(g.org.id), "conversations": grouped,
        "expand_conversation": id_arg("conversation"),
        "authors": people.author_names(g.org.id, timeline.items),
        "scheduled": scheduled.for_thread(g.org.id, thread.id),
        "local_input": local_input_value, "zone": org_zone(),
        "can_manage": current_user.role in STAFF, "can_retry": delivery.can_retry,
        "can_cancel": delivery.can_cancel, "is_photo": media.is_photo,
        "file_name": media.display_name,
    }


def _conversation(thread: Thread, form: ReplyForm | None = None, error: str | None = None,
                  before_id: int | None = None, note_form=None,
                  note_error: str | None = None, schedule_error: str | None = None,
                  sent_on: str | None = None) -> dict:
    """Everything the conversation pane shows. `sent_on`, the channel a reply just went on,
    stays picked in the fresh reply box (staff replying twice on SMS to a client who last
    wrote on Telegram would otherwise have to pick SMS again); a reload defaults again to
    where the client last wrote."""
    client = get_or_404(Client, thread.client_id)
    contacts = db.session.scalars(sa.select(ClientContact).where(
        ClientContact.org_id == g.org.id, ClientContact.client_id == client.id)
        .order_by(ClientContact.id)).all()
    reply_channels = channel_routes.client_channels(g.org.id, thread)
    route = route_error = None
    if "sms" in reply_channels:  # SMS routing speaks only for a client with a phone
        try:
            route = plan_route(g.org.id, thread.id)
        except NoSendingNumber as refused:
            route_error = refused
    form = form or ReplyForm(formdata=None, client_token=_new_token())
    staff = current_user.role in STAFF
    return {
        **_timeline(thread, before_id),
        "saved_replies": saved_replies.list_saved_replies(g.org.id), "variables": VARIABLES,
        "unfilled": {n: saved_replies.WHY_UNFILLED[n]
                     for n in saved_replies.unfilled_variables(form.body.data or "")},
        "teammates": assignment.teammates(g.org.id) if staff else [],
        "schedule_error": schedule_error, "client": client, "contacts": contacts,
        "opted_out": consent.opted_out_phones(g.org.id, [c.e164 for c in contacts]),
        "windows": windows_for_thread(g.org.id, thread.id),
        "route": route, "route_error": route_error, "reply_channels": reply_channels,
        "reply_channel": (sent_on if sent_on in reply_channels
                          else channel_routes.reply_channel(thread.id)),
        "form": form, "form_error": error, "snooze_form": SnoozeForm(formdata=None),
        "note_form": note_form or NoteForm(formdata=None), "note_error": note_error,
    }


@bp.route("/threads/<int:thread_id>")
def show(thread_id: int):
    """One thread: its whole timeline, the send box, and the actions."""
    thread = thread_for_user(thread_id)
    before_id = id_arg("before")  # a bad one is a 400 before anything is marked read
    if (asked := id_arg("conversation")) and before_id is None and (
            ends := conversations.window_before(g.org.id, thread.id, asked, inbox.TIMELINE_PAGE)):
        # a linked conversation older than the newest page: the page that ends with it
        return redirect(url_for("inbox.show", thread_id=thread.id, before=ends,
                                conversation=asked, _anchor=f"conversation-{asked}"))
    threads.mark_read(g.org.id, thread.id)
    context = _conversation(thread, before_id=before_id)
    context["undo"] = inbox_status.undo_notice(id_arg("undo"))
    if current_user.role in STAFF:
        context.update(_thread_list(), **_new_message())
    return render("inbox/thread.html", "conversation", **context)


@bp.route("/threads/<int:thread_id>/poll")
def poll_thread(thread_id: int):
    """Live refresh of a thread: 204 when its timeline and scheduled replies are as shown at
    `since`, else both."""
    thread = thread_for_user(thread_id)
    args = request.args
    try:
        since = datetime.fromisoformat(args.get("since", ""))
    except ValueError:
        since = None
    if since is not None and not inbox.timeline_changed(
            g.org.id, thread.id, id_arg("first", 0), id_arg("after", 0), since):
        return "", 204
    threads.mark_read(g.org.id, thread.id)
    if wants_fragment():  # and the scheduled replies beside it, swapped in out of band
        return render_blocks("inbox/thread.html", ["timeline", "scheduled"], oob=True,
                             **_timeline(thread))
    return render("inbox/thread.html", "timeline", **_conversation(thread))


def thread_pane(thread: Thread, status: int = 200, **context):
    """The thread's page (with the list, for staff), or for htmx only its conversation."""
    page = {}
    if not wants_fragment() and current_user.role in STAFF:
        page = {**_thread_list(), **_new_message()}
    return render("inbox/thread.html", "conversation", status,
                  **_conversation(thread, **context), **page)


def after_change(thread: Thread, status: int = 200, **context):
    """A changed thread: a redirect for a plain form, else its pane (the page, on an error)."""
    if status == 200 and not wants_fragment():
        return redirect(url_for("inbox.show", thread_id=thread.id))
    body, code = thread_pane(thread, status, **context)
    response = make_response(body, code)
    response.headers["HX-Trigger"] = "threadsChanged"
    return response


# Sending, close, reopen and snooze live in their own modules, on this blueprint; so does the
# Closed tab's list of conversations.
from blueprints import conversations as closed_conversations  # noqa: E402, F401
from blueprints import inbox_send, inbox_status  # noqa: E402, F401
