"""Saved replies: one name per organization, only known variables, filled in per thread, and a
variable left unfilled is never sent."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from pawline import bookings, saved_replies, sitters
from pawline.clock import utcnow
from pawline.db import constraint_name, db
from pawline.desk_models import SavedReply
from pawline.inbound import receive_sms
from pawline.models import Client, Message, Thread
from tests import factories

HX = {"HX-Request": "true"}
POOL, PHONE = "+14155550101", "+14155552671"


def refused(model, **values) -> str | None:
    with pytest.raises(IntegrityError) as caught, db.session.begin_nested():
        db.session.execute(sa.insert(model).values(**values))
    return constraint_name(caught.value)


def accepted(model, **values) -> int:
    with db.session.begin_nested():
        return db.session.scalar(sa.insert(model).values(**values).returning(model.id))


@pytest.fixture
def world(app):
    """An organization with a pool number and one thread from a known client (no booking)."""
    with app.app_context():
        org = factories.org("Happy Paws")
        factories.number(org.id, POOL, "pool")
        org.client_id = factories.client(org.id, "Ada Lovelace", PHONE)
        org.thread_id = receive_sms(POOL, PHONE, "Is Rex okay?", "SMsaved1").thread_id
        org.reply_id = saved_replies.create_saved_reply(
            org.id, "On our way", "Hi {client_first_name}, {sitter_name} arrives "
            "{booking_start}. {business_name}", None)
        return org


def _book(org, starts_in: timedelta, hours: int = 2) -> None:
    sam = sitters.create_sitter(org.id, "Sam Carter", "+14155553001")
    start = utcnow() + starts_in
    booking = bookings.create_booking(org.id, org.client_id, sam.id, start,
                                      start + timedelta(hours=hours))
    bookings.confirm_booking(org.id, booking.id)


# --- the constraints -----------------------------------------------------------------------

def test_a_name_is_used_once_per_organization(ctx):
    mine, theirs = factories.org(), factories.org()
    accepted(SavedReply, org_id=mine.id, name="Late", body="Running late")

    assert refused(SavedReply, org_id=mine.id, name="Late",
                   body="Other") == "uq_saved_reply_org_id_name"
    accepted(SavedReply, org_id=theirs.id, name="Late", body="Running late")
    accepted(SavedReply, org_id=mine.id, name="Late again", body="Running late")


@pytest.mark.parametrize("body", ["Hi {pet_name}", "{client_firstname}", "{Client_Name} hi",
                                  "{client_name}{x}"])
def test_the_database_refuses_an_unknown_variable(ctx, body):
    org = factories.org()
    assert refused(SavedReply, org_id=org.id, name="x",
                   body=body) == "ck_saved_reply_variables_known"


@pytest.mark.parametrize("body", ["Hi {client_first_name}", "{business_name}{booking_end}",
                                  "Braces { alone } and {} and {1x} are text"])
def test_known_variables_and_plain_braces_are_accepted(ctx, body):
    org = factories.org()
    accepted(SavedReply, org_id=org.id, name="x", body=body)


def test_an_outbound_message_never_carries_an_unfilled_variable(ctx):
    org = factories.org()
    factories.number(org.id, POOL, "pool")
    thread_id = receive_sms(POOL, PHONE, "Hi", "SMcheck1").thread_id
    row = {"org_id": org.id, "thread_id": thread_id, "from_e164": POOL, "to_e164": PHONE,
           "provider": "console"}
    outbound = {**row, "direction": "outbound", "status": "queued", "routing_trace": {}}

    assert refused(Message, **outbound, body="See you {booking_start}"
                   ) == "ck_message_no_unfilled_variable"
    accepted(Message, **outbound, body="See you {pet_name} and {}")
    accepted(Message, **row, direction="inbound", status="received", body="{booking_start}?")


# --- managing them (owners) ------------------------------------------------------------------

def test_an_owner_adds_edits_and_deletes_a_saved_reply(app, client, auth, world):
    auth.sign_in(world.owner_email)
    assert client.post("/saved-replies", data={
        "name": "Thanks", "body": "Thanks {client_first_name}!"}).status_code == 302
    page = client.get("/saved-replies").get_data(as_text=True)
    assert "Thanks {client_first_name}!" in page and "On our way" in page
    with app.app_context():
        reply_id = db.session.scalar(sa.select(SavedReply.id).where(SavedReply.name == "Thanks"))

    assert client.post(f"/saved-replies/{reply_id}", data={
        "name": "Thank you", "body": "Thank you!"}).status_code == 302
    assert client.post(f"/saved-replies/{reply_id}/delete").status_code == 302
    with app.app_context():
        assert db.session.scalars(sa.select(SavedReply.name)).all() == ["On our way"]


def test_an_unknown_variable_is_a_form_error_and_nothing_is_saved(app, client, auth, world):
    auth.sign_in(world.owner_email)
    response = client.post("/saved-replies", data={"name": "Pets", "body": "Hi {pet_name}"})

    assert response.status_code == 400
    assert "Unknown variable {pet_name}" in response.get_data(as_text=True)
    edit = client.post(f"/saved-replies/{world.reply_id}",
                       data={"name": "On our way", "body": "{sittername} is coming"})
    assert edit.status_code == 400 and "{sittername}" in edit.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SavedReply)) == 1


def test_a_taken_name_is_a_form_error(client, auth, world):
    auth.sign_in(world.owner_email)
    response = client.post("/saved-replies", data={"name": "On our way", "body": "Again"})

    assert response.status_code == 422
    assert "A saved reply named &#39;On our way&#39; exists." in response.get_data(as_text=True)


def test_staff_and_sitters_cannot_manage_saved_replies(client, auth, world):
    for email in (world.staff_email, world.sitter_email):
        auth.sign_in(email)
        assert client.get("/saved-replies").status_code == 404
        assert client.post("/saved-replies", data={"name": "a", "body": "b"}).status_code == 404
        assert client.post(f"/saved-replies/{world.reply_id}/delete").status_code == 404
        auth.sign_out()


# --- filling in ------------------------------------------------------------------------------

def test_variables_are_filled_from_the_thread_in_the_organizations_zone(ctx):
    org = factories.org("Happy Paws")
    factories.number(org.id, POOL, "pool")
    org.client_id = factories.client(org.id, "Ada Lovelace", PHONE)
    thread_id = receive_sms(POOL, PHONE, "Hi", "SMfill1").thread_id
    sam = sitters.create_sitter(org.id, "Sam Carter", "+14155553001")
    start = datetime(2026, 12, 5, 14, 0, tzinfo=UTC)  # 9:00 AM in New York
    booking = bookings.create_booking(org.id, org.client_id, sam.id, start,
                                      start + timedelta(hours=3, minutes=30))
    bookings.confirm_booking(org.id, booking.id)

    values = saved_replies.thread_values(org.id, thread_id, now=start - timedelta(days=1))

    assert values == {
        "client_first_name": "Ada", "client_name": "Ada Lovelace", "sitter_name": "Sam Carter",
        "booking_start": "Sat, Dec 5 at 9:00 AM", "booking_end": "Sat, Dec 5 at 12:30 PM",
        "business_name": "Happy Paws"}


def test_the_sitter_covering_now_wins_over_the_next_one(ctx):
    org = factories.org()
    client_id = factories.client(org.id, "Ada Lovelace", PHONE)
    factories.number(org.id, POOL, "pool")
    thread_id = receive_sms(POOL, PHONE, "Hi", "SMfill2").thread_id
    now = utcnow()
    for name, starts in (("Later Lee", timedelta(days=2)), ("Now Nora", -timedelta(hours=1)),
                         ("Soon Sam", timedelta(hours=3))):
        sitter = sitters.create_sitter(org.id, name, factories.phone())
        booking = bookings.create_booking(org.id, client_id, sitter.id, now + starts,
                                          now + starts + timedelta(hours=2))
        bookings.confirm_booking(org.id, booking.id)

    assert saved_replies.thread_values(org.id, thread_id, now)["sitter_name"] == "Now Nora"
    later = now + timedelta(hours=2)  # Nora's window has ended: the next one
    assert saved_replies.thread_values(org.id, thread_id, later)["sitter_name"] == "Soon Sam"


def test_a_guest_without_a_booking_leaves_its_variables_unfilled(ctx):
    org = factories.org()
    factories.number(org.id, POOL, "pool")
    thread_id = receive_sms(POOL, "+14155559999", "Hi", "SMfill3").thread_id

    filled = saved_replies.fill("Hi {client_first_name}, {booking_start} {pet}",
                                saved_replies.thread_values(org.id, thread_id))

    assert filled.text == "Hi {client_first_name}, {booking_start} {pet}"
    assert set(filled.unfilled) == {"client_first_name", "booking_start"}


def test_the_picker_inserts_the_filled_reply_after_the_draft(client, auth, world):
    with client.application.app_context():
        _book(world, timedelta(days=1))
    auth.sign_in(world.staff_email)

    response = client.get(f"/threads/{world.thread_id}/saved-reply", headers=HX, query_string={
        "saved_reply_id": world.reply_id, "body": "Good morning!"})

    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<div class="reply-box"')
    assert "Good morning!\nHi Ada, Sam Carter arrives " in html and "Happy Paws" in html
    assert 'id="unfilled" hidden' in html


def test_an_unfillable_variable_is_highlighted_and_the_send_is_refused(app, client, auth,
                                                                         world):
    auth.sign_in(world.staff_email)
    html = client.get(f"/threads/{world.thread_id}/saved-reply", headers=HX, query_string={
        "saved_reply_id": world.reply_id}).get_data(as_text=True)
    assert '<mark data-variable="sitter_name"' in html and "has-unfilled" in html
    assert '<mark data-variable="booking_start"' in html

    text = "Hi Ada, {sitter_name} arrives {booking_start}."
    response = client.post(f"/threads/{world.thread_id}/messages", headers=HX,
                           data={"body": text, "client_token": "t-unfilled"})

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Replace {sitter_name}, {booking_start} before sending" in page
    assert text in page  # the reply box keeps the text to fix
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
            Message.direction == "outbound")) == 0


def test_without_htmx_the_picker_answers_the_thread_page_with_the_draft(client, auth, world):
    auth.sign_in(world.staff_email)
    response = client.get(f"/threads/{world.thread_id}/saved-reply",
                          query_string={"saved_reply_id": world.reply_id, "body": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="thread-list"' in html
    assert "Hi Ada, {sitter_name} arrives" in html


def test_another_organizations_saved_reply_is_404(app, client, auth, world):
    with app.app_context():
        theirs = factories.org()
        their_reply = saved_replies.create_saved_reply(theirs.id, "Secret", "Theirs", None)
    auth.sign_in(world.staff_email)

    response = client.get(f"/threads/{world.thread_id}/saved-reply", headers=HX,
                          query_string={"saved_reply_id": their_reply})

    assert response.status_code == 404
    auth.sign_out()
    auth.sign_in(world.owner_email)
    assert client.get(f"/saved-replies/{their_reply}").status_code == 404
    assert client.post(f"/saved-replies/{their_reply}/delete").status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(SavedReply.name).where(
            SavedReply.id == their_reply)) == "Secret"


def test_a_sitter_uses_saved_replies_only_on_a_thread_they_can_open(app, client, auth, world):
    auth.sign_in(world.sitter_email)
    url = f"/threads/{world.thread_id}/saved-reply"
    assert client.get(url, headers=HX, query_string={
        "saved_reply_id": world.reply_id}).status_code == 404
    with app.app_context():
        factories.number(world.id, "+14155550110", "sitter")
        sam = sitters.create_sitter(world.id, "Sam", "+14155553001", world.sitter_email)
        sitters.activate_sitter(world.id, sam.id, None)
        thread = db.session.get(Thread, world.thread_id)
        client_name = db.session.get(Client, thread.client_id).name
        now = utcnow()
        booking = bookings.create_booking(world.id, thread.client_id, sam.id,
                                          now - timedelta(hours=1), now + timedelta(hours=1))
        bookings.confirm_booking(world.id, booking.id)

    html = client.get(url, headers=HX, query_string={
        "saved_reply_id": world.reply_id}).get_data(as_text=True)
    assert f"Hi {client_name.split()[0]}, Sam arrives" in html
