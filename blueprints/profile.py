"""Profile: the signed-in user's own display name."""

from flask import Blueprint, flash, redirect, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired

from blueprints.common import render
from pawline import people
from pawline.errors import DomainError

bp = Blueprint("profile", __name__)


class ProfileForm(FlaskForm):
    name = StringField("Display name", validators=[DataRequired("Enter a name.")])


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def edit():
    """Show and change the name colleagues and the audit trail know this user by."""
    form = ProfileForm(name=current_user.name)
    if form.validate_on_submit():
        try:
            people.set_display_name(current_user.org_id, current_user.id, form.name.data)
        except DomainError as refused:
            form.name.errors.append(refused.message)
        else:
            flash("Your name is saved.", "success")
            return redirect(url_for("profile.edit"))
    status = 400 if form.errors else 200
    return render("profile/edit.html", status=status, form=form,
                  role_name=people.ROLE_NAMES[current_user.role])
