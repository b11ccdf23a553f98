"""The inbox's forms: a reply (words, photos or both), a note, a message to any phone, a snooze,
a reply to send later."""

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    RadioField,
    SelectChoice,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Optional, ValidationError

from pawline import images
from pawline.errors import DomainError

PHOTO_TYPES = "image/jpeg,image/png,image/gif,image/heic,image/heif,.heic,.heif"
PHOTO_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".heic", ".heif")
PHOTO_MIMETYPES = ("image/jpeg", "image/png", "image/gif", "image/heic", "image/heif")
# the photos (Twilio's limit for a message) and room for the form's text fields
UPLOAD_LIMIT = images.MAX_TOTAL_BYTES + 256 * 1024


class Photos:
    """Up to five photos of a reply, sent now (ReplyForm) or later (ScheduleForm): one check."""

    photos = MultipleFileField("Photos", render_kw={"accept": PHOTO_TYPES})

    def validate_photos(self, field):
        chosen = self.chosen_photos()
        try:
            images.check_upload([_size(photo) for photo in chosen])
        except DomainError as refused:
            raise ValidationError(refused.message) from None
        for photo in chosen:  # a first look; pawline.images decides by the bytes themselves
            if not (photo.filename.lower().endswith(PHOTO_EXTENSIONS)
                    or photo.mimetype in PHOTO_MIMETYPES):
                raise ValidationError(f"{photo.filename[:60]} is not a JPEG, PNG, GIF or HEIC "
                                      "photo.")

    def chosen_photos(self) -> list:
        return [photo for photo in (self.photos.data or []) if photo and photo.filename]

    def photo_files(self) -> list[tuple[bytes, str]]:
        return [(photo.read(), photo.filename) for photo in self.chosen_photos()]


class ReplyForm(Photos, FlaskForm):
    """Words, up to five photos, or both."""

    body = TextAreaField("Message")
    client_token = HiddenField()
    # one of the client's channels (the domain refuses any other); empty: where they last wrote
    channel = HiddenField()
    # "1" when the page shows the thread's newest messages: the reply can join their end
    tail = HiddenField()

    def validate_body(self, field):
        if not (field.data or "").strip() and not self.chosen_photos():
            raise ValidationError("Write a message or attach a photo.")


def _size(upload) -> int:
    upload.stream.seek(0, 2)
    size = upload.stream.tell()
    upload.stream.seek(0)
    return size


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


class ScheduleForm(Photos, FlaskForm):
    """A reply to send later, with the reply box's photos; `send_at` is read in the
    organization's zone (pawline.scheduled). Editing it may remove its photos."""

    body = TextAreaField("Message")  # photos alone are a reply too: the domain decides
    send_at = StringField("Send at")
    remove_photos = BooleanField("Remove its photos")

    def first_error(self) -> str:
        return next(error for errors in self.errors.values() for error in errors)
