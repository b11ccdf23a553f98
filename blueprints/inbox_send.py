"""Sending from the inbox: a reply (with photos), a retry or a cancel of a message, and
"Message anyone". A reply that changes nothing else in the pane answers with only itself."""

import json

from flask import current_app, g, make_response, redirect, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block

from blueprints.common import render, wants_fragment
from blueprints.hygiene import accepts_uploads
from blueprints.inbox import (
    _new_message,
    _new_token,
    _staff_only,
    _thread_list,
    after_change,
    bp,
    thread_for_user,
)
from blueprints.inbox_forms import UPLOAD_LIMIT, NewMessageForm, ReplyForm
from pawline import delivery, inbox, media, outbound, people
from pawline.errors import DomainError
from pawline.lines import org_lines
from pawline.models import VARIABLES


def _status_callback() -> str | None:
    if current_app.config["SMS_PROVIDER"] != "twilio":
        return None
    base = current_app.config["PUBLIC_BASE_URL"] or request.host_url.rstrip("/")
    return base + url_for("webhooks.twilio_status")


@bp.route("/threads/<int:thread_id>/messages", methods=["POST"])
@accepts_uploads(UPLOAD_LIMIT)
def send(thread_id: int):
    """Send a reply, with up to five photos, from the number routing chooses now."""
    thread = thread_for_user(thread_id)
    org_id, was_open, form = g.org.id, thread.status == "open", ReplyForm()
    if not form.validate():
        return after_change(thread, 400, form=form)
    try:
        queued = outbound.queue_message(
            org_id, thread.id, form.body.data, current_user.id,
            current_app.config["SMS_PROVIDER"], form.client_token.data or None,
            status_callback=_status_callback(), photos=form.photo_files(),
            photo_base_url=media.photo_base_url(current_app.config),
            channel=form.channel.data or None)
    except DomainError as refused:
        return after_change(thread, 400, form=form, error=refused.message)
    channel = form.channel.data or None
    if wants_fragment() and form.tail.data == "1" and (
            appended := inbox.appended_reply(org_id, queued, was_open, channel)):
        return _appended(org_id, appended)
    return after_change(thread, sent_on=channel)


def _appended(org_id: int, appended: inbox.Appended):
    """A sent reply's htmx answer when only it changes the pane: the reply at the end of the
    timeline and a fresh reply box, swapped in out of band; the rest of the pane stays."""
    message = appended.message
    body = render_block(
        "inbox/thread.html", "sent", oob=True, item=message, timeline=appended.timeline,
        line_changed=appended.line_changed, lines=org_lines(org_id),
        authors=people.author_names(org_id, [message]),
        can_retry=delivery.can_retry, can_cancel=delivery.can_cancel, is_photo=media.is_photo,
        file_name=media.display_name, form=ReplyForm(formdata=None, client_token=_new_token()),
        variables=VARIABLES, unfilled={})
    response = make_response(body)
    response.headers["HX-Reswap"] = "none"  # only the out-of-band parts are swapped
    response.headers["HX-Trigger"] = "threadsChanged"
    response.headers["HX-Trigger-After-Settle"] = "replySent"
    return response


@bp.route("/threads/<int:thread_id>/messages/<int:message_id>/retry", methods=["POST"])
def retry(thread_id: int, message_id: int):
    """Queue a failed or cut-off message of this thread again."""
    thread = thread_for_user(thread_id)
    try:
        delivery.retry_message(g.org.id, thread.id, message_id, _status_callback())
    except DomainError as refused:
        return after_change(thread, 400, error=refused.message)
    return after_change(thread)


@bp.route("/threads/<int:thread_id>/messages/<int:message_id>/cancel", methods=["POST"])
def cancel(thread_id: int, message_id: int):
    """Stop a message of this thread that the provider does not have."""
    thread = thread_for_user(thread_id)
    try:
        delivery.cancel_message(g.org.id, thread.id, message_id)
    except DomainError as refused:
        return after_change(thread, 400, error=refused.message)
    return after_change(thread)


@bp.route("/threads", methods=["POST"])
def message_anyone():
    """Text any phone number: its client and thread are found or created."""
    _staff_only()
    form = NewMessageForm()
    if form.validate():
        try:
            queued = outbound.message_anyone(
                g.org.id, g.org.default_region, form.phone.data, form.body.data,
                current_user.id, current_app.config["SMS_PROVIDER"],
                form.client_token.data or None, status_callback=_status_callback())
        except DomainError as refused:
            getattr(form, refused.field or "phone", form.phone).errors.append(refused.message)
        else:
            target = url_for("inbox.show", thread_id=queued.thread_id)
            if wants_fragment():
                # A bare HX-Location would swap the thread's fragment into <body>, dropping the
                # top bar and list: ask for the whole page into <main> (title included).
                response = make_response("", 204)
                response.headers["HX-Location"] = json.dumps(
                    {"path": target, "target": "#main", "select": "#main", "swap": "outerHTML"})
                return response
            return redirect(target)
    return render("inbox/index.html", "new_message", 400, **_new_message(form), open_new=True,
                  **_thread_list())
