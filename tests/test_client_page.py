"""The client page: a guest by their phone until named, notes, the conversation and bookings."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from pawline import bookings, client_page, sitters
from pawline.clock import utcnow
from pawline.db import db
from pawline.errors import DomainError
from pawline.inbound import receive_sms
from pawline.models import Client, Thread
from tests import factories

HX = {"HX-Request": "true"}


@pytest.fixture
def world(app):
    """A guest who texted the front desk, with one booking."""
    with app.app_context():
        org = factories.org()
        factories.number(org.id, "+14155550100", "front_desk")
        receive_sms("+14155550100", "+14155557001", "Can you walk Biscuit?", "SMguest1")
        thread = db.session.scalar(sa.select(Thread))
        org.thread_id, org.client_id = thread.id, thread.client_id
        sam = sitters.create_sitter(org.id, "Sam", "+14155553001")
        now = utcnow()
        bookings.create_booking(org.id, org.client_id, sam.id, now + timedelta(days=1),
                                now + timedelta(days=1, hours=1))
        return org


def test_a_guest_shows_as_their_phone_with_a_new_badge_until_named(client, auth, world):
    auth.sign_in(world.staff_email)
    for url in ("/clients", f"/clients/{world.client_id}", f"/threads/{world.thread_id}"):
        html = client.get(url).get_data(as_text=True)
        assert "(415) 555-7001" in html and '<span class="badge new">New</span>' in html, url
        assert "Guest (+14155557001)" not in html, url
    header = html.split('<section class="conversation"', 1)[1].split("<header>", 1)[1].split(
        "</header>", 1)[0]
    assert header.count("(415) 555-7001") == 1  # the heading says it; the phones line does not
    client.post(f"/clients/{world.client_id}", data={"name": "Ada Byron"})
    html = client.get(f"/clients/{world.client_id}").get_data(as_text=True)
    assert "Ada Byron" in html and 'class="badge new"' not in html
    header = client.get(f"/threads/{world.thread_id}").get_data(as_text=True).split(
        '<section class="conversation"', 1)[1].split("</header>", 1)[0]
    assert "Ada Byron" in header and "(415) 555-7001" in header  # named: the phone is shown


def test_the_client_page_shows_the_conversation_bookings_phones_and_notes(client, auth, world):
    auth.sign_in(world.staff_email)
    html = client.get(f"/clients/{world.client_id}").get_data(as_text=True)
    assert "Can you walk Biscuit?" in html and f"/threads/{world.thread_id}" in html
    bookings_card = html.split('id="bookings-heading"', 1)[1].split("</section>", 1)[0]
    assert "with Sam" in bookings_card and "pending" in bookings_card
    assert 'id="phones-heading"' in html and 'id="notes-heading"' in html


def test_a_message_of_photos_alone_reads_as_its_photos_on_the_client_page(app, client, auth,
                                                                           world):
    with app.app_context():
        factories.mms("+14155550100", "+14155557001", "image/jpeg", "image/heic")
        factories.mms("+14155550100", "+14155557001", "application/pdf")
    auth.sign_in(world.staff_email)

    html = client.get(f"/clients/{world.client_id}").get_data(as_text=True)

    card = html.split('id="conversation-heading"', 1)[1].split("</section>", 1)[0]
    assert "<p>📷 2 photos</p>" in card and "<p>📎 File</p>" in card
    assert "<p></p>" not in card


def test_staff_keep_notes_on_a_client(app, client, auth, world):
    auth.sign_in(world.staff_email)
    answer = client.post(f"/clients/{world.client_id}/notes",
                         data={"notes": "pets: Biscuit, beagle, pill at 8\r\n"}, headers=HX)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "<html" not in html and "Saved." in html
    assert "pets: Biscuit, beagle, pill at 8" in html
    with app.app_context():
        assert db.session.get(Client, world.client_id).notes == "pets: Biscuit, beagle, pill at 8"
    too_long = client.post(f"/clients/{world.client_id}/notes", data={"notes": "x" * 2001})
    assert too_long.status_code == 400


def test_a_sitter_cannot_see_or_write_client_notes(client, auth, world):
    auth.sign_in(world.sitter_email)
    assert client.post(f"/clients/{world.client_id}/notes",
                       data={"notes": "hi"}).status_code == 404


def test_notes_have_a_length_limit_in_the_database(ctx):
    org = factories.org()
    client_id = factories.client(org.id, "Ada")
    with pytest.raises(DomainError):
        client_page.set_notes(org.id, client_id, "x" * 2001)
    with pytest.raises(sa.exc.IntegrityError, match="ck_client_notes_length"):
        db.session.execute(sa.update(Client).where(Client.id == client_id)
                           .values(notes="x" * 2001))


def test_a_guest_is_named_by_phone_in_the_booking_picker_and_the_sitters_page(ctx):
    org = factories.org()
    factories.number(org.id, "+14155550101", "pool")
    receive_sms("+14155550101", "+14155557001", "hi", "SMguestpick")
    client_id = db.session.scalar(sa.select(Thread.client_id))
    sam = sitters.create_sitter(org.id, "Sam", "+14155553001", org.sitter_email)
    sitters.activate_sitter(org.id, sam.id, None)
    now = utcnow()
    booking = bookings.create_booking(org.id, client_id, sam.id, now - timedelta(hours=1),
                                      now + timedelta(hours=1))
    bookings.confirm_booking(org.id, booking.id)

    assert (client_id, "(415) 555-7001") in bookings.client_choices(org.id, "7001")
    home = sitters.sitter_home(org.id, org.sitter_user_id, now)
    assert [name for _, name in home.threads] == ["(415) 555-7001"]
    assert [name for _, name in home.bookings] == ["(415) 555-7001"]
    assert home.line == "Sam's line"  # the name the office gives the sitter's number
