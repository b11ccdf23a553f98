"""Owners' page for the web chat widget: turn it on (a random public key), list the sites
allowed to show it, and copy the one script tag to paste."""

from flask import Blueprint, current_app, flash, g, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length

from blueprints.common import render, roles_required
from pawline import webchat
from pawline.errors import DomainError

bp = Blueprint("webchat_settings", __name__, url_prefix="/settings/channels/webchat")


class TurnOnForm(FlaskForm):
    pass


class OriginsForm(FlaskForm):
    origins = TextAreaField("Sites that may show the chat", validators=[
        Length(max=4_000, message="Too long: list at most 20 sites.")])


@bp.get("")
@roles_required("owner")
def page():
    """The widget's state; its allowed sites in a form; the tag to paste."""
    widget = webchat.account(g.org.id)
    form = OriginsForm()
    if widget is not None:
        form.origins.data = "\n".join(webchat.allowed_origins(widget))
    return _page(widget, form)


@bp.post("/on")
@roles_required("owner")
def turn_on():
    """Make the widget's key, once: turning it on again keeps the key already pasted."""
    if TurnOnForm().validate_on_submit():
        webchat.turn_on(g.org.id, current_user.id)
        flash("The web chat widget is on. List your website below, then paste the tag.",
              "success")
    return redirect(url_for(".page"))


@bp.post("/origins")
@roles_required("owner")
def save_origins():
    """Replace the sites allowed to frame the chat."""
    widget = webchat.account(g.org.id)
    form = OriginsForm()
    if form.validate_on_submit():
        try:
            webchat.save_origins(g.org.id, form.origins.data, current_user.id)
        except DomainError as refused:
            form.origins.errors = [*form.origins.errors, refused.message]
        else:
            flash("The sites that may show the chat are saved.", "success")
            return redirect(url_for(".page"))
    return _page(widget, form, status=400)


def _page(widget, form, status: int = 200):
    tag = None
    if widget is not None:
        base = (current_app.config.get("PUBLIC_BASE_URL") or request.url_root).rstrip("/")
        tag = (f'<script src="{base}{url_for("widget.script", key=widget.account_id)}" '
               'async></script>')
    return render("settings/webchat.html", status=status, widget=widget, form=form,
                  turn_on_form=TurnOnForm(), tag=tag)
