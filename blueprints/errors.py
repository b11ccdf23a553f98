"""Branded pages for 400, 403, 404, 405 and 413: the base layout, its navigation and a way back.

Machines (provider webhooks, probes) keep werkzeug's plain answers; an htmx request that swaps a
part of a page gets only the message, not a second page inside the first. The 500 page is
pawline.observability's: it must render without the database.
"""

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from jinja2_fragments.flask import render_block
from werkzeug.exceptions import HTTPException

from blueprints.common import wants_fragment

MACHINE_BLUEPRINTS = ("webhooks", "booking_webhook", "ops")
# A 405 matched no route, so it has no blueprint: machines are known by their addresses too.
MACHINE_PATHS = ("/webhooks/", "/widget", "/healthz", "/readyz", "/metrics")
PAGES = {
    400: (
        "This request could not be read",
        "Something in the address or the form was not what Paw-line expected.",
    ),
    403: (
        "You can't do that here",
        "Your account does not allow this. If you think it should, ask the owner of your "
        "Paw-line account.",
    ),
    404: (
        "Page not found",
        "There is nothing here. The link may be old, or what it pointed at was removed.",
    ),
    405: (
        "This page can't do that",
        "The address is right, but it does not take this kind of request: a link may have "
        "been followed where a form was expected. Go back and use the page's buttons.",
    ),
    413: (
        "That was too large",
        "What was sent is larger than Paw-line accepts. Nothing was saved: go back and send "
        "less, or smaller files.",
    ),
}
EXPIRED = (
    "This form has expired",
    "The page was open for a long time, or you signed in again elsewhere. Go back, "
    "reload the page and try again: nothing was changed.",
)


def init_app(app: Flask) -> None:
    for status in PAGES:
        app.register_error_handler(status, error_page)


def error_page(error: HTTPException):
    """The branded page for this error, or the error itself for a machine."""
    if request.blueprint in MACHINE_BLUEPRINTS or request.path.startswith(MACHINE_PATHS):
        return error
    expired = isinstance(error, CSRFError)
    title, message = EXPIRED if expired else PAGES[error.code]
    context = {
        "status": error.code,
        "title": title,
        "message": message,
        "detail": None if expired else _our_detail(error),
    }
    # werkzeug's own headers stay (a 405's Allow names the methods the address takes)
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    if wants_fragment():
        return render_block("errors/error.html", "message", **context), error.code, headers
    return render_template("errors/error.html", **context), error.code, headers


def _our_detail(error: HTTPException) -> str | None:
    """The description a view gave with abort(status, text), else nothing (werkzeug's stock
    sentences add no news)."""
    stock = type(error).description
    return error.description if error.description and error.description != stock else None
