"""The application factory: `flask --app app run`, or gunicorn "app:create_app()"."""

import logging
import os
import sys
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask, flash, g, redirect, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, current_user
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import NotFound as HTTPNotFound
from werkzeug.middleware.proxy_fix import ProxyFix

from blueprints import errors, hygiene
from pawline import observability
from pawline.config import ConfigError, from_environment
from pawline.db import db, ours, refuse_dead_connections
from pawline.embedded import embedded_database_url
from pawline.errors import NotFound
from pawline.tenancy import scope_session

migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()

# gunicorn's "App failed to load": its master stops, where after another code it would boot
# new workers forever (flask's commands only need it non-zero).
APP_LOAD_ERROR = 4
LOG_FORMAT = "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s"
# img-src blob: lets the reply box preview photos chosen on this device before they are sent.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' blob:; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)
# No page uses these: a script injected despite the CSP still cannot ask for them.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)
HSTS = "max-age=31536000; includeSubDomains"  # production (Secure cookies) is https only
# Blueprints no person signs in to (probes and scrapes; providers' signed webhooks): their
# requests skip the session's user and organization scope, a lookup each on every webhook.
SESSIONLESS = ("ops", "webhooks", "telegram_webhook", "meta_webhook", "booking_webhook")
WEBHOOKS_PATH = "/webhooks/"  # where every provider's webhook blueprint is mounted


class NoCookieSessionForWebhooks(SecureCookieSessionInterface):
    """A provider's webhook carries no cookie of ours: its session starts empty and is never
    sent back, without Flask building its cookie signer for each request (bench/: a twentieth
    of an inbound webhook's CPU). A page such a request renders (the 500 page, whose form
    token is kept in the session) may still write to it. Pages keep the signed cookie session."""

    def open_session(self, app, request):
        if request.path.startswith(WEBHOOKS_PATH):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response):
        if request.path.startswith(WEBHOOKS_PATH):
            return
        super().save_session(app, session, response)


def web_folder() -> Path:
    """Where templates/, static/ and migrations/ are: inside the pawline package when installed
    from a wheel (pyproject.toml ships them there), else next to this file (a checkout)."""
    import pawline

    installed = Path(pawline.__file__).parent
    return installed if (installed / "templates").is_dir() else Path(__file__).parent


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app from the environment, or from `test_config` in tests."""
    _show_pawline_logs()
    web = web_folder()
    app = Flask(__name__, instance_relative_config=True, template_folder=str(web / "templates"),
                static_folder=str(web / "static"))
    instance = Path(app.instance_path)
    if test_config is None:
        app.config.from_mapping(settings_or_refuse(instance))
    else:
        app.config.from_mapping(from_environment(instance, env={"SECRET_KEY": "test"}))
        app.config.update(test_config)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = embedded_database_url(instance / "pgdata")
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    if hops := app.config["TRUSTED_PROXY_HOPS"]:  # else the socket's address: no header trusted
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    if app.config.get("DATABASE_BEHIND_PGBOUNCER"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = behind_pgbouncer(
            app.config["SQLALCHEMY_ENGINE_OPTIONS"])

    app.session_interface = NoCookieSessionForWebhooks()
    db.init_app(app)
    with app.app_context():
        refuse_dead_connections(db.engine)  # instead of a ping a checkout (pawline.db)
    observability.init_app(app)  # first: its hooks time and name every request (X-Request-ID)
    migrate.init_app(app, db, directory=str(web / "migrations"),
                     compare_server_default=True, include_name=ours)
    hygiene.init_app(app)  # before the blueprints: their <int:id> routes use its converter
    csrf.init_app(app)
    _init_login(app)
    _register_blueprints(app)
    errors.init_app(app)
    _init_templates(app)
    if app.config["WORKER_IN_PROCESS"]:
        _start_worker_with_first_request(app)

    @app.errorhandler(NotFound)
    def not_found(_error):
        """Another organization's ids and missing rows look the same: 404."""
        return app.handle_http_exception(HTTPNotFound())

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if request.endpoint != "static":  # pages hold clients' messages: no copy on disk
            response.headers.setdefault("Cache-Control", "no-store")
        if request.headers.get("HX-Request"):
            response.headers.add("Vary", "HX-Request")
        return response

    return app


def behind_pgbouncer(engine_options: dict) -> dict:
    """The engine's options for a PgBouncer in transaction pooling mode: psycopg prepares none
    of its statements (by default it prepares one run five times on a connection, and the next
    transaction may run on another server connection, where that statement does not exist)."""
    connect_args = {**engine_options.get("connect_args", {}), "prepare_threshold": None}
    return {**engine_options, "connect_args": connect_args}


def check_settings() -> None:
    """Refuse bad settings before any worker starts: gunicorn.conf.py calls this in the master."""
    settings_or_refuse(Path(Flask(__name__, instance_relative_config=True).instance_path))


def settings_or_refuse(instance: Path) -> dict:
    """The settings from the environment, or one clear line on stderr and an exit, instead of
    a traceback through flask's or gunicorn's loader."""
    try:
        return from_environment(instance)
    except ConfigError as error:
        print(f"paw-line: {error}", file=sys.stderr, flush=True)
        raise SystemExit(APP_LOAD_ERROR) from None


def _show_pawline_logs() -> None:
    """pawline's INFO lines (the console provider's SMS among them) go to stderr, unless logging
    is set up already (a gunicorn --log-config, pytest): then its handlers and levels decide."""
    logger = logging.getLogger("pawline")
    if logger.handlers or logging.getLogger().handlers:
        return  # set up already, or by an earlier create_app in this process: no second copy
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logger.addHandler(handler)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)


def _init_login(app: Flask) -> None:
    from blueprints.auth import forget_ended_session, signed_in_user
    from pawline.models import Organization

    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    login_manager.user_loader(signed_in_user)  # the session's row in PostgreSQL decides

    @login_manager.unauthorized_handler
    def sign_in_first():
        """Off to sign in; an htmx request asks the browser to go there, not to swap it in."""
        target = url_for("auth.sign_in", next=request.full_path.rstrip("?"))
        if request.headers.get("HX-Request"):
            return "", 401, {"HX-Redirect": target}
        flash(login_manager.login_message, login_manager.login_message_category)
        return redirect(target)

    @app.before_request
    def scope_to_organization():
        if request.blueprint in SESSIONLESS:  # probes, scrapes, providers: no session
            return
        forget_ended_session()
        if current_user.is_authenticated:
            scope_session(db.session, current_user.org_id)
            g.org = db.session.get(Organization, current_user.org_id)
            # read now: a commit expires g.org and current_user, and reading them after it
            # (the page's times, the request's log line) would load each again
            g.org_zone = ZoneInfo(g.org.timezone)
            g.signed_in = (current_user.org_id, current_user.id)


def _start_worker_with_first_request(app: Flask) -> None:
    """The demo's worker runs in the process that serves requests (not a reloader's parent,
    nor a CLI command like `demo`), started by the first request."""
    from pawline import jobs

    started = threading.Lock()

    @app.before_request
    def start_worker():
        if started.acquire(blocking=False):
            jobs.start_in_process(app, app.config["WORKER_CONCURRENCY"])


def _register_blueprints(app: Flask) -> None:
    from blueprints import (
        audit,
        auth,
        booking_webhook,
        bookings,
        cli,
        clients,
        dead_letters,
        desk,
        inbox,
        media,
        meta_settings,
        meta_webhook,
        numbers,
        ops,
        profile,
        saved_replies,
        settings,
        simulator,
        sitter_portal,
        sitters,
        telegram_settings,
        telegram_webhook,
        webchat_settings,
        webhooks,
        widget,
    )

    for module in (auth, inbox, clients, numbers, sitters, bookings, audit, sitter_portal,
                   simulator, webhooks, booking_webhook, cli, dead_letters, ops, settings,
                   profile, media, saved_replies, desk, telegram_webhook, telegram_settings,
                   meta_webhook, meta_settings, widget, webchat_settings):
        app.register_blueprint(module.bp)
    csrf.exempt(webhooks.bp)  # provider webhooks prove themselves by signature instead
    csrf.exempt(booking_webhook.bp)
    csrf.exempt(telegram_webhook.bp)  # proves itself by its secret token header
    csrf.exempt(meta_webhook.bp)  # proves itself by X-Hub-Signature-256
    csrf.exempt(ops.bp)  # GET only, and no session to protect
    csrf.exempt(widget.bp)  # no cookie authenticates it: see blueprints/widget.py


def _init_templates(app: Flask) -> None:
    from blueprints import formatting

    formatting.register(app)
    app.jinja_env.globals["HTMX_SCRIPT"] = "htmx-2.0.11.min.js"
    # The macros are globals too, so a block rendered alone (an htmx fragment) still has them.
    macros = app.jinja_env.get_template("macros.html").module
    app.jinja_env.globals.update(field=macros.field, csrf=macros.csrf, when=macros.when)

    @app.context_processor
    def organization():
        return {"org": g.get("org")}


if __name__ == "__main__":  # pragma: no cover
    create_app().run(debug=os.environ.get("FLASK_DEBUG") == "1")
