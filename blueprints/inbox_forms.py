"""The forms of the inbox and a thread's pane."""

from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    HiddenField,
    RadioField,
    SelectChoice,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Optional


class ReplyForm(FlaskForm):
    body = TextAreaField("Message", validators=[DataRequired("Write a message first.")])
    client_token = HiddenField()


class NoteForm(FlaskForm):
    body = TextAreaField("Internal note", validators=[DataRequired("Write the note first.")])


class NewMessageForm(FlaskForm):
    phone = TelField("Phone number", validators=[DataRequired("Enter a phone number.")])
    body = TextAreaField("Message", validators=[DataRequired("Write a message first.")])
    client_token = HiddenField()


class SnoozeForm(FlaskForm):
    until = RadioField("Snooze until", default="1h", choices=[
        SelectChoice("1h", "1 hour"), SelectChoice("tomorrow", "Tomorrow 9 AM"),
        SelectChoice("custom", "Pick a time")])
    custom_until = DateTimeLocalField("Time", format="%Y-%m-%dT%H:%M", validators=[Optional()])


class ScheduleForm(FlaskForm):
    """A reply to send later; `send_at` is read in the organization's zone (pawline.scheduled)."""

    body = TextAreaField("Message", validators=[DataRequired("Write a message first.")])
    send_at = StringField("Send at")
