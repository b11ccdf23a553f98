"""Forms refuse control characters with the field named; every request body is bounded."""

import pytest
import sqlalchemy as sa

from blueprints.hygiene import REQUEST_MAX
from pawline.db import db
from pawline.inbound import receive_sms
from pawline.inputs import FIELD_MAX
from pawline.models import Client, Message, SignInThrottle, Sitter, Thread
from pawline.sitters import create_sitter
from tests import factories
from tests.fuzzing import noise
from tests.twilio_signing import post_signed, sms_params

POOL = "+14155550101"
SMS = "/webhooks/twilio/sms"


@pytest.fixture
def world(app):
    with app.app_context():
        org = factories.org()
        factories.number(org.id, POOL, "pool")
        org.thread_id = receive_sms(POOL, "+14155552671", "Is Rex okay?", "SMhygiene1").thread_id
        return org


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.parametrize("character", ["\x00", "\x1b", "\x08", "\x0c", "\x1f"])
def test_message_anyone_refuses_a_control_character_naming_the_field(app, client, auth, world,
                                                                     character):
    auth.sign_in(world.owner_email)
    before = (count(app, Message), count(app, Client))

    response = client.post("/threads", data={"phone": "+14155550199",
                                             "body": f"Rex{character}is fine"})

    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "'body'" in text and f"U+{ord(character):04X}" in text
    assert (count(app, Message), count(app, Client)) == before


def test_the_new_sitter_form_refuses_a_nul_naming_the_field(app, client, auth, world):
    auth.sign_in(world.owner_email)

    response = client.post("/sitters", data={"name": "Sam\x00", "phone": "+14155553001"})

    assert response.status_code == 400
    assert "'name'" in response.get_data(as_text=True)
    assert count(app, Sitter) == 0


def test_tabs_and_line_breaks_are_text_not_control_characters(app, client, auth, world):
    auth.sign_in(world.owner_email)

    response = client.post(f"/threads/{world.thread_id}/messages",
                           data={"body": "Walk:\t9 AM\r\nFeed:\t5 PM"})

    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(Message.body).where(
            Message.direction == "outbound")) == "Walk:\t9 AM\r\nFeed:\t5 PM"


def test_a_query_parameter_with_a_nul_is_refused_naming_it(client, auth, world):
    auth.sign_in(world.owner_email)
    response = client.get("/clients", query_string={"q": "Ada\x00"})
    assert response.status_code == 400
    assert "'q'" in response.get_data(as_text=True)


def test_a_field_longer_than_any_form_needs_is_refused(app, client, auth, world):
    auth.sign_in(world.owner_email)

    response = client.post(f"/threads/{world.thread_id}/snooze",
                           data={"until": "custom", "custom_until": "9" * (FIELD_MAX + 1)})

    assert response.status_code == 400
    assert "'custom_until' is longer than" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(Thread.status)) == "open"


@pytest.mark.parametrize("headers", [{}, {"X-Twilio-Signature": "forged"}])
def test_an_unsigned_oversized_form_is_refused_413_unread(app, client, world, headers):
    response = client.post(SMS, data={"Body": "x" * (10 * 1024 * 1024)}, headers=headers)
    assert response.status_code == 413
    assert count(app, Message) == 1


def test_a_signed_body_past_the_request_limit_is_refused_413(app, client, world):
    params = sms_params(POOL, "+14155552671", "x" * (1024 * 1024))
    assert post_signed(client, SMS, params).status_code == 413
    assert count(app, Message) == 1


def test_a_signed_sms_just_under_the_limit_is_read(app, client, world):
    params = sms_params(POOL, "+14155552671", "x" * (REQUEST_MAX // 2))
    assert post_signed(client, SMS, params).status_code == 200
    assert count(app, Message) == 2


def test_a_form_past_the_request_limit_is_refused_413(app, client, auth, world):
    auth.sign_in(world.owner_email)
    response = client.post("/threads", data={"phone": "+14155550199",
                                             "body": "x" * (REQUEST_MAX + 1)})
    assert response.status_code == 413
    assert count(app, Message) == 1


# Found by tests/test_fuzz.py: keys longer than a btree index row (~2,700 bytes) were a 500.

def test_signing_in_with_an_email_longer_than_any_address_is_a_wrong_password(app, client,
                                                                            world):
    response = client.post("/sign-in", data={"email": noise(1, 3000) + "@example.com",
                                             "password": "correct horse battery"})
    assert response.status_code == 400
    assert "do not match an account" in response.get_data(as_text=True)
    assert count(app, SignInThrottle) == 0


def test_a_sitter_sign_in_email_longer_than_any_address_is_a_form_error(app, client, auth,
                                                                       world):
    auth.sign_in(world.owner_email)
    response = client.post("/sitters", data={
        "name": "Sam", "phone": "+14155553001", "email": noise(1, 3000) + "@example.com",
        "password": "correct horse battery"})
    assert response.status_code == 422
    assert "at most 254 characters" in response.get_data(as_text=True)
    assert count(app, Sitter) == 0


@pytest.mark.parametrize("path", ["/threads", "/threads/{thread}/messages"])
def test_a_client_token_longer_than_a_uuid_is_refused_before_anything_is_written(
        app, client, auth, world, path):
    auth.sign_in(world.owner_email)
    before = (count(app, Message), count(app, Client))
    response = client.post(path.format(thread=world.thread_id), data={
        "phone": "+14155550199", "body": "Rex is fine", "client_token": noise(1, 3000)})
    assert response.status_code == 400
    assert "reload the page" in response.get_data(as_text=True)
    assert (count(app, Message), count(app, Client)) == before


@pytest.mark.parametrize("path", ["/sitters", "/sitters/{sitter}"])
def test_a_sitter_name_is_held_to_a_clients_length(app, client, auth, world, path):
    with app.app_context():
        sitter_id = create_sitter(world.id, "Sam", "+14155553002").id
    auth.sign_in(world.owner_email)
    response = client.post(path.format(sitter=sitter_id),
                           data={"name": "S" * 121, "phone": "+14155553001"})
    assert response.status_code == 422
    assert "Keep the name under 120 characters." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(sa.select(Sitter.name)).all() == ["Sam"]


def test_htmx_shows_the_refusal_above_the_page_instead_of_swapping_out_the_form(client, auth,
                                                                               world):
    auth.sign_in(world.owner_email)
    response = client.post(f"/threads/{world.thread_id}/messages", data={"body": "<b>\x0b"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert (response.headers["HX-Retarget"], response.headers["HX-Reswap"]) == (
        "#main", "afterbegin")
    assert response.get_data(as_text=True) == (
        '<p class="flash flash-error" role="alert">&#39;body&#39; holds the control character '
        "U+000B: only printable text, tabs and line breaks are accepted.</p>")
