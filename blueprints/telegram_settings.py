"""Owners connect the organization's Telegram bot: /settings/channels/telegram, and the
command `flask --app app telegram-webhook <org slug> <public base url>` that registers its
webhook (the page has the same button, using PUBLIC_BASE_URL or the address it was opened at).

The token is shown once, when pasted: afterwards the page names only the bot's @username.
"""

import click
import sqlalchemy as sa
from flask import Blueprint, current_app, flash, g, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import InputRequired, Length

from blueprints.common import render, roles_required
from pawline import channel_accounts, telegram_accounts
from pawline.db import db
from pawline.errors import DomainError
from pawline.models import Organization

bp = Blueprint("telegram_settings", __name__, url_prefix="/settings/channels",
               cli_group=None)


class TokenForm(FlaskForm):
    token = PasswordField("Bot token", validators=[
        InputRequired("Paste the token @BotFather gave you."),
        Length(max=200, message="A bot token is under 200 characters.")])


class WebhookForm(FlaskForm):
    pass


def _public_base() -> str:
    return current_app.config.get("PUBLIC_BASE_URL") or request.host_url.rstrip("/")


def _page(form: TokenForm, status: int = 200):
    account = channel_accounts.get(g.org.id, "telegram")
    return render("settings/telegram.html", status=status, form=form, account=account,
                  webhook_form=WebhookForm(), public_base=_public_base(),
                  webhook_path=telegram_accounts.webhook_path(g.org.slug))


@bp.route("/telegram", methods=["GET", "POST"])
@roles_required("owner")
def telegram():
    """Show the bot, or connect one by its token (checked with Telegram's getMe)."""
    form = TokenForm()
    if form.validate_on_submit():
        try:
            account = telegram_accounts.connect_bot(g.org.id, form.token.data,
                                                    current_app.config, current_user.id)
        except DomainError as refused:
            form.token.errors = [*form.token.errors, refused.message]
        else:
            flash(f"Connected {account.display_name}. Now register its webhook.", "success")
            return redirect(url_for(".telegram"))
    return _page(form, 400 if form.errors else 200)


@bp.post("/telegram/webhook")
@roles_required("owner")
def register_webhook():
    """Point the bot's webhook here, with a fresh secret token."""
    if not WebhookForm().validate_on_submit():
        return redirect(url_for(".telegram"))
    try:
        url = telegram_accounts.register_webhook(g.org.id, g.org.slug, _public_base(),
                                                 current_app.config, current_user.id)
    except DomainError as refused:
        flash(refused.message, "error")
        return redirect(url_for(".telegram"))
    flash(f"Telegram now sends the bot's messages to {url}.", "success")
    return redirect(url_for(".telegram"))


@bp.cli.command("telegram-webhook")
@click.argument("org_slug")
@click.argument("public_base_url")
def telegram_webhook_command(org_slug: str, public_base_url: str):
    """Register the organization's bot webhook at PUBLIC_BASE_URL with a fresh secret token."""
    org = db.session.scalar(sa.select(Organization).where(Organization.slug == org_slug))
    if org is None:
        raise click.ClickException(f"No organization {org_slug!r}.")
    try:
        url = telegram_accounts.register_webhook(org.id, org.slug, public_base_url,
                                                 current_app.config)
    except DomainError as refused:
        db.session.rollback()
        raise click.ClickException(refused.message) from None
    click.echo(f"Telegram now sends the bot's messages to {url}")
