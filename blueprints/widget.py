"""The web chat widget, public: the script a business pastes, the chat page it frames, and the
JSON calls that page makes.

CSRF: this blueprint is exempt, on purpose. Flask-WTF's token lives in the session cookie, and
the chat page runs in an iframe on another site, where browsers do not send our cookies
(SameSite=Lax, third-party cookie blocking): a token check would refuse every visitor. Nor is
there anything for a forged request to ride on: no cookie authenticates these calls (the page
fetches with credentials omitted and no response sets one). A visitor proves themselves only by
the random visitor id in the request, which another site cannot read (it lives in our origin's
storage), so a forged post can only speak as a visitor the forger invented. What limits abuse is
the per-visitor and per-address rate limit below, the key, which must name a widget, and the
Origin check: a browser posting from any other page than ours is refused.

Every request is scoped to the key's organization (pawline.tenancy), whoever may be signed in.
"""

import json
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, g, render_template, request, send_from_directory
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from pawline import rate_limits, webchat
from pawline.accounts import org_region
from pawline.clock import utcnow
from pawline.db import db
from pawline.errors import DomainError, InvalidPhone
from pawline.inputs import db_id
from pawline.models import Organization
from pawline.phones import normalize_phone
from pawline.tenancy import scope_session

bp = Blueprint("widget", __name__)

# The app's policy (app.py) but for frame-ancestors, which the chat page sets per widget.
CHAT_CSP = ("default-src 'self'; img-src 'self'; object-src 'none'; base-uri 'self'; "
            "form-action 'self'")

BODY_MAX = 2_000
REQUEST_MAX = 16_384  # bytes of a post: a message and three short fields fit many times
WINDOW = timedelta(minutes=1)
# Per minute. A widget polls every 3 s while open (20 a minute); visitors behind one address
# (an office, a mobile carrier) share the address's larger allowance.
LIMITS = {"post": ("WIDGET_POSTS_PER_VISITOR", 20, "WIDGET_POSTS_PER_ADDRESS", 60),
          "poll": ("WIDGET_POLLS_PER_VISITOR", 60, "WIDGET_POLLS_PER_ADDRESS", 600)}


class MessageForm(FlaskForm):
    class Meta:
        csrf = False  # see the module's docstring

    visitor = StringField(validators=[DataRequired(), Regexp(webchat.VISITOR_PATTERN)])
    message_id = StringField(validators=[DataRequired(), Regexp(webchat.MESSAGE_ID_PATTERN)])
    body = TextAreaField(validators=[DataRequired("Write a message."), Length(
        max=BODY_MAX, message=f"Keep a message under {BODY_MAX:,} characters.")])
    name = StringField(validators=[Optional(), Length(max=100)])
    phone = StringField(validators=[Optional(), Length(max=40)])
    email = StringField(validators=[Optional(), Length(max=200), Regexp(
        r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="That email looks wrong.")])


@bp.url_value_preprocessor
def _find_widget(endpoint, values):
    """The widget the key names, or 404 (before the app's hooks: nothing else is read)."""
    key = (values or {}).get("widget_key", request.args.get("key", ""))
    g.widget = webchat.by_key(key if isinstance(key, str) else "")
    if g.widget is None:
        abort(404)


@bp.before_request
def _scope_to_widget():
    """After the app's own hook: the key's organization, even if a user is signed in. A post
    from a page of another origin is refused: only our chat page (framed by the owner's sites
    alone) posts, so no other site can make its visitors' browsers post for it, each from
    its own address, past the per-address limit."""
    scope_session(db.session, g.widget.org_id)
    origin = request.headers.get("Origin")
    if request.method == "POST" and origin is not None and origin not in _our_origins():
        return _json({"error": "Post from the chat page."}, 403)
    return None


def _our_origins() -> set[str]:
    ours = {request.host_url.rstrip("/")}
    if public := current_app.config.get("PUBLIC_BASE_URL"):
        parts = urlsplit(public)
        ours.add(f"{parts.scheme}://{parts.netloc}")
    return ours


@bp.get("/widget.js")
def script():
    """The one script a business pastes: a launcher button and our chat page in an iframe."""
    response = send_from_directory(current_app.static_folder, "widget/embed.js",
                                   mimetype="text/javascript", max_age=300)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/widget/<widget_key>/chat")
def chat(widget_key):
    """The chat page, framed only by the origins the owner listed."""
    business = db.session.get(Organization, g.widget.org_id).name
    page = render_template("widget/chat.html", key=widget_key, business=business)
    policy = f"{CHAT_CSP}; {webchat.frame_ancestors(g.widget)}"
    return page, 200, {"Content-Security-Policy": policy}


@bp.post("/widget/<widget_key>/messages")
def post_message(widget_key):
    """Store a visitor's message (a repeated message_id stores nothing again)."""
    if (request.content_length or 0) > REQUEST_MAX:
        return _json({"error": "That message is too long."}, 413)
    form = MessageForm(request.form)
    if not form.validate():
        return _json({"error": _first_error(form), "fields": form.errors}, 400)
    if refused := _limited("post", form.visitor.data):
        return refused
    try:
        phone = (normalize_phone(form.phone.data, org_region(g.widget.org_id))
                 if form.phone.data else "")
    except InvalidPhone as error:
        return _json({"error": error.message, "fields": {"phone": [error.message]}}, 400)
    details = webchat.Details(name=" ".join((form.name.data or "").split()), phone=phone,
                              email=(form.email.data or "").strip())
    try:
        result = webchat.post(g.widget, form.visitor.data, form.message_id.data,
                              form.body.data, details)
    except DomainError as error:
        return _json({"error": error.message}, 400)
    return _json({"id": result.message_id, "duplicate": result.duplicate},
                 200 if result.duplicate else 201)


@bp.get("/widget/<widget_key>/messages")
def messages(widget_key):
    """The visitor's messages after `after`, as text (the page shows them with textContent)."""
    visitor = request.args.get("visitor", "")
    if not webchat.VISITOR_PATTERN.match(visitor):
        return _json({"error": "A visitor id is missing."}, 400)
    try:
        after = db_id(request.args.get("after") or "0")
    except ValueError:
        return _json({"error": "after must be a message id."}, 400)
    if refused := _limited("poll", visitor):
        return refused
    shown, cursor = webchat.messages(g.widget, visitor, after)
    return _json({"messages": shown, "cursor": cursor})


def _limited(kind: str, visitor: str):
    """429 past the visitor's or the address's allowance this minute; counted first, in one
    upsert each (pawline.rate_limits), and committed whatever happens next."""
    visitor_setting, visitor_default, address_setting, address_default = LIMITS[kind]
    config, now = current_app.config, utcnow()
    scope = f"widget {kind}"
    by_visitor = rate_limits.count(f"{scope} visitor", f"{g.widget.org_id}:{visitor}",
                                   config.get(visitor_setting, visitor_default), WINDOW, now)
    by_address = rate_limits.count(f"{scope} address",
                                   rate_limits.address_key(request.remote_addr),
                                   config.get(address_setting, address_default), WINDOW, now)
    db.session.commit()
    over = [c for c in (by_visitor, by_address) if c.over]
    if not over:
        return None
    wait = max(c.retry_after(now) for c in over)
    return _json({"error": f"Too many messages at once. Try again in {wait} seconds.",
                  "retry_after": wait}, 429, {"Retry-After": str(wait)})


def _first_error(form) -> str:
    for field in form:
        if field.errors:
            if field.name in ("visitor", "message_id"):
                return "This chat could not be sent; reload the page."
            return field.errors[0]
    return "Check the message."


def _json(payload: dict, status: int = 200, headers: dict | None = None):
    return json.dumps(payload), status, {"Content-Type": "application/json", **(headers or {})}
