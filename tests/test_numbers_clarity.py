"""The Numbers page says what an owner's action does before it is done: names, impact, dates."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from pawline import numbers
from pawline.db import db
from pawline.inbound import receive_sms
from pawline.models import MessageNumber, Thread
from pawline.number_impact import threads_using
from tests import factories

HTMX = {"HX-Request": "true"}
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.fixture
def org(app):
    with app.app_context():
        org = factories.org()
        org.front = factories.number(org.id, "+14155550100", "front_desk")
        org.pool = factories.number(org.id, "+14155550101", "pool")
        return org


def test_threads_using_counts_texted_lines_defaults_and_each_thread_once(ctx):
    org = factories.org()
    front = factories.number(org.id, "+14155550100", "front_desk")
    pool = factories.number(org.id, "+14155550101", "pool")
    receive_sms("+14155550100", "+14155552671", "hi", "SMuse1")
    receive_sms("+14155550100", "+14155552672", "hi", "SMuse2")
    receive_sms("+14155550101", "+14155552673", "hi", "SMuse3")
    db.session.execute(sa.update(Thread).values(default_number_id=pool))  # all three keep pool

    assert threads_using(org.id, NOW) == {front: 2, pool: 3}


def test_each_duration_shows_its_release_date(ctx):
    org = factories.org()
    dates = numbers.release_dates(org.id, NOW)
    assert dates["1"] == NOW + timedelta(days=1) and dates["90"] == NOW + timedelta(days=90)


def test_the_quarantine_dialog_shows_dates_impact_and_warns_for_the_front_desk(app, client,
                                                                               auth, org):
    with app.app_context():
        receive_sms("+14155550100", "+14155552671", "hi", "SMq1")
    auth.sign_in(org.owner_email)
    page = client.get("/numbers").get_data(as_text=True)
    front_dialog = page.split(f'id="quarantine-{org.front}"', 1)[1].split("</dialog>", 1)[0]
    assert "This is your front desk: your main line and the last fallback." in front_dialog
    assert "<strong>1 conversation</strong> uses this line now" in front_dialog
    assert front_dialog.count('class="release-date"') == 6
    pool_dialog = page.split(f'id="quarantine-{org.pool}"', 1)[1].split("</dialog>", 1)[0]
    assert "your main line" not in pool_dialog
    assert "No conversation uses this line now." in pool_dialog


def test_lines_show_their_name_first_and_an_owner_renames_one(app, client, auth, org):
    auth.sign_in(org.owner_email)
    page = client.get("/numbers").get_data(as_text=True)
    assert '<span class="line-name">Front desk</span> <small class="line-digits">(415) 555-0100' \
        in page
    answer = client.post(f"/numbers/{org.pool}/label", data={"label": "Pool 2"}, headers=HTMX)
    assert answer.status_code == 200 and '<span class="line-name">Pool 2</span>' in \
        answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(MessageNumber, org.pool).label == "Pool 2"
    too_long = client.post(f"/numbers/{org.pool}/label", data={"label": "x" * 41},
                           headers=HTMX)
    assert too_long.status_code == 422


def test_staff_cannot_rename_a_line(client, auth, org):
    auth.sign_in(org.staff_email)
    assert client.post(f"/numbers/{org.pool}/label", data={"label": "Mine"}).status_code == 403


def test_make_front_desk_asks_first_and_says_what_the_old_one_becomes(client, auth, org):
    auth.sign_in(org.owner_email)
    page = client.get("/numbers").get_data(as_text=True)
    dialog = page.split(f'id="front-desk-{org.pool}"', 1)[1].split("</dialog>", 1)[0]
    assert "Make Pool 0101 the front desk?" in dialog
    assert "stops being the front desk and joins the pool" in dialog
    row = page.split(f'id="number-{org.pool}"', 1)[1].split("<dialog", 1)[0]
    assert f'data-open-dialog="front-desk-{org.pool}"' in row
    assert f"numbers/{org.pool}/front-desk" not in row  # the row's button only opens the ask


def test_restore_is_not_the_primary_action_while_days_remain(app, client, auth, org):
    with app.app_context():
        numbers.quarantine_number(org.id, org.pool, None, "30", None, "test")
        numbers.quarantine_number(org.id, org.front, None, "1", None, "test",
                                  now=datetime.now(UTC) - timedelta(days=2))
    auth.sign_in(org.owner_email)
    page = client.get("/numbers").get_data(as_text=True)
    waiting = page.split(f'id="number-{org.pool}"', 1)[1].split("</tr>", 1)[0]
    assert f'class="small" data-open-dialog="restore-{org.pool}"' in waiting
    due = page.split(f'id="number-{org.front}"', 1)[1].split("</tr>", 1)[0]
    assert f'class="small primary" data-open-dialog="restore-{org.front}"' in due
