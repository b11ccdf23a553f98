"""400, 403, 404, 405, 413 and 500 are branded pages: the base layout with its landmarks,
navigation, an <h1> and a way back; the 500 page shows nothing of the error. Machines get plain
answers."""

import re

import pytest
import sqlalchemy as sa

from pawline.db import db
from pawline.inbound import receive_sms
from pawline.models import Thread
from tests import factories
from tests.conftest import make_app
from tests.twilio_signing import sms_params

POOL = "+14155550101"


def assert_branded(page: str, title: str) -> None:
    assert "app.css" in page
    for landmark in ("<header", '<nav class="mainnav" aria-label="Main"', "<main"):
        assert landmark in page
    assert re.search(rf"<h1[^>]*>{re.escape(title)}</h1>", page)
    assert 'class="skip-link" href="#main"' in page
    assert re.search(r'<a class="button primary" href="/">Back to [^<]+</a>', page)


@pytest.fixture
def staff(app, auth):
    with app.app_context():
        org = factories.org()
        number_id = factories.number(org.id, POOL)
    auth.sign_in(org.staff_email)
    return number_id


def test_404_for_a_signed_in_user_keeps_the_whole_top_bar(client, staff):
    response = client.get("/no-such-page")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert_branded(page, "Page not found")
    assert ">Inbox</a>" in page and "Sign out" in page  # the usual navigation
    assert "Back to the inbox" in page


def test_404_signed_out_has_the_brand_and_a_way_home(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert_branded(response.get_data(as_text=True), "Page not found")


def test_403_says_what_the_view_said(client, staff):
    response = client.post(f"/numbers/{staff}/quarantine", data={"duration": "90"})
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert_branded(page, "You can&#39;t do that here")
    assert "Only an owner can change numbers." in page


def test_400_for_a_bad_parameter_says_which(app, client, staff):
    with app.app_context():
        receive_sms(POOL, "+14155552671", "hello", "SMerr400")
        thread_id = db.session.scalar(sa.select(Thread.id))
    response = client.get(f"/threads/{thread_id}?before=not-an-id")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert_branded(page, "This request could not be read")
    assert "The parameter &#39;before&#39; must be a record id." in page


def test_400_for_an_expired_form_asks_to_reload(database_url):
    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    response = app.test_client().post("/sign-in", data={"email": "a@example.com"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert_branded(page, "This form has expired")
    assert "reload the page" in page


def test_an_htmx_swap_gets_only_the_message(client, staff):
    response = client.post(f"/numbers/{staff}/quarantine", data={"duration": "90"},
                           headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert page.startswith('<p class="error-message" role="alert">') and "<main" not in page


def test_405_for_a_link_to_a_form_action_is_branded(client, staff):
    response = client.get(f"/numbers/{staff}/quarantine")  # the route takes only POST
    page = response.get_data(as_text=True)
    assert response.status_code == 405 and "POST" in response.headers["Allow"]
    assert_branded(page, "This page can&#39;t do that")
    assert ">Inbox</a>" in page


def test_413_for_a_form_past_the_limit_is_branded(client, staff):
    response = client.post("/sign-out", data={"x": "a" * 300_000})
    assert response.status_code == 413
    assert_branded(response.get_data(as_text=True), "That was too large")


@pytest.mark.parametrize("method, path", [("GET", "/webhooks/twilio/sms"),
                                          ("POST", "/healthz")])
def test_a_machine_address_keeps_a_plain_405(client, method, path):
    response = client.open(path, method=method)
    assert response.status_code == 405
    assert "app.css" not in response.get_data(as_text=True)


def test_the_provider_webhook_keeps_a_plain_403(client):
    response = client.post("/webhooks/twilio/sms", data=sms_params("+14155550100", "+1415555"))
    assert response.status_code == 403
    assert "app.css" not in response.get_data(as_text=True)


def test_500_is_branded_with_no_traceback(database_url):
    app = make_app(database_url, PROPAGATE_EXCEPTIONS=False)

    @app.get("/explode")
    def explode():
        raise RuntimeError("secret words of the error")

    response = app.test_client().get("/explode")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert_branded(page, "Something went wrong")
    assert "secret words" not in page and "Traceback" not in page and "RuntimeError" not in page
