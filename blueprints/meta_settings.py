"""Owners connect their Facebook page (Messenger) and Instagram account: the account's id, and
the page access token the replies are sent with.

The token is sealed at rest (pawline.secret_box, through channel_accounts.save) and never shown
again, not even in part: an empty token field keeps the stored one, so an owner can rename the
account or change its id without pasting the token again. Only owners reach these pages; staff
and sitters get 404, like every owner's setting.
"""

from flask import Blueprint, current_app, flash, g, redirect, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from blueprints.common import render, roles_required
from pawline import channel_accounts
from pawline.errors import DomainError
from pawline.secret_box import SecretUnreadable

bp = Blueprint("meta_settings", __name__, url_prefix="/settings/channels")

LABELS = {
    "messenger": {"name": "Messenger", "account": "Facebook page id",
                  "account_hint": "The page's numeric id: the page's About section, or Meta "
                                  "Business Suite, shows it."},
    "instagram": {"name": "Instagram", "account": "Instagram account id",
                  "account_hint": "The numeric id of the Instagram professional account linked "
                                  "to your Facebook page (Meta Business Suite shows it)."},
}
TOKEN_MAX = 1000  # Meta's page tokens are around 200 characters


class MetaAccountForm(FlaskForm):
    account_id = StringField("Account id", validators=[
        InputRequired("Enter the account's id."),
        Regexp(r"^[0-9]{1,40}$", message="The id is digits only, at most 40 of them.")])
    display_name = StringField("Name shown to staff", validators=[
        Optional(), Length(max=100, message="Keep the name under 100 characters.")])
    token = PasswordField("Page access token", validators=[
        Optional(), Length(max=TOKEN_MAX, message=f"A token is under {TOKEN_MAX} characters."),
        Regexp(r"^[!-~]+$", message="A token has no spaces and only plain letters, digits and "
                                    "symbols.")])


@bp.route("/messenger", methods=["GET", "POST"])
@roles_required("owner")
def messenger():
    """Connect or change the organization's Facebook page."""
    return _account_page("messenger")


@bp.route("/instagram", methods=["GET", "POST"])
@roles_required("owner")
def instagram():
    """Connect or change the organization's Instagram account."""
    return _account_page("instagram")


def _account_page(channel: str):
    org_id, labels = g.org.id, LABELS[channel]
    try:
        stored = channel_accounts.get(org_id, channel)
    except SecretUnreadable:  # the server's key changed: the owner pastes the token again
        stored, unreadable = None, True
    else:
        unreadable = False
    form = MetaAccountForm()
    form.account_id.label.text = labels["account"]
    if form.validate_on_submit():
        token = (form.token.data or "").strip() or None
        if token is None and (stored is None or not stored.secret):
            form.token.errors = [*form.token.errors, "Paste the page access token."]
        else:
            try:
                channel_accounts.save(org_id, channel, form.account_id.data.strip(),
                                      (form.display_name.data or "").strip(), secret=token,
                                      actor_user_id=current_user.id)
            except DomainError as refused:
                target = getattr(form, refused.field or "", None) or form.account_id
                target.errors = [*target.errors, refused.message]
            else:
                flash(f"{labels['name']} is connected.", "success")
                return redirect(url_for(f".{channel}"))
    elif not form.is_submitted() and stored is not None:
        form.account_id.data = stored.account_id
        form.display_name.data = stored.display_name
    form.token.data = ""  # never sent back to the browser
    return render("settings/meta_channel.html", status=400 if form.errors else 200, form=form,
                  channel=channel, labels=labels, stored=stored, unreadable=unreadable,
                  webhook_url=_webhook_url())


def _webhook_url() -> str:
    """The callback URL to paste into the Meta app's webhook settings."""
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    path = url_for("meta_webhook.verify")
    return base + path if base else url_for("meta_webhook.verify", _external=True)
