"""POST /webhooks/twilio/sms: only Twilio's signature gets in; each bad field says why."""

import pytest
import sqlalchemy as sa
from flask import request

from pawline.db import db
from pawline.models import Message, Thread
from tests import factories
from tests.conftest import make_app
from tests.twilio_signing import post_signed, signature, sms_params

SMS = "/webhooks/twilio/sms"
POOL = "+14155550100"
PHONE = "+14155550123"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


@pytest.fixture
def org(app):
    with app.app_context():
        org = factories.org()
        factories.number(org.id, POOL)
    return org


def messages(app) -> list[Message]:
    with app.app_context():
        return db.session.scalars(sa.select(Message).order_by(Message.id)).all()


def test_a_signed_inbound_sms_is_stored_and_answered_with_empty_twiml(app, client, org):
    response = post_signed(client, SMS, sms_params(POOL, PHONE, "Is Rex ok?", NumMedia="2"))

    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert response.get_data(as_text=True) == EMPTY_TWIML
    [message] = messages(app)
    assert (message.org_id, message.body, message.from_e164, message.num_media) == (
        org.id, "Is Rex ok?", PHONE, 2)


def test_a_retried_webhook_is_answered_200_and_stored_once(app, client, org):
    params = sms_params(POOL, PHONE)
    first = post_signed(client, SMS, params)
    again = post_signed(client, SMS, params)

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.get_data(as_text=True) == EMPTY_TWIML
    assert len(messages(app)) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(Thread.unread_count)) == 1


def test_a_wrong_signature_is_refused_with_403(app, client, org):
    params = sms_params(POOL, PHONE)
    headers = {"X-Twilio-Signature": signature("http://localhost" + SMS, params, "other-token")}
    response = client.post(SMS, data=params, headers=headers)
    assert response.status_code == 403
    assert messages(app) == []


def test_a_signature_over_the_url_with_its_port_is_accepted_and_odd_headers_refused(app, client,
                                                                                   org):
    """Twilio sometimes signs the URL with its default port: the SDK's validate() still
    decides those; a header with non-ASCII text is a refusal, not an error."""
    params = sms_params(POOL, PHONE)
    with_port = {"X-Twilio-Signature": signature("http://localhost:80" + SMS, params)}
    assert client.post(SMS, data=params, headers=with_port).status_code == 200
    odd = sms_params(POOL, PHONE)
    assert client.post(SMS, data=odd, headers={"X-Twilio-Signature": "sig\u00e9"}
                       ).status_code == 403
    assert len(messages(app)) == 1


def test_a_missing_signature_is_refused_with_403(app, client, org):
    response = client.post(SMS, data=sms_params(POOL, PHONE))
    assert response.status_code == 403
    assert messages(app) == []


def test_a_signature_over_other_form_values_is_refused(app, client, org):
    params = sms_params(POOL, PHONE, "original")
    headers = {"X-Twilio-Signature": signature("http://localhost" + SMS, params)}
    response = client.post(SMS, data={**params, "Body": "tampered"}, headers=headers)
    assert response.status_code == 403


def test_a_parameter_twilio_adds_without_notice_is_still_signed(app, client, org):
    params = sms_params(POOL, PHONE, FromCountry="US", SmsStatus="received")
    assert post_signed(client, SMS, params).status_code == 200


def test_no_auth_token_configured_refuses_every_webhook(database_url):
    unconfigured = make_app(database_url, TWILIO_AUTH_TOKEN="")
    params = sms_params(POOL, PHONE)
    response = post_signed(unconfigured.test_client(), SMS, params, token="")
    assert response.status_code == 403


@pytest.mark.parametrize("field, value, reason", [
    ("From", "", "Missing From."),
    ("To", "", "Missing To."),
    ("MessageSid", "", "Missing MessageSid."),
    ("MessageSid", "nonsense!", "Malformed MessageSid."),
    ("From", "not a phone", "Malformed From"),
    ("To", "not a phone", "Malformed To"),
    ("NumMedia", "many", "Malformed NumMedia."),
])
def test_a_missing_or_malformed_field_is_a_400_with_its_reason(app, client, org, field, value,
                                                              reason):
    params = sms_params(POOL, PHONE)
    params[field] = value

    response = post_signed(client, SMS, params)

    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert text.startswith(reason) and text.count("\n") == 1
    assert messages(app) == []


def test_a_to_in_no_pool_is_a_404_and_logged(app, client, org, caplog):
    response = post_signed(client, SMS, sms_params("+14155550999", PHONE))
    assert response.status_code == 404
    assert "+14155550999" in caplog.text
    assert messages(app) == []


def test_public_base_url_is_the_url_that_is_signed(database_url):
    proxied = make_app(database_url, PUBLIC_BASE_URL="https://paw.example.com")
    web = proxied.test_client()
    params = sms_params("+14155550999", PHONE)  # in no pool: a 404 proves the signature passed

    signed_for_public = post_signed(web, SMS, params, base="https://paw.example.com")
    signed_for_internal = post_signed(web, SMS, params, base="http://localhost")

    assert signed_for_public.status_code == 404
    assert signed_for_internal.status_code == 403
    with proxied.app_context():
        db.engine.dispose()


def test_the_query_string_is_part_of_the_signed_url(app, client, org):
    params = sms_params(POOL, PHONE)
    assert post_signed(client, SMS + "?tenant=x", params).status_code == 200
    headers = {"X-Twilio-Signature": signature("http://localhost" + SMS, params)}
    assert client.post(SMS + "?tenant=x", data=params, headers=headers).status_code == 403


def test_a_webhook_gets_no_cookie_session_and_a_page_keeps_its_own(app):
    """Providers' webhooks carry no cookie of ours: their session starts empty (no cookie
    signer built) and is never sent back, even when a page they render writes to it."""
    interface = app.session_interface
    for path in ("/webhooks/twilio/sms", "/webhooks/telegram/pets", "/webhooks/meta"):
        with app.test_request_context(path, method="POST",
                                      headers={"Cookie": "pawline=forged"}):
            session = interface.open_session(app, request)
            assert dict(session) == {}, path
            session["csrf_token"] = "written by the 500 page"
            response = app.response_class()
            interface.save_session(app, session, response)
            assert "Set-Cookie" not in response.headers, path
    with app.test_request_context("/inbox"):
        session = interface.open_session(app, request)
        session["csrf_token"] = "a page's"
        response = app.response_class()
        interface.save_session(app, session, response)
        assert "Set-Cookie" in response.headers
