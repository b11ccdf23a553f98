"""What an operator sees of each request: its id, one log line, its metrics, and the 500 page.

- Every request has an id: the `X-Request-ID` it came with when that looks like an id (a proxy
  or load balancer made it), else a new one. Every response carries it back in `X-Request-ID`,
  the 500 page shows it, and Flask's own "Exception on …" log line starts with it.
- One line per request on the `pawline.request` logger, as key=value pairs:
  `request_id=… method=GET endpoint=inbox.index route=/inbox status=200 duration_ms=12.5
  org=1 user=3`. Health checks, scrapes and static files that succeed are logged at DEBUG (a
  probe every few seconds is noise), all else at INFO: a 503 from /readyz shows.
  The same fields are on the record as `record.request`, for a JSON formatter.
- The 500 page renders from templates alone (no query: the database may be what failed) and
  shows the id, never the error.
"""

import json
import logging
import re
import time
import uuid

from flask import Flask, g, request

from pawline import metrics

log = logging.getLogger("pawline.request")
HEADER = "X-Request-ID"
SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
QUIET = ("static", "ops.healthz", "ops.readyz", "ops.metrics")  # at DEBUG while they succeed
PLAIN_500 = ("Something went wrong on our side. If it keeps happening, tell your administrator "
             "this request id: {request_id}\n")


def init_app(app: Flask) -> None:
    """Register before any other hook, so the time measured is the whole request's and the id
    exists for every later hook, and the last `after_request` sees the final status."""
    app.before_request(_start)
    app.after_request(_finish)
    app.register_error_handler(500, _server_error)
    if not any(isinstance(f, _RequestIdFilter) for f in app.logger.filters):
        app.logger.addFilter(_RequestIdFilter())  # the same logger for every app in a process


def request_id() -> str:
    """This request's id ("-" outside a request that started)."""
    return g.get("request_id", "-")


def _start() -> None:
    g.request_started = time.perf_counter()
    incoming = request.headers.get(HEADER, "")
    g.request_id = incoming if SANE_ID.fullmatch(incoming) else uuid.uuid4().hex


def _finish(response):
    started = g.get("request_started")
    if started is None:  # a hook before ours answered: nothing was measured
        return response
    seconds = time.perf_counter() - started
    response.headers[HEADER] = request_id()
    try:
        metrics.observe_request(request.endpoint, request.method, response.status_code, seconds)
        _log_line(response.status_code, seconds)
    except Exception:  # noqa: BLE001 - counting a request must never fail it
        logging.getLogger("pawline").exception("could not log or count request %s", request_id())
    return response


def _log_line(status: int, seconds: float) -> None:
    # who signed in, as read when the request began (app.py): the user row itself may have
    # expired in a commit since, and reading it here would load it again
    org_id, user_id = g.get("signed_in") or (None, None)
    fields = {
        "request_id": request_id(),
        "method": request.method,
        "endpoint": request.endpoint or "-",
        "route": request.url_rule.rule if request.url_rule else "-",
        "status": status,
        "duration_ms": round(seconds * 1000, 1),
        "org": org_id if org_id is not None else "-",
        "user": user_id if org_id is not None else "-",
    }
    level = logging.DEBUG if request.endpoint in QUIET and status < 400 else logging.INFO
    log.log(level, " ".join(f"{key}={_value(value)}" for key, value in fields.items()),
            extra={"request": fields})


def _value(value) -> str:
    """A value as logfmt writes it: bare when it has no space, quote or `=`, else quoted."""
    text = str(value)
    if text and text.isprintable() and not any(c in text for c in ' "=\\'):
        return text
    return json.dumps(text, ensure_ascii=False)


def _server_error(error):
    """The 500 page: branded, with the request id, nothing of the error. Rendered straight from
    the template, without the context processors (Flask-Login's would load the user from the
    database, which may be what failed); plain text if even that fails."""
    from flask import current_app

    try:
        page = current_app.jinja_env.get_template("errors/500.html").render(
            request_id=request_id())
        return page, 500
    except Exception:  # noqa: BLE001 - the page of last resort must not fail
        current_app.logger.exception("the 500 page could not be rendered")
        return PLAIN_500.format(request_id=request_id()), 500, {
            "Content-Type": "text/plain; charset=utf-8"}


class _RequestIdFilter(logging.Filter):
    """Start the app logger's lines (Flask's "Exception on …" among them) with the request id,
    so the traceback of a 500 is found from the id its page shows."""

    def filter(self, record: logging.LogRecord) -> bool:
        from flask import has_request_context

        if has_request_context() and "request_id" in g and not getattr(record, "request_id",
                                                                       None):
            record.request_id = g.request_id
            record.msg = f"request_id={g.request_id} {record.msg}"
        return True
