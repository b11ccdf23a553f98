"""Sign in and sign out."""

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from blueprints.common import render
from pawline import sessions
from pawline.accounts import TooManySignIns, authenticate
from pawline.clock import utcnow

bp = Blueprint("auth", __name__)
SESSION_TOKEN = "sid"  # session key: the token of this browser's row in user_session


def signed_in_user(user_id: str):
    """Flask-Login's user loader, on every request with a session: the user, while the
    session's row in PostgreSQL is live (pawline.sessions), else None (signed out)."""
    return sessions.session_user(session.get(SESSION_TOKEN), int(user_id), utcnow())


def forget_ended_session() -> None:
    """A cookie whose session has ended (signed out, revoked, timed out), or one from before
    sessions had rows: drop it whole."""
    if ("_user_id" in session or SESSION_TOKEN in session) and not current_user.is_authenticated:
        logout_user()
        session.clear()


class SignInForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


def home_for(user) -> str:
    """Where a user lands after signing in: sitters on their page, everyone else the inbox."""
    return url_for("sitter_portal.home") if user.role == "sitter" else url_for("inbox.index")


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths, so `next` cannot send a user elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    # Browsers read "\" as "/" and drop tabs and newlines, so "/\evil.example" is off-site.
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


@bp.route("/")
def root():
    """Send visitors to their home page, or to sign in."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("auth.sign_in"))


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    """Show the sign-in form; check the password and start a fresh session."""
    form = SignInForm()
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data, form.password.data,
                                address=request.remote_addr,
                                per_address=current_app.config["SIGN_IN_FAILURES_PER_ADDRESS"])
        except TooManySignIns as refused:
            form.password.errors.append(refused.message)
            page, status = render("auth/sign_in.html", form=form, status=429)
            return page, status, {"Retry-After": str(refused.retry_after)}
        if user is not None:
            session.clear()  # a new session on sign-in (no fixation)
            login_user(user)
            g.signed_in = (user.org_id, user.id)  # the request's log line names who signed in
            session.permanent = True
            session[SESSION_TOKEN] = sessions.start_session(user, utcnow())
            return redirect(_safe_next(request.args.get("next")) or home_for(user))
        form.password.errors.append("That email and password do not match an account.")
        return render("auth/sign_in.html", form=form, status=400)
    return render("auth/sign_in.html", form=form, status=400 if form.errors else 200)


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    """End the session, on the server too: a copy of its cookie opens nothing afterwards."""
    sessions.end_session(session.get(SESSION_TOKEN), utcnow())
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.sign_in"))


@bp.route("/sign-out-everywhere", methods=["POST"])
@login_required
def sign_out_everywhere():
    """End every session of this user: other browsers, other devices, and this one."""
    sessions.end_every_session(current_user.org_id, current_user.id, utcnow())
    logout_user()
    session.clear()
    flash("You are signed out everywhere: every browser and device must sign in again.", "info")
    return redirect(url_for("auth.sign_in"))
