"""Owners' page for the web chat widget: turn it on (a random public key) or off, list the
sites allowed to show it, copy the one script tag to paste, and replace a key gone astray."""

from flask import Blueprint, current_app, flash, g, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, TextAreaField
from wtforms.validators import DataRequired, Length

from blueprints.common import render, roles_required
from pawline import webchat
from pawline.errors import DomainError

bp = Blueprint("webchat_settings", __name__, url_prefix="/settings/channels/webchat")


class TurnOnForm(FlaskForm):
    pass


class TurnOffForm(FlaskForm):
    pass


class ReplaceKeyForm(FlaskForm):
    """A box to tick, so the tag already pasted is never broken by a stray click (and the
    page works without JavaScript: no dialog is needed)."""

    confirm = BooleanField("I understand: the tag on my website stops working until I paste "
                           "the new one", validators=[DataRequired(
                               "Tick the box to replace the key: the old tag stops working.")])


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
        was = webchat.account(g.org.id)
        webchat.turn_on(g.org.id, current_user.id)
        flash("The web chat widget is on again, with the same tag." if was is not None else
              "The web chat widget is on. List your website below, then paste the tag.",
              "success")
    return redirect(url_for(".page"))


@bp.post("/off")
@roles_required("owner")
def turn_off():
    """Stop the widget on every site; its conversations stay in the inbox."""
    if TurnOffForm().validate_on_submit() and webchat.account(g.org.id) is not None:
        webchat.turn_off(g.org.id, current_user.id)
        flash("The web chat widget is off: it no longer shows on your website. "
              "Its conversations stay in the inbox.", "success")
    return redirect(url_for(".page"))


@bp.post("/key")
@roles_required("owner")
def replace_key():
    """A new key: the old tag stops working at once; the page shows the new tag."""
    widget = webchat.account(g.org.id)
    form = ReplaceKeyForm()
    if widget is None:
        return redirect(url_for(".page"))
    if form.validate_on_submit():
        webchat.replace_key(g.org.id, current_user.id)
        flash("The key is replaced: the old tag no longer works. Paste the new tag below "
              "into your website.", "success")
        return redirect(url_for(".page"))
    origins = OriginsForm(formdata=None, origins="\n".join(webchat.allowed_origins(widget)))
    return _page(widget, origins, status=400, key_form=form)


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


def _page(widget, form, status: int = 200, key_form=None):
    tag = None
    if widget is not None:
        base = (current_app.config.get("PUBLIC_BASE_URL") or request.url_root).rstrip("/")
        tag = (f'<script src="{base}{url_for("widget.script", key=widget.account_id)}" '
               'async></script>')
    return render("settings/webchat.html", status=status, widget=widget, form=form,
                  turn_on_form=TurnOnForm(), turn_off_form=TurnOffForm(),
                  key_form=key_form or ReplaceKeyForm(formdata=None),
                  is_on=widget is not None and webchat.is_on(widget), tag=tag)
