"""Owners' settings: the answer a client gets when they text HELP or INFO, business hours with
the reply a client gets outside them, the automatic booking messages, and the list of channels
(each channel's own settings page lives in its own blueprint, under /settings/channels/...)."""

from flask import Blueprint, current_app, flash, g, redirect, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange

from blueprints.common import render, roles_required
from pawline import after_hours, booking_messages, channel_accounts, consent
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
                  default=consent.default_help_reply(org_id))


class AfterHoursForm(FlaskForm):
    text = TextAreaField("Reply outside business hours", validators=[Length(
        max=after_hours.REPLY_MAX,
        message=f"Keep the reply under {after_hours.REPLY_MAX} characters.")])


for _day, _name in enumerate(after_hours.WEEKDAYS):
    setattr(AfterHoursForm, f"day{_day}", StringField(_name, validators=[Length(max=40)]))


@bp.route("/after-hours", methods=["GET", "POST"])
@roles_required("owner")
def after_hours_reply():
    """Show and change business hours and the reply sent outside them."""
    org_id = g.org.id
    form = AfterHoursForm()
    days = [form[f"day{day}"] for day in range(len(after_hours.WEEKDAYS))]
    if form.validate_on_submit():
        week = {}
        for day, field in enumerate(days):
            try:
                week[day] = after_hours.parse_range(field.data, after_hours.WEEKDAYS[day])
            except DomainError as refused:
                field.errors = [*field.errors, refused.message]
        if not form.errors and not any(field.errors for field in days):
            try:
                after_hours.save(org_id, week, form.text.data, current_user.id)
            except DomainError as refused:
                form.text.errors = [*form.text.errors, refused.message]
            else:
                flash("Business hours and the after-hours reply are saved.", "success")
                return redirect(url_for(".after_hours_reply"))
    elif not form.is_submitted():
        form.text.data = after_hours.reply_text(org_id) or ""
        week = after_hours.hours(org_id)
        for day, field in enumerate(days):
            field.data = after_hours.show_range(week.get(day))
    failed = bool(form.errors) or any(field.errors for field in days)
    return render("settings/after_hours.html", status=400 if failed else 200, form=form,
                  days=days, zone=g.org.timezone)


class BookingMessagesForm(FlaskForm):
    confirmation_enabled = BooleanField("Send a confirmation when a booking is confirmed")
    confirmation_body = TextAreaField("Confirmation", validators=[Length(max=1600)])
    reminder_enabled = BooleanField("Send a reminder before a booking starts")
    reminder_body = TextAreaField("Reminder", validators=[Length(max=1600)])
    lead_hours = IntegerField("Hours before the start", validators=[
        InputRequired("Say how many hours before."),
        NumberRange(1, 336, "Between 1 and 336 hours (two weeks).")])


@bp.route("/booking-messages", methods=["GET", "POST"])
@roles_required("owner")
def booking_messages_page():
    """Switch each automatic booking message on or off and edit its words and timing."""
    org_id = g.org.id
    form = BookingMessagesForm()
    if form.validate_on_submit():
        try:
            booking_messages.save_settings(org_id, {
                "confirmation": (form.confirmation_enabled.data, form.confirmation_body.data,
                                 None),
                "reminder": (form.reminder_enabled.data, form.reminder_body.data,
                             form.lead_hours.data * 60)}, current_user.id)
        except DomainError as refused:
            target = getattr(form, refused.field or "", None) or form.confirmation_body
            target.errors = [*target.errors, refused.message]
        else:
            flash("The automatic booking messages are saved.", "success")
            return redirect(url_for(".booking_messages_page"))
    elif not form.is_submitted():
        saved = booking_messages.settings(org_id)
        for kind, setting in saved.items():
            getattr(form, f"{kind}_enabled").data = setting.enabled
            getattr(form, f"{kind}_body").data = setting.body
        form.lead_hours.data = saved["reminder"].lead_minutes // 60
    status = 400 if form.errors else 200
    return render("settings/booking_messages.html", status=status, form=form)


# Where each channel's own settings page may live: the first of these paths the app serves is
# linked from the channel list, so a channel's blueprint needs no change here to be listed.
CHANNEL_PAGE_SLUGS = {"whatsapp": ("whatsapp",), "telegram": ("telegram",),
                      "messenger": ("messenger", "meta"), "instagram": ("instagram", "meta"),
                      "webchat": ("webchat", "widget", "web-chat")}


def _channel_pages() -> dict[str, str]:
    """Each channel's settings page path, found among the app's GET routes."""
    served = {rule.rule for rule in current_app.url_map.iter_rules()
              if "GET" in (rule.methods or ()) and not rule.arguments}
    pages = {}
    for channel, slugs in CHANNEL_PAGE_SLUGS.items():
        for slug in slugs:
            if f"/settings/channels/{slug}" in served:
                pages[channel] = f"/settings/channels/{slug}"
                break
    return pages


@bp.route("/channels")
@roles_required("owner")
def channels():
    """The channels clients can write on, whether each is set up, and a link to set it up."""
    return render("settings/channels.html", states=channel_accounts.overview(g.org.id),
                  pages=_channel_pages(), sms_provider=current_app.config["SMS_PROVIDER"])
