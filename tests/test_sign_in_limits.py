"""Sign-in limits: failed sign-ins throttled per email (ASVS 2.2.1); sessions: test_sessions.py."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from pawline import accounts
from pawline.accounts import MAX_FAILED_SIGN_INS, SIGN_IN_WINDOW, TooManySignIns, authenticate
from pawline.db import db
from pawline.models import SignInThrottle
from tests import factories
from tests.concurrency import race

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def fail(email: str, times: int, now: datetime = NOW) -> None:
    for _ in range(times):
        assert authenticate(email, "wrong password", now=now) is None


def test_the_right_password_is_refused_while_an_email_is_throttled(ctx):
    org = factories.org()
    fail(org.staff_email, MAX_FAILED_SIGN_INS)

    with pytest.raises(TooManySignIns, match="Try again in 15 minutes"):
        authenticate(org.staff_email, factories.PASSWORD, now=NOW)
    with pytest.raises(TooManySignIns, match="Try again in 1 minute\\."):
        authenticate(org.staff_email.upper(), factories.PASSWORD,
                     now=NOW + SIGN_IN_WINDOW - timedelta(seconds=30))

    later = NOW + SIGN_IN_WINDOW
    assert authenticate(org.staff_email, factories.PASSWORD, now=later) is not None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SignInThrottle)) == 0


def test_fewer_failures_than_the_limit_and_a_success_start_over(ctx):
    org = factories.org()
    fail(org.staff_email, MAX_FAILED_SIGN_INS - 1)
    assert authenticate(org.staff_email, factories.PASSWORD, now=NOW) is not None
    fail(org.staff_email, MAX_FAILED_SIGN_INS - 1)
    assert authenticate(org.staff_email, factories.PASSWORD, now=NOW) is not None


def test_failures_spread_over_more_than_a_window_never_throttle(ctx):
    org = factories.org()
    for n in range(3 * MAX_FAILED_SIGN_INS):
        fail(org.staff_email, 1, now=NOW + n * SIGN_IN_WINDOW / (MAX_FAILED_SIGN_INS - 1))
    assert authenticate(org.staff_email, factories.PASSWORD,
                        now=NOW + 3 * MAX_FAILED_SIGN_INS * SIGN_IN_WINDOW) is not None


def test_an_unknown_email_is_throttled_the_same_so_no_account_is_revealed(ctx):
    fail("nobody@example.com", MAX_FAILED_SIGN_INS)
    with pytest.raises(TooManySignIns):
        authenticate("nobody@example.com", "anything at all", now=NOW)


def test_one_email_throttled_leaves_the_others_alone(ctx):
    org = factories.org()
    fail(org.staff_email, MAX_FAILED_SIGN_INS)
    assert authenticate(org.owner_email, factories.PASSWORD, now=NOW) is not None


def test_stale_windows_are_removed_as_new_failures_come(ctx):
    fail("old@example.com", 2)
    fail("new@example.com", 1, now=NOW + 2 * SIGN_IN_WINDOW)
    assert db.session.scalars(sa.select(SignInThrottle.email)).all() == ["new@example.com"]


@pytest.mark.concurrency
def test_simultaneous_wrong_passwords_are_each_counted_and_only_the_limit_is_checked(app):
    with app.app_context():
        accounts.register_org("Race Pets", "race@example.com", factories.PASSWORD)
    guesses = 12

    outcomes = race(app, [lambda: authenticate("race@example.com", "wrong guess", now=NOW)]
                    * guesses)

    checked = [o for o in outcomes if o is None]  # a password was checked, and was wrong
    assert len(checked) == MAX_FAILED_SIGN_INS
    assert all(isinstance(o, TooManySignIns) for o in outcomes if o is not None), outcomes
    with app.app_context():
        assert db.session.scalar(sa.select(SignInThrottle.failures)) == guesses


# --- the pages -------------------------------------------------------------------------------

@pytest.fixture
def org(app):
    with app.app_context():
        return factories.org()


def test_the_sign_in_page_answers_429_with_the_wait(client, org):
    for _ in range(MAX_FAILED_SIGN_INS):
        client.post("/sign-in", data={"email": org.staff_email, "password": "wrong!!!!"})

    response = client.post("/sign-in", data={"email": org.staff_email,
                                             "password": factories.PASSWORD})

    assert response.status_code == 429
    assert "Too many failed sign-ins for this email" in response.get_data(as_text=True)
    assert client.get("/inbox").status_code == 302


def test_an_htmx_request_without_a_session_redirects_the_whole_page(client):
    response = client.get("/inbox/poll", headers={"HX-Request": "true"})

    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/sign-in?next=/inbox/poll"
