"""One log line per request with its id, the id on every response, and the 500 page that shows
it (pawline.observability)."""

import logging

import pytest

from tests import factories
from tests.conftest import make_app
from tests.test_ops_endpoints import UNREACHABLE
from tests.twilio_signing import post_signed, sms_params

SECRET_WORDS = "the-secret-words-of-the-error"


def request_lines(caplog, level=logging.INFO):
    return [r for r in caplog.records if r.name == "pawline.request" and r.levelno == level]


def test_each_request_logs_one_line_with_its_fields(client, auth, app, caplog):
    with app.app_context():
        org = factories.org()
    auth.sign_in(org.owner_email)
    caplog.clear()
    caplog.set_level(logging.DEBUG, logger="pawline.request")

    response = client.get("/inbox")

    [line] = request_lines(caplog)
    fields = line.request
    assert fields["request_id"] == response.headers["X-Request-ID"]
    assert (fields["method"], fields["endpoint"], fields["route"], fields["status"]) == (
        "GET", "inbox.index", "/inbox", 200)
    assert fields["org"] == org.id and isinstance(fields["user"], int)
    assert isinstance(fields["duration_ms"], float) and fields["duration_ms"] >= 0
    assert line.getMessage() == (
        f"request_id={fields['request_id']} method=GET endpoint=inbox.index route=/inbox "
        f"status=200 duration_ms={fields['duration_ms']} org={org.id} user={fields['user']}")


def test_signing_in_logs_who_signed_in(client, app, caplog):
    with app.app_context():
        org = factories.org()
        owner = (org.id, org.owner_user_id)
    caplog.set_level(logging.INFO, logger="pawline.request")
    client.post("/sign-in", data={"email": org.owner_email, "password": factories.PASSWORD})
    [line] = [r for r in request_lines(caplog) if r.request["endpoint"] == "auth.sign_in"]
    assert line.request["status"] == 302
    assert (line.request["org"], line.request["user"]) == owner


def test_a_request_without_a_user_logs_dashes(client, caplog):
    caplog.set_level(logging.INFO, logger="pawline.request")
    client.get("/no-such-page")
    [line] = request_lines(caplog)
    assert line.request["status"] == 404
    assert (line.request["endpoint"], line.request["route"]) == ("-", "-")
    assert (line.request["org"], line.request["user"]) == ("-", "-")


def test_probes_and_static_files_log_at_debug_while_they_succeed(client, caplog):
    caplog.set_level(logging.DEBUG, logger="pawline.request")
    for path in ("/healthz", "/readyz", "/static/app.css", "/metrics"):
        client.get(path)
    assert [r.request["endpoint"] for r in request_lines(caplog, logging.DEBUG)] == [
        "ops.healthz", "ops.readyz", "static"]
    assert [(r.request["endpoint"], r.request["status"]) for r in request_lines(caplog)] == [
        ("ops.metrics", 404)]  # a scrape without the token is worth a look


def test_a_sane_incoming_request_id_is_kept(client, caplog):
    caplog.set_level(logging.INFO, logger="pawline.request")
    response = client.get("/sign-in", headers={"X-Request-ID": "edge-4f2a.9:1_b"})
    assert response.headers["X-Request-ID"] == "edge-4f2a.9:1_b"
    assert request_lines(caplog)[0].request["request_id"] == "edge-4f2a.9:1_b"


@pytest.mark.parametrize("incoming", ["", "has space", "x" * 129, "tab\tinside", "-leading",
                                      'quote"d', "é-accent"])
def test_an_odd_incoming_request_id_is_replaced(client, incoming):
    response = client.get("/sign-in", headers={"X-Request-ID": incoming})
    given = response.headers["X-Request-ID"]
    assert given != incoming and len(given) == 32 and int(given, 16) >= 0


def test_every_response_carries_a_request_id_each_its_own(client):
    ids = {client.get(path).headers.get("X-Request-ID")
           for path in ("/sign-in", "/healthz", "/nowhere", "/static/app.css", "/")}
    assert None not in ids and len(ids) == 5


@pytest.fixture
def failing_app(database_url):
    app = make_app(database_url, PROPAGATE_EXCEPTIONS=False)

    @app.get("/explode")
    def explode():
        raise RuntimeError(SECRET_WORDS)

    return app


def test_the_500_page_shows_the_request_id_and_nothing_of_the_error(failing_app, caplog):
    caplog.set_level(logging.INFO)
    response = failing_app.test_client().get("/explode", headers={"X-Request-ID": "drill-42"})

    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == "drill-42"
    assert '<code class="request-id">drill-42</code>' in page
    assert "app.css" in page and "Paw-line" in page  # the base layout
    assert SECRET_WORDS not in page and "Traceback" not in page and "RuntimeError" not in page
    [line] = request_lines(caplog)
    assert (line.request["status"], line.request["request_id"]) == (500, "drill-42")
    [logged] = [r for r in caplog.records if r.name == failing_app.logger.name]
    assert logged.getMessage().startswith("request_id=drill-42 Exception on /explode")
    assert SECRET_WORDS in logged.exc_text  # the traceback goes to the log, not the page


def test_the_500_page_renders_while_the_database_is_away(caplog):
    """An inbound SMS while PostgreSQL is away: the page still renders, branded, no query."""
    app = make_app(UNREACHABLE, PROPAGATE_EXCEPTIONS=False)
    caplog.set_level(logging.INFO, logger="pawline.request")

    response = post_signed(app.test_client(), "/webhooks/twilio/sms",
                           sms_params("+14155550100", "+14155550123"))

    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert f'<code class="request-id">{response.headers["X-Request-ID"]}</code>' in page
    assert "app.css" in page and "OperationalError" not in page
    assert request_lines(caplog)[0].request["status"] == 500
