"""After-hours auto-reply: hours parsed and kept by the database, the reply once per thread per
12 hours, never to an opted-out phone nor in answer to a keyword, shown as Automatic."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from pawline import after_hours
from pawline.db import db
from pawline.desk_models import BusinessHours
from pawline.errors import DomainError
from pawline.inbound import receive_sms
from pawline.models import Message, Organization, Thread
from tests import factories

POOL, ADA = "+14155550101", "+14155552671"
REPLY = "Happy Paws: we are closed, we answer at 9."
NY = ZoneInfo("America/New_York")
# Monday 30 Nov 2026, New York (EST, UTC-5): 20:00 is after hours, 10:00 inside them
EVENING = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
MORNING = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
WEEKDAYS_9_TO_5 = {day: (time(9), time(17)) for day in range(5)}


@pytest.mark.parametrize("text, expected", [
    ("9:00-17:00", (time(9), time(17))),
    (" 09:30 – 17:45 ", (time(9, 30), time(17, 45))),
    ("9am-5pm", (time(9), time(17))),
    ("12pm to 12:30pm", (time(12), time(12, 30))),
    ("0800-1200", (time(8), time(12))),
    ("", None),
    ("closed", None),
])
def test_hours_are_read_as_a_person_writes_them(text, expected):
    assert after_hours.parse_range(text) == expected


@pytest.mark.parametrize("text", ["17:00-9:00", "9:00-9:00", "25:00-26:00", "9-", "nine to five",
                                  "13pm-14pm", "9:60-10:00"])
def test_hours_that_are_no_hours_are_refused(text):
    with pytest.raises(DomainError, match="Monday"):
        after_hours.parse_range(text, "Monday")


def test_the_database_keeps_one_opening_a_day_that_opens_before_it_closes(app):
    with app.app_context():
        org = factories.org()
        for weekday, opens, closes in [(7, time(9), time(17)), (-1, time(9), time(17)),
                                       (0, time(17), time(9)), (0, time(9), time(9))]:
            db.session.add(BusinessHours(org_id=org.id, weekday=weekday, opens=opens,
                                         closes=closes))
            with pytest.raises(IntegrityError):
                db.session.commit()
            db.session.rollback()
        db.session.add_all([BusinessHours(org_id=org.id, weekday=d, opens=time(0),
                                          closes=time(23, 59)) for d in (0, 6)])
        db.session.commit()  # the neighbours: both ends of the week, almost all day
        db.session.add(BusinessHours(org_id=org.id, weekday=0, opens=time(8), closes=time(9)))
        with pytest.raises(IntegrityError):  # a second row for Monday
            db.session.commit()
        db.session.rollback()
        org_row = db.session.get(Organization, org.id)
        org_row.after_hours_reply = "   "
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        message = db.session.execute(sa.text(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conname = 'ck_message_auto_reply_known'")).scalar()
        assert "after_hours" in message


def test_open_follows_the_wall_clock_of_the_zone_across_dst():
    week = {0: (time(9), time(17)), 4: (time(9), time(17))}
    # Friday 6 Mar 2026, 13:30 UTC is 8:30 EST: closed; Monday 9 Mar after DST: 9:30 EDT, open
    assert not after_hours.is_open(week, NY, datetime(2026, 3, 6, 13, 30, tzinfo=UTC))
    assert after_hours.is_open(week, NY, datetime(2026, 3, 9, 13, 30, tzinfo=UTC))
    assert not after_hours.is_open(week, NY, datetime(2026, 3, 9, 12, 59, tzinfo=UTC))
    # closing is exclusive, and a day with no row is closed all day
    assert not after_hours.is_open(week, NY, datetime(2026, 3, 9, 21, 0, tzinfo=UTC))
    assert not after_hours.is_open(week, NY, datetime(2026, 3, 10, 15, 0, tzinfo=UTC))
    # the same instant is Monday evening in New York and Tuesday morning in Sydney
    assert not after_hours.is_open(week, NY, EVENING)
    assert after_hours.is_open({1: (time(9), time(17))}, ZoneInfo("Australia/Sydney"),
                               datetime(2026, 11, 30, 23, 0, tzinfo=UTC))


@pytest.fixture
def org(app):
    with app.app_context():
        org = factories.org("Happy Paws")
        factories.number(org.id, POOL, "pool")
        after_hours.save(org.id, WEEKDAYS_9_TO_5, REPLY, None)
        return org


def replies(app) -> list[Message]:
    with app.app_context():
        rows = db.session.scalars(sa.select(Message).where(
            Message.auto_reply == "after_hours").order_by(Message.id)).all()
        db.session.expunge_all()
        return rows


def test_a_text_after_hours_is_answered_once_per_12_hours(app, org):
    with app.app_context():
        thread_id = receive_sms(POOL, ADA, "Is Rex okay?", "SM1", now=EVENING).thread_id
        receive_sms(POOL, ADA, "Hello?", "SM2", now=EVENING + timedelta(hours=2))
        receive_sms(POOL, ADA, "Still there?", "SM3", now=EVENING + timedelta(hours=11, minutes=59))
    [reply] = replies(app)
    assert (reply.body, reply.to_e164, reply.thread_id, reply.sent_by_user_id) == (
        REPLY, ADA, thread_id, None)
    with app.app_context():  # Saturday is closed all day, and 12 hours have passed
        receive_sms(POOL, ADA, "Walk tomorrow?", "SM4", now=EVENING + timedelta(days=4))
        thread = db.session.get(Thread, thread_id)
        assert thread.after_hours_replied_at == EVENING + timedelta(days=4)
        assert thread.last_message_preview == "Walk tomorrow?"  # the reply leaves the preview
    assert len(replies(app)) == 2


def test_a_text_inside_hours_gets_no_reply(app, org):
    with app.app_context():
        receive_sms(POOL, ADA, "Is Rex okay?", "SM1", now=MORNING)
    assert replies(app) == []


def test_no_reply_text_means_no_reply(app, org):
    with app.app_context():
        after_hours.save(org.id, WEEKDAYS_9_TO_5, "", None)
        receive_sms(POOL, ADA, "Is Rex okay?", "SM1", now=EVENING)
    assert replies(app) == []


@pytest.mark.parametrize("word", ["STOP", "start", "HELP", "Info."])
def test_a_keyword_after_hours_is_never_answered_with_the_reply(app, org, word):
    with app.app_context():
        receive_sms(POOL, ADA, word, "SM1", now=EVENING)
    assert replies(app) == []


def test_an_opted_out_phone_gets_no_reply(app, org):
    with app.app_context():
        receive_sms(POOL, ADA, "STOP", "SM1", now=EVENING - timedelta(days=1))
        receive_sms(POOL, ADA, "One more thing", "SM2", now=EVENING)
    assert replies(app) == []


def test_the_reply_shows_in_the_thread_as_automatic(app, client, auth, org):
    with app.app_context():
        thread_id = receive_sms(POOL, ADA, "Is Rex okay?", "SM1", now=EVENING).thread_id
    auth.sign_in(org.staff_email)

    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)

    assert REPLY in page
    assert '<span class="author">Automatic</span>' in page


def test_a_stop_before_the_reply_is_handed_over_cancels_it(app, org):
    with app.app_context():
        receive_sms(POOL, ADA, "Is Rex okay?", "SM1", now=EVENING)
        receive_sms(POOL, ADA, "STOP", "SM2", now=EVENING + timedelta(minutes=1))
    [reply] = replies(app)
    assert reply.status == "canceled"
    assert "opted out" in reply.error_message
