"""Phone simulator: text the business as a client would, through the inbound webhook's code path.

Only with the console SMS provider (the demo); with a real provider the page does not exist.
"""

from flask import Blueprint, abort, current_app
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from blueprints.common import render, staff_only
from pawline.errors import InvalidPhone
from pawline.inbound import UnknownNumber, receive_sms, receiving_numbers, simulator_sid
from pawline.phones import display_phone

bp = Blueprint("simulator", __name__, url_prefix="/simulator")
staff_only(bp)


@bp.before_request
def _console_only():
    if current_app.config.get("SMS_PROVIDER") != "console":
        abort(404)


class SimulatorForm(FlaskForm):
    from_phone = StringField("From phone", validators=[DataRequired("Enter a phone number.")])
    to = SelectField("To", validators=[DataRequired("Choose one of your numbers.")])
    body = TextAreaField("Message", validators=[DataRequired("Type a message."),
                                                Length(max=1600)])

    def load_numbers(self, numbers) -> "SimulatorForm":
        self.to.choices = [(n.e164, _number_label(n)) for n in numbers]
        return self


def _number_label(number) -> str:
    label = f"{display_phone(number.e164)} · {number.number_class.replace('_', ' ')}"
    return label + (" · quarantined" if number.status == "quarantined" else "")


@bp.route("", methods=["GET", "POST"])
def index():
    """Show the simulator; on submit, deliver the text as an inbound SMS and link its thread."""
    numbers = receiving_numbers(current_user.org_id)
    form = SimulatorForm().load_numbers(numbers)
    result, status = None, 200
    if form.validate_on_submit():
        try:
            result = receive_sms(form.to.data, form.from_phone.data, form.body.data,
                                 simulator_sid(), provider="simulator",
                                 reply_provider=current_app.config["SMS_PROVIDER"])
            form.body.data = ""
        except (InvalidPhone, UnknownNumber) as error:
            field = form.to if error.field == "to" else form.from_phone
            field.errors.append(error.message)
            status = 400
    elif form.is_submitted():
        status = 400
    return render("simulator/index.html", block="panel", status=status, form=form,
                  numbers=numbers, result=result)
