"""The per-address sign-in limit holds under a real flood: concurrent requests to a real
threaded HTTP server, each in its own thread with its own database connection."""

import pytest
import requests
import sqlalchemy as sa

from pawline.access_models import RateLimit
from pawline.accounts import ADDRESS_SCOPE
from pawline.db import db
from tests import factories
from tests.concurrency import race
from tests.conftest import make_app

pytestmark = pytest.mark.concurrency

LIMIT = 20  # SIGN_IN_FAILURES_PER_ADDRESS's default
SPRAYER, OFFICE = "203.0.113.66", "198.51.100.7"


@pytest.fixture(scope="module")
def server(database_url):
    """The app behind one trusted proxy (which we play: X-Forwarded-For), on a real server."""
    from threading import Thread

    from werkzeug.serving import make_server

    app = make_app(database_url, TRUSTED_PROXY_HOPS=1, SIGN_IN_FAILURES_PER_ADDRESS=LIMIT,
                   SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10, "max_overflow": 20,
                                              "pool_timeout": 90})
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    Thread(target=httpd.serve_forever, daemon=True).start()
    yield app, f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    with app.app_context():
        db.engine.dispose()


def sign_in(base: str, address: str, email: str, password: str) -> requests.Response:
    browser = requests.Session()
    response = browser.post(f"{base}/sign-in", data={"email": email, "password": password},
                            headers={"X-Forwarded-For": address}, allow_redirects=False,
                            timeout=120)
    response.browser = browser
    return response


def test_a_flood_from_one_address_stops_at_the_limit_and_another_address_still_signs_in(
        server):
    app, base = server
    with app.app_context():
        org = factories.org()
    flood = [lambda n=n: sign_in(base, SPRAYER, f"victim{n}@example.com", "Spring2026!")
             for n in range(2 * LIMIT)]
    colleague = [lambda: sign_in(base, OFFICE, org.staff_email, factories.PASSWORD)]

    *flooded, signed_in = race(None, flood + colleague)

    statuses = sorted(r.status_code for r in flooded)
    assert statuses == [400] * LIMIT + [429] * LIMIT  # only LIMIT passwords were checked
    assert all(0 < int(r.headers["Retry-After"]) <= 900
               for r in flooded if r.status_code == 429)
    assert signed_in.status_code == 302, signed_in.text
    inbox = signed_in.browser.get(f"{base}/inbox", headers={"X-Forwarded-For": OFFICE},
                                  allow_redirects=False, timeout=30)
    assert inbox.status_code == 200
    with app.app_context():
        hits = db.session.execute(sa.select(RateLimit.key, RateLimit.hits).where(
            RateLimit.scope == ADDRESS_SCOPE).order_by(RateLimit.key)).all()
    assert [tuple(h) for h in hits] == [(OFFICE, 0), (SPRAYER, 2 * LIMIT)]


def test_an_address_written_by_the_client_escapes_nothing(server):
    """The client writes its own X-Forwarded-For; our proxy appends the real address."""
    _, base = server
    attempts = [lambda n=n: sign_in(base, f"192.0.2.{n}, {SPRAYER}", f"v{n}@example.com",
                                     "Spring2026!") for n in range(LIMIT + 5)]

    statuses = sorted(r.status_code for r in race(None, attempts))

    assert statuses == [400] * LIMIT + [429] * 5
