from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from pawline import bookings, sitters
from pawline.db import db
from pawline.models import Thread
from tests import factories

HOUR = timedelta(hours=1)


def sitter_with_number(org):
    factories.number(org.id, "+14155550142", "sitter")
    sitter_id = sitters.create_sitter(org.id, "Sam", factories.phone(),
                                      email=org.sitter_email).id
    sitters.activate_sitter(org.id, sitter_id, None)
    return sitter_id


def booked_client(org, sitter_id, name, start, end, confirm=True):
    client_id = factories.client(org.id, name, factories.phone())
    booking = bookings.create_booking(org.id, client_id, sitter_id, start, end)
    if confirm:
        bookings.confirm_booking(org.id, booking.id)
    return db.session.scalar(sa.select(Thread.id).where(Thread.client_id == client_id))


def test_a_sitter_sees_its_number_and_that_it_stays_theirs(app, client, auth):
    with app.app_context():
        org = factories.org()
        sitter_with_number(org)
    auth.sign_in(org.sitter_email)
    page = client.get("/me").get_data(as_text=True)
    assert "Your business number" in page and "(415) 555-0142" in page
    assert "it stays yours across all bookings" in page


def test_the_page_links_only_clients_with_a_window_active_now(app, client, auth):
    now = datetime.now(UTC)
    with app.app_context():
        org = factories.org()
        sitter_id = sitter_with_number(org)
        current = booked_client(org, sitter_id, "Current Client", now - HOUR, now + HOUR)
        future = booked_client(org, sitter_id, "Future Client", now + HOUR, now + 2 * HOUR)
        past = booked_client(org, sitter_id, "Past Client", now - 2 * HOUR, now - HOUR)
        booked_client(org, sitter_id, "Pending Client", now - HOUR, now + HOUR, confirm=False)
    auth.sign_in(org.sitter_email)

    page = client.get("/me").get_data(as_text=True)

    assert f'href="/threads/{current}"' in page
    assert f"/threads/{future}" not in page and f"/threads/{past}" not in page
    assert "Future Client" in page  # listed as an upcoming booking, without a thread link
    assert "Past Client" not in page
    assert "Pending Client" in page and page.count("/threads/") == 1


def test_another_sitters_clients_are_not_shown(app, client, auth):
    now = datetime.now(UTC)
    with app.app_context():
        org = factories.org()
        sitter_with_number(org)
        other = sitters.create_sitter(org.id, "Kim", factories.phone()).id
        sitters.activate_sitter(org.id, other, None)
        thread = booked_client(org, other, "Kim's Client", now - HOUR, now + HOUR)
    auth.sign_in(org.sitter_email)
    page = client.get("/me").get_data(as_text=True)
    assert f"/threads/{thread}" not in page and "Kim&#39;s Client" not in page


def test_a_sitter_sign_in_without_a_sitter_record_gets_a_friendly_page(app, client, auth):
    with app.app_context():
        org = factories.org()
    auth.sign_in(org.sitter_email)
    response = client.get("/me")
    assert response.status_code == 200
    assert "not linked to a sitter profile" in response.get_data(as_text=True)


def test_staff_get_404_on_the_sitter_page(app, client, auth):
    with app.app_context():
        org = factories.org()
    auth.sign_in(org.staff_email)
    assert client.get("/me").status_code == 404
