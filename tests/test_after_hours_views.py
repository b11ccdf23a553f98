"""The owner's business-hours page: hours and reply shown and saved, errors per day, owners only,
each organization its own."""

from datetime import time

import pytest
import sqlalchemy as sa

from pawline import after_hours, sentences
from pawline.db import db
from pawline.models import AuditEvent, Organization
from tests import factories

URL = "/settings/after-hours"
CLOSED = {f"day{d}": "" for d in range(7)}


@pytest.fixture
def world(app):
    with app.app_context():
        return factories.org("Happy Paws")


def test_the_owner_sets_hours_and_the_reply(app, client, auth, world):
    auth.sign_in(world.owner_email)
    assert "Leave it empty to send no after-hours reply" in client.get(URL).get_data(
        as_text=True)

    response = client.post(URL, data={**CLOSED, "day0": "9:00-17:00", "day5": "10am-2pm",
                                      "text": "Happy Paws: closed now, we answer at 9."})

    assert response.status_code == 302
    with app.app_context():
        assert after_hours.hours(world.id) == {0: (time(9), time(17)), 5: (time(10), time(14))}
        assert after_hours.reply_text(world.id) == "Happy Paws: closed now, we answer at 9."
    page = client.get(URL).get_data(as_text=True)
    assert 'value="09:00-17:00"' in page and 'value="10:00-14:00"' in page


def test_a_day_that_closes_before_it_opens_is_a_form_error_and_changes_nothing(
        app, client, auth, world):
    auth.sign_in(world.owner_email)

    response = client.post(URL, data={**CLOSED, "day2": "17:00-9:00", "text": "Closed"})

    assert response.status_code == 400
    assert "Wednesday: opening must come before closing" in response.get_data(as_text=True)
    with app.app_context():
        assert after_hours.hours(world.id) == {}
        assert after_hours.reply_text(world.id) is None


def test_a_too_long_reply_is_a_form_error(app, client, auth, world):
    auth.sign_in(world.owner_email)

    response = client.post(URL, data={**CLOSED, "text": "x" * 321})

    assert response.status_code == 400
    assert "Keep the reply under 320 characters." in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["staff", "sitter"])
def test_only_owners_may_see_or_change_the_hours(app, client, auth, world, role):
    auth.sign_in(getattr(world, f"{role}_email"))

    assert client.get(URL).status_code == 404
    assert client.post(URL, data={**CLOSED, "text": "Hijacked"}).status_code == 404
    with app.app_context():
        assert db.session.get(Organization, world.id).after_hours_reply is None


def test_an_owner_sees_and_changes_only_their_own_organizations_hours(app, client, auth, world):
    with app.app_context():
        after_hours.save(world.id, {0: (time(8), time(12))}, "Happy Paws secret", None)
        other = factories.org("Other Paws")
    auth.sign_in(other.owner_email)

    page = client.get(URL).get_data(as_text=True)
    client.post(URL, data={**CLOSED, "day1": "9-17", "text": "Other Paws: closed"})

    assert "Happy Paws secret" not in page and "08:00-12:00" not in page
    with app.app_context():
        assert after_hours.hours(world.id) == {0: (time(8), time(12))}
        assert after_hours.reply_text(world.id) == "Happy Paws secret"
        assert after_hours.hours(other.id) == {1: (time(9), time(17))}


def test_the_numbers_page_links_the_owner_to_business_hours(client, auth, world):
    auth.sign_in(world.owner_email)
    assert f'href="{URL}"' in client.get("/numbers").get_data(as_text=True)


def test_the_change_is_in_the_audit_log_in_words(app, world):
    with app.app_context():
        after_hours.save(world.id, {0: (time(9), time(17))}, "", None)
        event = db.session.scalar(sa.select(AuditEvent).where(
            AuditEvent.action == "settings.after_hours"))
        assert event.data == {"text": None, "hours": {"Monday": "09:00-17:00"}}
        assert sentences.action_name(event.action) == "Business hours changed"
