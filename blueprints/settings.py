"""Owners' settings: the answer a client gets when they text HELP or INFO."""

from flask import Blueprint, flash, g, redirect, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length

from blueprints.common import render, roles_required
from pawline import consent
from pawline.errors import DomainError

bp = Blueprint("settings", __name__, url_prefix="/settings")


class HelpReplyForm(FlaskForm):
    text = TextAreaField("Answer to HELP and INFO", validators=[Length(
        max=consent.HELP_REPLY_MAX,
        message=f"Keep the answer under {consent.HELP_REPLY_MAX} characters.")])


@bp.route("/help-reply", methods=["GET", "POST"])
@roles_required("owner")
def help_reply():
    """Show and change the answer to HELP; empty goes back to the default."""
    org_id = g.org.id
    form = HelpReplyForm()
    if form.validate_on_submit():
        try:
            consent.set_help_reply(org_id, form.text.data, current_user.id)
        except DomainError as refused:
            form.text.errors = [*form.text.errors, refused.message]
        else:
            flash("The answer to HELP is saved.", "success")
            return redirect(url_for(".help_reply"))
    elif not form.is_submitted():
        form.text.data = consent.help_reply(org_id)
    status = 400 if form.errors else 200
    return render("settings/help_reply.html", status=status, form=form,
                  default=consent.default_help_reply(g.org.name))
