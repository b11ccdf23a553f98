"""Phone simulator: text the business as a client would, through the inbound webhook's code path,
by SMS, on WhatsApp, or on another channel from the same person (see simulated_media).

Only with the console SMS provider (the demo); with a real provider the page does not exist.
"""

from flask import Blueprint, abort, current_app, request
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from blueprints.common import render, staff_only
from blueprints.hygiene import accepts_uploads
from pawline.channel_models import CHANNELS
from pawline.channel_routes import LABELS
from pawline.errors import DomainError, InvalidPhone
from pawline.inbound import UnknownNumber, receiving_numbers
from pawline.lines import org_lines
from pawline.media_models import MAX_UPLOAD_BYTES
from pawline.phones import display_phone
from pawline.simulated_media import text_from_phone

bp = Blueprint("simulator", __name__, url_prefix="/simulator")
staff_only(bp)


@bp.before_request
def _console_only():
    if current_app.config.get("SMS_PROVIDER") != "console":
        abort(404)


class SimulatorForm(FlaskForm):
    channel = SelectField("Channel", default="sms", choices=[
        SelectChoice(channel, LABELS[channel]) for channel in CHANNELS])
    from_phone = StringField("From phone", validators=[DataRequired("Enter a phone number.")])
    to = SelectField("To", validators=[DataRequired("Choose one of your numbers.")])
    body = TextAreaField("Message", validators=[Length(max=1600)])
    photo = FileField("Photo", render_kw={"accept": "image/*"})

    def validate_body(self, field):
        if not (field.data or "").strip() and not self.photo_bytes():
            raise ValidationError("Type a message or attach a photo.")

    def photo_bytes(self) -> bytes | None:
        upload = self.photo.data
        if not upload or not getattr(upload, "filename", ""):
            return None
        upload.stream.seek(0)
        return upload.stream.read() or None

    def load_numbers(self, numbers, lines: dict) -> "SimulatorForm":
        self.to.choices = [(n.e164, _number_label(n, lines.get(n.id))) for n in numbers]
        return self


def _number_label(number, line) -> str:
    """The line's name first, then its digits: 'Front desk · (415) 555-0100'."""
    label = f"{line.label} · " if line else ""
    label += display_phone(number.e164)
    return label + (" · quarantined" if number.status == "quarantined" else "")


@bp.route("", methods=["GET", "POST"])
@accepts_uploads(MAX_UPLOAD_BYTES + 64 * 1024)
def index():
    """Show the simulator; on submit, deliver the text as an inbound SMS and link its thread."""
    numbers = receiving_numbers(current_user.org_id)
    form = SimulatorForm().load_numbers(numbers, org_lines(current_user.org_id))
    result, status = None, 200
    if form.validate_on_submit():
        try:
            result = text_from_phone(current_user.org_id, form.to.data, form.from_phone.data,
                                     form.body.data or "", form.photo_bytes(), request.host_url,
                                     current_app.config["SECRET_KEY"],
                                     reply_provider=current_app.config["SMS_PROVIDER"],
                                     channel=form.channel.data)
            form.body.data = ""
        except (InvalidPhone, UnknownNumber, DomainError) as error:
            field = {"to": form.to, "photo": form.photo, "body": form.body,
                     "channel": form.channel}.get(error.field, form.from_phone)
            field.errors.append(error.message)
            status = 400
    elif form.is_submitted():
        status = 400
    return render("simulator/index.html", block="panel", status=status, form=form,
                  numbers=numbers, result=result, photo_sent=bool(result and form.photo.data))
