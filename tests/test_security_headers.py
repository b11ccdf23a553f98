"""Headers beyond the CSP: HSTS in production, no copies of signed-in pages in caches, and no
access to cameras, microphones or location (issue 16 item 6)."""

import pytest

from pawline.db import db
from tests import factories
from tests.conftest import make_app

PAGES = ["/inbox", "/clients", "/numbers", "/sitters", "/bookings", "/audit"]


@pytest.fixture
def org(app):
    with app.app_context():
        return factories.org()


@pytest.fixture(scope="module")
def production_app(database_url):
    """The app as production runs it: Secure cookies under the __Host- prefix."""
    app = make_app(database_url, SESSION_COOKIE_SECURE=True,
                   SESSION_COOKIE_NAME="__Host-pawline")
    yield app
    with app.app_context():
        db.engine.dispose()


def test_production_answers_with_hsts(production_app):
    response = production_app.test_client().get("/sign-in", base_url="https://paw.example")

    assert response.headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains")


def test_the_demo_over_plain_http_sends_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/sign-in").headers


def test_signed_in_pages_and_fragments_are_never_stored(client, auth, org):
    auth.sign_in(org.staff_email)

    for path in PAGES:
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    fragment = client.get("/inbox", query_string={"q": "x"}, headers={"HX-Request": "true"})
    assert fragment.headers["Cache-Control"] == "no-store"


def test_the_sitter_home_and_the_sign_in_page_are_never_stored(client, auth, org):
    assert client.get("/sign-in").headers["Cache-Control"] == "no-store"
    auth.sign_in(org.sitter_email)
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_static_files_stay_cacheable(client):
    response = client.get("/static/app.css")

    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


@pytest.mark.parametrize("path", ["/sign-in", "/inbox", "/static/app.css"])
def test_every_response_refuses_camera_microphone_and_location(client, auth, org, path):
    auth.sign_in(org.staff_email)

    policy = client.get(path).headers["Permissions-Policy"]

    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in policy
