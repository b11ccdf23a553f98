"""Attachments as files: to signed-in users who can open their thread, and to Twilio by a signed,
expiring URL for the photos we send (and, in the demo, the phone simulator's own photos).

Every answer sets its own type: an image our sniffing recognizes (JPEG, PNG, GIF, WebP) is
shown inline; anything else, SVG and HTML included, is a download (Content-Disposition:
attachment) labelled octet-stream unless on a short allow-list; nosniff and a sandboxing CSP
keep a browser from running what a file holds.
"""

from flask import Blueprint, abort, current_app, g
from flask_login import login_required

from blueprints.common import visible_thread
from pawline import media, simulated_media

bp = Blueprint("media", __name__)
FILE_POLICY = "default-src 'none'; sandbox"


@bp.route("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    """An attachment of a thread the signed-in user can open; any other id is 404."""
    row = _fetched_or_404(attachment_id)
    return _file(row.data, row.content_type, media.display_name(row))


def _fetched_or_404(attachment_id: int):
    """The fetched attachment, of a thread the signed-in user can open; else 404."""
    found = media.with_thread(g.org.id, attachment_id)
    if found is None or found[0].status != "fetched":
        abort(404)
    row, thread_id = found
    visible_thread(thread_id)
    return row


@bp.route("/attachments/<int:attachment_id>/full")
@login_required
def full(attachment_id: int):
    """A photo full size as a browser shows it (an iPhone's HEIC as a JPEG), on its own terms."""
    shown = media.shown_full_size(_fetched_or_404(attachment_id))
    if shown is None:
        abort(404)
    return _file(*shown)


@bp.route("/attachments/<int:attachment_id>/thumbnail")
@login_required
def thumbnail(attachment_id: int):
    """A photo's small JPEG for the thread, on the same terms as the photo itself."""
    found = media.thumbnail_with_thread(g.org.id, attachment_id)
    if found is None or found[0] is None:
        abort(404)
    small, thread_id = found
    visible_thread(thread_id)
    return _file(small, "image/jpeg", f"thumbnail-{attachment_id}.jpg")


@bp.route("/media/<token>")
def signed(token: str):
    """A photo we send, for Twilio: the token names it and expires; no session is needed."""
    attachment_id = media.read_media_token(token, current_app.config["SECRET_KEY"])
    row = media.outbound_photo(attachment_id) if attachment_id else None
    if row is None:
        abort(404)
    return _file(row.data, row.content_type, media.display_name(row))


@bp.route("/media/simulated/<token>")
def simulated(token: str):
    """A photo sent from the phone simulator, for the fetch job (demo only)."""
    if current_app.config.get("SMS_PROVIDER") != "console":
        abort(404)
    upload = simulated_media.read(token, current_app.config["SECRET_KEY"])
    if upload is None:
        abort(404)
    return upload.data, 200, {"Content-Type": media.served_type(upload.data,
                                                                upload.content_type)[0],
                              "Content-Security-Policy": FILE_POLICY}


def _file(data: bytes, stored_type: str, name: str):
    kind, inline = media.served_type(data, stored_type)
    quoted = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
                     for c in name)
    return data, 200, {
        "Content-Type": kind,
        "Content-Disposition": f'{"inline" if inline else "attachment"}; filename="{quoted}"',
        "Content-Security-Policy": FILE_POLICY,
        "Cross-Origin-Resource-Policy": "same-origin",
    }
