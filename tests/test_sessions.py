"""Sessions the server can end (OWASP ASVS 7.4.1, 7.4.3): sign-out, sign out everywhere, the
absolute and idle limits, and every change of a user that must end their sessions."""

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa

from pawline import sessions
from pawline.access_models import UserSession
from pawline.clock import utcnow
from pawline.config import ConfigError, from_environment
from pawline.db import db
from pawline.models import AuditEvent, User
from tests import factories
from tests.conftest import Auth

COOKIE = "pawline"  # tests.conftest.make_app's SESSION_COOKIE_NAME


@pytest.fixture
def org(app):
    with app.app_context():
        return factories.org()


def signed_in(app, email: str):
    """A new browser (test client) signed in as `email`."""
    browser = app.test_client()
    Auth(browser).sign_in(email)
    return browser


def copy_of(app, browser):
    """Another browser holding a copy of `browser`'s session cookie, as a thief would."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, browser.get_cookie(COOKIE).value)
    return thief


def opens_inbox(browser) -> bool:
    response = browser.get("/inbox")
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def shift_sessions(app, email: str, *, created: timedelta, seen: timedelta) -> None:
    """Move a user's sessions into the past: signed in `created` ago, last seen `seen` ago."""
    with app.app_context():
        user_id = db.session.scalar(sa.select(User.id).where(User.email == email))
        now = utcnow()
        db.session.execute(sa.update(UserSession).where(UserSession.user_id == user_id).values(
            created_at=now - created, last_seen_at=now - seen))
        db.session.commit()


def last_seen(app, email: str):
    with app.app_context():
        return db.session.scalar(sa.select(UserSession.last_seen_at).join(
            User, User.id == UserSession.user_id).where(User.email == email))


# --- sign-out ----------------------------------------------------------------------------------

def test_a_cookie_copied_before_sign_out_opens_nothing_afterwards(app, client, auth, org):
    auth.sign_in(org.staff_email)
    thief = copy_of(app, client)
    assert opens_inbox(thief)

    auth.sign_out()

    assert not opens_inbox(thief)
    assert not opens_inbox(client)


def test_the_cookie_holds_a_token_and_the_table_only_its_hash(app, client, auth, org):
    auth.sign_in(org.staff_email)
    with client.session_transaction() as session:
        token = session["sid"]

    with app.app_context():
        stored = db.session.scalars(sa.select(UserSession.token_hash)).all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]


def test_a_cookie_from_before_sessions_had_rows_signs_in_nobody(client, auth, org):
    auth.sign_in(org.staff_email)
    with client.session_transaction() as session:
        del session["sid"]  # what a cookie signed before this change holds: _user_id alone

    assert not opens_inbox(client)
    with client.session_transaction() as session:
        assert "_user_id" not in session  # dropped whole, not refused on every request


# --- sign out everywhere -----------------------------------------------------------------------

def test_sign_out_everywhere_ends_every_session_of_the_user_and_no_one_elses(app, org):
    laptop, phone = signed_in(app, org.staff_email), signed_in(app, org.staff_email)
    colleague = signed_in(app, org.owner_email)

    response = laptop.post("/sign-out-everywhere")

    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    assert not opens_inbox(phone) and not opens_inbox(laptop)
    assert opens_inbox(colleague)
    with app.app_context():
        [event] = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.action == "user.signed_out_everywhere")).all()
        assert event.data == {"sessions_ended": 2}


def test_every_page_offers_sign_out_everywhere_as_a_form(client, auth, org):
    auth.sign_in(org.sitter_email)
    page = client.get("/me").get_data(as_text=True)

    assert '<form method="post" action="/sign-out-everywhere">' in page
    assert client.get("/sign-out-everywhere").status_code == 405


def test_sign_out_everywhere_needs_a_session(client):
    response = client.post("/sign-out-everywhere")

    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")


# --- the absolute and idle limits ----------------------------------------------------------------

def test_a_session_ends_after_its_maximum_age_however_busy(app, client, auth, org):
    auth.sign_in(org.staff_email)
    max_age = timedelta(seconds=app.config["SESSION_MAX_AGE_SECONDS"] + 1)
    shift_sessions(app, org.staff_email, created=max_age, seen=timedelta(0))

    response = client.get("/inbox")

    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
    with client.session_transaction() as session:
        assert "sid" not in session and "_user_id" not in session  # cleared, not just refused


def test_a_session_ends_after_its_idle_limit(app, client, auth, org):
    auth.sign_in(org.staff_email)
    idle = timedelta(seconds=app.config["SESSION_IDLE_SECONDS"] + 1)
    shift_sessions(app, org.staff_email, created=idle, seen=idle)

    assert not opens_inbox(client)


def test_a_request_within_the_idle_limit_keeps_the_session_going(app, client, auth, org):
    auth.sign_in(org.staff_email)
    almost = timedelta(seconds=app.config["SESSION_IDLE_SECONDS"] - 60)
    shift_sessions(app, org.staff_email, created=almost, seen=almost)
    before = last_seen(app, org.staff_email)

    assert opens_inbox(client)

    assert last_seen(app, org.staff_email) - before >= almost - timedelta(seconds=5)


def test_last_seen_is_written_at_most_once_a_minute(app, client, auth, org, statements):
    auth.sign_in(org.staff_email)
    signed_in_at = last_seen(app, org.staff_email)
    statements.clear()

    for _ in range(3):
        assert opens_inbox(client)

    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE USER_SESSION")]
    assert last_seen(app, org.staff_email) == signed_in_at


def test_the_idle_limit_is_a_setting(app, client, auth, org, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_SECONDS", 600)
    auth.sign_in(org.staff_email)
    shift_sessions(app, org.staff_email, created=timedelta(minutes=11),
                   seen=timedelta(minutes=11))

    assert not opens_inbox(client)


def test_prune_deletes_only_sessions_that_can_never_open_a_page(app, org):
    live, ended = signed_in(app, org.staff_email), signed_in(app, org.owner_email)
    ended.post("/sign-out")
    signed_in(app, org.sitter_email)
    shift_sessions(app, org.sitter_email, created=timedelta(hours=3), seen=timedelta(hours=3))

    with app.app_context():
        assert sessions.prune_sessions(utcnow()) == 2
        assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)) == 1
    assert opens_inbox(live)


def test_the_idle_limit_defaults_to_two_hours_and_refuses_nonsense(tmp_path):
    assert from_environment(tmp_path, env={})["SESSION_IDLE_SECONDS"] == 2 * 3600
    assert from_environment(tmp_path, env={"SESSION_IDLE_SECONDS": "900"})[
        "SESSION_IDLE_SECONDS"] == 900
    with pytest.raises(ConfigError, match="SESSION_IDLE_SECONDS"):
        from_environment(tmp_path, env={"SESSION_IDLE_SECONDS": "2h"})
