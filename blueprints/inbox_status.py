"""Close, snooze and reopen a thread. Close and snooze move on to the next open conversation
and say what was done, with an Undo (reopen) beside it."""

import sqlalchemy as sa
from flask import g, make_response, redirect, request, url_for
from flask_login import current_user

from blueprints.common import render, wants_fragment
from blueprints.formatting import localtime, org_zone
from blueprints.inbox import (
    STAFF,
    SnoozeForm,
    _conversation,
    _staff_only,
    after_change,
    bp,
    thread_for_user,
)
from pawline import inbox, threads
from pawline.clock import utcnow
from pawline.db import db
from pawline.errors import DomainError
from pawline.models import Client, Thread
from pawline.phones import client_name


def undo_notice(thread_id: int | None) -> dict | None:
    """The "Closed Ada · Undo" notice, for a thread of this organization still closed or
    snoozed (another organization's id, or an open thread: no notice)."""
    if thread_id is None or current_user.role not in STAFF:
        return None
    found = db.session.execute(
        sa.select(Thread.status, Thread.snoozed_until, Client.name, Client.is_guest)
        .join(Client, Client.id == Thread.client_id)
        .where(Thread.id == thread_id, Thread.org_id == g.org.id)).first()
    if found is None or found.status == "open":
        return None
    name = client_name(found.name, found.is_guest)
    said = (f"Closed {name}" if found.status == "closed"
            else f"Snoozed {name} until {localtime(found.snoozed_until, '%a %I:%M %p')}")
    return {"thread_id": thread_id, "said": said}


def _move_on(thread: Thread):
    """After a close or snooze: the next open conversation (or the empty pane), with Undo."""
    next_id = inbox.next_open_thread(g.org.id, thread.id)
    if not wants_fragment():
        if next_id is None:
            return redirect(url_for("inbox.index", undo=thread.id))
        return redirect(url_for("inbox.show", thread_id=next_id, undo=thread.id))
    undo = undo_notice(thread.id)
    if next_id is None:
        body, code = render("inbox/index.html", "pane", undo=undo)
        path = url_for("inbox.index")
    else:
        following = db.session.get(Thread, next_id)
        threads.mark_read(g.org.id, next_id)
        body, code = render("inbox/thread.html", "conversation", undo=undo,
                            **_conversation(following))
        path = url_for("inbox.show", thread_id=next_id)
    response = make_response(body, code)
    response.headers["HX-Trigger"] = "threadsChanged"
    response.headers["HX-Push-Url"] = path
    return response


@bp.route("/threads/<int:thread_id>/close", methods=["POST"])
def close(thread_id: int):
    """Close the thread and move on; the client's next message reopens it."""
    _staff_only()
    thread = thread_for_user(thread_id)
    threads.close_thread(g.org.id, thread.id, current_user.id)
    return _move_on(thread)


@bp.route("/threads/<int:thread_id>/reopen", methods=["POST"])
def reopen(thread_id: int):
    """Put the thread back under Open (also the Undo of a close or snooze)."""
    _staff_only()
    thread = thread_for_user(thread_id)
    threads.reopen_thread(g.org.id, thread.id, current_user.id)
    return after_change(thread)


@bp.route("/threads/<int:thread_id>/snooze", methods=["POST"])
def snooze(thread_id: int):
    """Snooze for an hour, until tomorrow morning, or until a chosen time, and move on."""
    _staff_only()
    thread = thread_for_user(thread_id)
    form = SnoozeForm()
    try:
        until = threads.snooze_until(form.until.data, request.form.get("custom_until"),
                                     org_zone(), utcnow())
        threads.snooze_thread(g.org.id, thread.id, until, current_user.id)
    except DomainError as refused:
        return after_change(thread, 400, error=refused.message)
    return _move_on(thread)

