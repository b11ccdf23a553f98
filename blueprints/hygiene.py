"""Every request bounded and every form's text clean, in one place (pawline.inputs's rules).

- A request body over MAX_CONTENT_LENGTH is refused with 413 before it is read. A route that
  takes uploads (photos) raises its own limit with @accepts_uploads(bytes), and only there.
- A form field or query parameter with a control character, or longer than any field here
  needs, is a 400 that names it, before any view runs. The provider webhooks are left out: a
  message they refuse is lost, so they clean what they receive instead (blueprints.webhooks).
- `<int:...>` in a URL matches only ids PostgreSQL can compare: a larger one is a 404 like any
  other unknown id. Id query parameters go through blueprints.common.id_arg.
"""

from flask import Flask, current_app, request
from markupsafe import escape
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from pawline.inputs import BIGINT_MAX, FIELD_MAX, control_character, escaped

# Enough for the largest real request, a signed inbound SMS kept whole up to 10,000 characters
# of emoji (12 bytes each, URL-encoded), with room to spare.
REQUEST_MAX = 256 * 1024
WEBHOOK_BLUEPRINTS = {"webhooks", "booking_webhook"}


class IdConverter(IntegerConverter):
    """`<int:x>` for ids: an integer PostgreSQL's bigint can hold, or no match (404)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", BIGINT_MAX)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Install the limits; before the blueprints register, whose routes use the converter."""
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = REQUEST_MAX
    app.url_map.converters["int"] = IdConverter
    app.before_request(check_request)


def accepts_uploads(max_bytes: int):
    """Let a view's requests carry files, up to `max_bytes` in all."""

    def mark(view):
        view.upload_limit = max_bytes
        return view

    return mark


def check_request():
    """413 for a body over the limit, signed or not, unread; else 400 naming the first form
    field or query parameter a person must fix."""
    view = current_app.view_functions.get(request.endpoint)
    uploads = getattr(view, "upload_limit", None)
    if uploads:
        request.max_content_length = uploads
    limit = request.max_content_length
    if limit is not None and (request.content_length or 0) > limit:
        if uploads:  # a person chose files without the page's check (no JavaScript): say why
            return _refusal(f"The files are too large: {limit // (1024 * 1024)} MB in all at "
                            "most. Nothing was sent.", 413)
        raise RequestEntityTooLarge()
    if request.blueprint in WEBHOOK_BLUEPRINTS:
        return None
    for source in (request.args, request.form):
        for name, value in source.items(multi=True):
            problem = field_problem(name, value)
            if problem:
                return _refusal(problem)
    return None


def _refusal(problem: str, status: int = 400):
    """The reason as text; for htmx, an error above the page instead of the form it replaces
    (static/app.js swaps a 400 or 413 in like a 200)."""
    if request.headers.get("HX-Request"):
        return (f'<p class="flash flash-error" role="alert">{escape(problem)}</p>', status,
                {"HX-Retarget": "#main", "HX-Reswap": "afterbegin"})
    return problem + "\n", status, {"Content-Type": "text/plain; charset=utf-8"}


def field_problem(name: str, value: str) -> str | None:
    """Why this field cannot be accepted as sent, or None."""
    shown = escaped(name[:40]) + ("…" if len(name) > 40 else "")
    found = control_character(name) or control_character(value)
    if found:
        return (f"{shown!r} holds the control character {found}: only printable text, tabs "
                "and line breaks are accepted.")
    if len(value) > FIELD_MAX or len(name) > FIELD_MAX:
        return f"{shown!r} is longer than {FIELD_MAX:,} characters."
    return None
