"""A signed SMS that cannot be a message is kept as a dead letter, logged, and shown to owners."""

import pytest
import sqlalchemy as sa

from pawline.db import db
from pawline.dead_letters import InboundDeadLetter
from pawline.errors import InvalidPhone
from pawline.models import Message
from pawline.phones import sender_phone
from tests import factories
from tests.twilio_signing import post_signed, sms_params

SMS = "/webhooks/twilio/sms"
POOL, PHONE = "+14155550100", "+14155550123"
# Possible lengths for their countries, in ranges phonenumbers' tables do not list (so a typed
# number like these is refused), yet a carrier delivered a text from each.
UNLISTED = ["+971571234567", "+37475123456", "+573811234567", "+15555550123"]


@pytest.fixture
def org(app):
    with app.app_context():
        org = factories.org()
        factories.number(org.id, POOL)
    return org


def letters(app) -> list[InboundDeadLetter]:
    with app.app_context():
        return db.session.scalars(sa.select(InboundDeadLetter).order_by(InboundDeadLetter.id)
                                  ).all()


def messages(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Message))


@pytest.mark.parametrize("sender", ["12345", "PAWBANK", "ACME Vet"])
def test_a_short_code_or_named_sender_is_kept_logged_and_shown(app, client, auth, org, caplog,
                                                               sender):
    params = sms_params(POOL, sender, "Your code is 4711")

    response = post_signed(client, SMS, params)

    assert response.status_code == 400
    assert response.get_data(as_text=True).endswith("Kept as a dead letter.\n")
    [letter] = letters(app)
    assert (letter.org_id, letter.provider, letter.provider_sid) == (
        org.id, "twilio", params["MessageSid"])
    assert letter.raw["From"] == sender and letter.raw["Body"] == "Your code is 4711"
    assert letter.reason.startswith("Malformed From:")
    assert "dead letter" in caplog.text and params["MessageSid"] in caplog.text
    assert messages(app) == 0
    auth.sign_in(org.owner_email)
    page = client.get("/dead-letters").get_data(as_text=True)
    assert sender in page and "Your code is 4711" in page and "Malformed From" in page
    assert "Pool 0100" in page  # the line it was sent to, by name


def test_a_text_to_a_number_in_no_pool_is_kept_for_no_organization(app, client, org, caplog):
    response = post_signed(client, SMS, sms_params("+14155550999", PHONE, "hello?"))
    assert response.status_code == 404
    [letter] = letters(app)
    assert letter.org_id is None and letter.raw["To"] == "+14155550999"
    assert "+14155550999" in caplog.text


def test_a_field_we_cannot_read_is_kept_with_the_raw_form(app, client, org):
    params = sms_params(POOL, PHONE, "two photos", NumMedia="99999999999")
    assert post_signed(client, SMS, params).status_code == 400
    [letter] = letters(app)
    assert letter.raw["NumMedia"] == "99999999999" and letter.reason == "Malformed NumMedia."


def test_control_characters_are_kept_written_out_in_the_raw_form(app, client, org):
    assert post_signed(client, SMS, sms_params(POOL, "PAW\x00BANK", "a\x00b")).status_code == 400
    [letter] = letters(app)
    assert (letter.raw["From"], letter.raw["Body"]) == ("PAW\\x00BANK", "a\\x00b")


def test_a_replayed_request_is_kept_once(app, client, org):
    params = sms_params(POOL, "PAWBANK")
    post_signed(client, SMS, params)
    post_signed(client, SMS, params)
    assert len(letters(app)) == 1


def test_requests_without_a_usable_sid_are_each_kept(app, client, org):
    for sid in ("", "not a sid"):
        post_signed(client, SMS, {**sms_params(POOL, PHONE), "MessageSid": sid})
    assert [letter.provider_sid for letter in letters(app)] == [None, None]


@pytest.mark.parametrize("sender", UNLISTED)
def test_an_international_sender_of_a_possible_length_is_a_client(app, client, org, sender):
    with pytest.raises(InvalidPhone):
        sender_phone(sender.removeprefix("+"), "US")  # typed without +, still held to the tables
    assert post_signed(client, SMS, sms_params(POOL, sender)).status_code == 200
    assert messages(app) == 1 and letters(app) == []


@pytest.mark.parametrize("raw", ["+1234", "+1 415 555 01234567", "12345", "PAWBANK", "+"])
def test_a_sender_that_is_no_number_stays_refused(raw):
    with pytest.raises(InvalidPhone):
        sender_phone(raw, "US")


def test_only_owners_see_the_page_and_only_their_organizations_letters(app, client, auth, org):
    with app.app_context():
        other = factories.org()
        factories.number(other.id, "+14155550177")
    post_signed(client, SMS, sms_params(POOL, "OURBANK"))
    post_signed(client, SMS, sms_params("+14155550177", "THEIRBANK"))

    auth.sign_in(org.owner_email)
    page = client.get("/dead-letters").get_data(as_text=True)
    assert "OURBANK" in page and "THEIRBANK" not in page
    assert 'href="/dead-letters"' in client.get("/numbers").get_data(as_text=True)
    for role in ("staff", "sitter"):
        auth.sign_out()
        auth.sign_in(getattr(org, f"{role}_email"))
        assert client.get("/dead-letters").status_code == 404
        assert 'href="/dead-letters"' not in client.get("/numbers").get_data(as_text=True)
