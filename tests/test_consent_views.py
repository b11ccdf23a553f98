"""Consent in the pages: "opted out" where staff look, a form error naming the date when they
send anyway (staff, sitters, message anyone), and the owner's answer to HELP."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from pawline import bookings, consent, sitters
from pawline.clock import utcnow
from pawline.db import db
from pawline.inbound import receive_sms
from pawline.models import Message, Organization, Thread
from tests import factories

HX = {"HX-Request": "true"}
ADA = "+14155552671"


@pytest.fixture
def world(app):
    with app.app_context():
        org = factories.org("Happy Paws")
        factories.number(org.id, "+14155550101", "pool")
        factories.client(org.id, "Ada", ADA)
        org.thread_id = receive_sms("+14155550101", ADA, "Is Rex okay?", "SMworld1").thread_id
        receive_sms("+14155550101", ADA, "STOP", "SMstop1")
        org.day = utcnow().astimezone(consent.org_zone(org.id))
        return org


def outbound_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
            Message.direction == "outbound"))


def refusal(world) -> str:
    return (f"Ada opted out on {world.day.day} {world.day:%b %Y} (texted STOP). Messages "
            "can&#39;t be sent until they text START.")


def test_the_thread_the_inbox_row_and_the_client_page_say_opted_out(app, client, auth, world):
    auth.sign_in(world.staff_email)

    thread_page = client.get(f"/threads/{world.thread_id}").get_data(as_text=True)
    assert '<span class="badge bad" title="opted out on' in thread_page
    assert "nothing can be sent to it until they text START" in thread_page
    assert "texted STOP: opted out of all messages" in thread_page  # the timeline's line
    row = client.get("/inbox").get_data(as_text=True).split('class="threads"')[1]
    assert '<span class="badge bad">opted out</span>' in row
    with app.app_context():
        client_id = db.session.get(Thread, world.thread_id).client_id
    heading = client.get(f"/clients/{client_id}").get_data(as_text=True).split("<h1>", 1)[1]
    assert '<span class="badge bad" title="opted out on' in heading.split("</h1>", 1)[0]


def test_a_staff_reply_is_a_form_error_naming_the_date_and_nothing_is_stored(
        app, client, auth, world):
    auth.sign_in(world.staff_email)

    response = client.post(f"/threads/{world.thread_id}/messages", headers=HX,
                           data={"body": "Rex is fine", "client_token": "t1"})

    assert response.status_code == 400
    assert refusal(world) in response.get_data(as_text=True)
    assert outbound_count(app) == 0


def test_message_anyone_to_the_phone_is_a_form_error_on_the_phone(app, client, auth, world):
    auth.sign_in(world.staff_email)

    response = client.post("/threads", data={"phone": "(415) 555-2671", "body": "Hello"})

    assert response.status_code == 400 and refusal(world) in response.get_data(as_text=True)
    assert outbound_count(app) == 0


def test_a_sitter_reply_is_refused_too(app, client, auth, world):
    with app.app_context():
        factories.number(world.id, "+14155550110", "sitter")
        sam = sitters.create_sitter(world.id, "Sam", "+14155553001", world.sitter_email)
        sitters.activate_sitter(world.id, sam.id, None)
        now = utcnow()
        booking = bookings.create_booking(world.id, db.session.get(Thread, world.thread_id)
                                          .client_id, sam.id, now - timedelta(hours=1),
                                          now + timedelta(hours=1))
        bookings.confirm_booking(world.id, booking.id)
    auth.sign_in(world.sitter_email)

    response = client.post(f"/threads/{world.thread_id}/messages", data={"body": "Rex ate"})

    assert response.status_code == 400 and refusal(world) in response.get_data(as_text=True)
    assert outbound_count(app) == 0


def test_after_start_the_badge_goes_and_replies_are_sent(app, client, auth, world):
    with app.app_context():
        receive_sms("+14155550101", ADA, "Start", "SMstart1")
    auth.sign_in(world.staff_email)

    assert "badge bad" not in client.get("/inbox").get_data(as_text=True)
    assert client.post(f"/threads/{world.thread_id}/messages",
                       data={"body": "Welcome back"}).status_code == 302
    assert outbound_count(app) == 1


def test_the_owner_edits_the_answer_to_help(app, client, auth, world):
    auth.sign_in(world.owner_email)
    page = client.get("/settings/help-reply").get_data(as_text=True)
    assert "Happy Paws: this is our text line." in page

    response = client.post("/settings/help-reply", data={"text": "Happy Paws: 415-555-0199"})

    assert response.status_code == 302
    with app.app_context():
        assert consent.help_reply(world.id) == "Happy Paws: 415-555-0199"


def test_a_too_long_answer_is_a_form_error_and_changes_nothing(app, client, auth, world):
    auth.sign_in(world.owner_email)

    response = client.post("/settings/help-reply", data={"text": "x" * 321})

    assert response.status_code == 400
    assert "Keep the answer under 320 characters." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Organization, world.id).help_reply is None


@pytest.mark.parametrize("role", ["staff", "sitter"])
def test_only_owners_may_see_or_change_the_answer(app, client, auth, world, role):
    auth.sign_in(getattr(world, f"{role}_email"))

    assert client.get("/settings/help-reply").status_code == 404
    assert client.post("/settings/help-reply", data={"text": "Hijacked"}).status_code == 404
    with app.app_context():
        assert db.session.get(Organization, world.id).help_reply is None


def test_an_owner_changes_only_their_own_organizations_answer(app, client, auth, world):
    with app.app_context():
        other = factories.org("Other Paws")
    auth.sign_in(other.owner_email)

    client.post("/settings/help-reply", data={"text": "Other Paws: call us"})

    with app.app_context():
        assert db.session.get(Organization, world.id).help_reply is None
        assert consent.help_reply(other.id) == "Other Paws: call us"
        assert consent.opted_out_phones(other.id, [ADA]) == {}  # Ada's STOP was to Happy Paws


def test_the_audit_trail_names_the_client_who_texted_stop(client, auth, world):
    auth.sign_in(world.owner_email)

    page = client.get("/audit").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", "", page)  # phones sit in a nowrap span inside the sentence

    assert "(415) 555-2671 texted STOP and is opted out of every message from us." in text
    assert "+14155552671" not in page


def test_start_is_a_dated_line_in_the_thread_and_a_sentence_in_the_audit(app, client, auth,
                                                                         world):
    with app.app_context():
        receive_sms("+14155550101", ADA, "unstop", "SMstart2")
    auth.sign_in(world.owner_email)

    thread = client.get(f"/threads/{world.thread_id}").get_data(as_text=True)
    audit = re.sub(r"<[^>]+>", "", client.get("/audit").get_data(as_text=True))

    line = thread.split("texted UNSTOP: opted back in to messages", 1)[1].split("</li>", 1)[0]
    assert f"{world.day:%a %b} {world.day.day}," in line  # the timeline's line carries its date
    assert "(415) 555-2671 texted UNSTOP and is opted back in." in audit
    assert "badge bad" not in thread


def test_the_phone_simulator_gets_the_answer_to_help_through_the_console(
        app, client, auth, world):
    auth.sign_in(world.staff_email)

    response = client.post("/simulator", data={"from_phone": "(415) 555-0123",
                                               "to": "+14155550101", "body": "Help"})

    assert response.status_code == 200
    with app.app_context():
        reply = db.session.scalar(sa.select(Message).where(Message.auto_reply == "help"))
        assert (reply.to_e164, reply.provider) == ("+14155550123", "console")
        assert reply.body.startswith("Happy Paws: this is our text line.")


def test_opted_out_rows_cost_the_inbox_no_extra_statement(app, client, auth, world,
                                                           statements):
    auth.sign_in(world.staff_email)

    def cost() -> int:
        statements.clear()
        assert client.get("/inbox").status_code == 200
        return len(statements)

    few = cost()
    with app.app_context():
        for n in range(25):
            phone = factories.phone()
            receive_sms("+14155550101", phone, "hi", f"SMmany{n}")
            receive_sms("+14155550101", phone, "STOP", f"SMmanystop{n}")

    assert cost() == few
    assert client.get("/inbox").get_data(as_text=True).count("badge bad\">opted out") == 26
