"""Sessions, CSRF, headers, sign-in and role walls (OWASP ASVS 5.0 sections 3 and 7)."""

import re
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from pawline.config import ConfigError, from_environment, normalize_database_url
from pawline.db import db
from pawline.models import User
from tests import factories
from tests.conftest import make_app

WRONG = "That email and password do not match an account."
STAFF_PAGES = ["/inbox", "/clients", "/numbers", "/sitters", "/bookings", "/audit"]
PRODUCTION_ENV = {"DATABASE_URL": "postgres://paw:secret@db.internal/pawline",
                  "SECRET_KEY": "s" * 64}


def token_in(page: bytes) -> str:
    return re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()


def header_token_in(page: bytes) -> str:
    return re.search(rb'"X-CSRFToken": "([^"]+)"', page).group(1).decode()


def set_cookie(response, name: str) -> str:
    [cookie] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    return cookie


@pytest.fixture
def org(app):
    with app.app_context():
        return factories.org()


# --- CSRF --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def csrf_app(database_url):
    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def csrf(csrf_app):
    """A CSRF-checking app whose writes are rolled back like every other test's."""
    with csrf_app.app_context():
        engines = db._app_engines[csrf_app]
        engine = engines[None]
        connection = engine.connect()
        transaction = connection.begin()
        engines[None] = connection
        org = factories.org()
    try:
        yield SimpleNamespace(app=csrf_app, client=csrf_app.test_client(), org=org)
    finally:
        with csrf_app.app_context():
            db.session.remove()
        transaction.rollback()
        connection.close()
        engines[None] = engine


def sign_in_with_token(csrf) -> None:
    token = token_in(csrf.client.get("/sign-in").data)
    response = csrf.client.post("/sign-in", data={
        "email": csrf.org.staff_email, "password": factories.PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)


def test_a_post_without_a_csrf_token_is_refused(csrf):
    response = csrf.client.post("/sign-in", data={
        "email": csrf.org.staff_email, "password": factories.PASSWORD})

    assert response.status_code == 400
    assert csrf.client.get("/inbox").status_code == 302  # not signed in


def test_a_csrf_token_from_another_session_is_refused(csrf):
    stolen = token_in(csrf.app.test_client().get("/sign-in").data)
    csrf.client.get("/sign-in")

    response = csrf.client.post("/sign-in", data={
        "email": csrf.org.staff_email, "password": factories.PASSWORD, "csrf_token": stolen})

    assert response.status_code == 400


def test_a_post_with_the_sign_in_pages_token_passes(csrf):
    sign_in_with_token(csrf)

    assert csrf.client.get("/inbox").status_code == 200


def test_htmx_requests_pass_with_the_csrf_header_from_the_page(csrf):
    sign_in_with_token(csrf)
    token = header_token_in(csrf.client.get("/inbox").data)
    assert csrf.client.post("/sign-out", headers={"HX-Request": "true"}).status_code == 400

    response = csrf.client.post("/sign-out", headers={"HX-Request": "true", "X-CSRFToken": token})

    assert response.status_code == 302
    assert csrf.client.get("/inbox").status_code == 302


# --- Cookies and configuration -------------------------------------------------------------------

def test_the_session_cookie_is_httponly_and_samesite_lax(client, org):
    response = client.post("/sign-in", data={"email": org.staff_email,
                                             "password": factories.PASSWORD})

    cookie = set_cookie(response, "pawline")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_production_config_asks_for_secure_host_only_cookies(tmp_path):
    config = from_environment(tmp_path, env=PRODUCTION_ENV)

    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert config["REMEMBER_COOKIE_SECURE"] is True
    assert config["SECRET_KEY"] == PRODUCTION_ENV["SECRET_KEY"]
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://paw:secret@db.internal/pawline"
    assert config["EMBEDDED_DATABASE"] is False
    assert not (tmp_path / "secret_key").exists()


def test_production_cookie_is_sent_secure_under_its_host_prefix(database_url, tmp_path):
    config = from_environment(tmp_path, env=PRODUCTION_ENV)
    cookie_settings = {k: v for k, v in config.items() if k.startswith("SESSION_COOKIE")}
    app = make_app(database_url, WTF_CSRF_ENABLED=True, **cookie_settings)

    response = app.test_client().get("/sign-in")  # stores the CSRF token in the session
    with app.app_context():
        db.engine.dispose()

    cookie = set_cookie(response, "__Host-pawline")
    for attribute in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert attribute in cookie
    assert "Domain" not in cookie  # __Host- cookies must not name a domain


@pytest.mark.parametrize("value", ["1", "true", "True", "yes", "on"])
def test_a_secure_cookie_setting_is_read_as_a_flag(tmp_path, value):
    config = from_environment(tmp_path, env={**PRODUCTION_ENV, "SESSION_COOKIE_SECURE": value})

    assert config["SESSION_COOKIE_SECURE"] is True


def test_secure_cookies_can_be_turned_off_explicitly(tmp_path):
    config = from_environment(tmp_path, env={**PRODUCTION_ENV, "SESSION_COOKIE_SECURE": "0"})

    assert config["SESSION_COOKIE_SECURE"] is False
    assert not config["SESSION_COOKIE_NAME"].startswith("__Host-")


@pytest.mark.parametrize("secret", [None, "", "   "])
def test_a_production_database_without_a_secret_key_is_refused(tmp_path, secret):
    env = {"DATABASE_URL": PRODUCTION_ENV["DATABASE_URL"]}
    if secret is not None:
        env["SECRET_KEY"] = secret

    with pytest.raises(ConfigError, match="SECRET_KEY"):
        from_environment(tmp_path, env=env)


def test_the_embedded_demo_keeps_one_private_random_secret(tmp_path):
    first = from_environment(tmp_path, env={})
    second = from_environment(tmp_path, env={})

    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert len(first["SECRET_KEY"]) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert first["SESSION_COOKIE_SECURE"] is False
    assert first["EMBEDDED_DATABASE"] is True


@pytest.mark.parametrize("url", [
    "postgres://u:p@h:5432/d", "postgresql://u:p@h:5432/d", "postgresql+psycopg://u:p@h:5432/d",
])
def test_database_urls_of_postgresql_are_normalized_to_psycopg(url):
    assert normalize_database_url(url) == "postgresql+psycopg://u:p@h:5432/d"


@pytest.mark.parametrize("url", ["mysql://u:p@h/d", "sqlite:///pawline.db", ""])
def test_database_urls_of_other_databases_are_refused(url):
    with pytest.raises(ConfigError, match="PostgreSQL"):
        normalize_database_url(url)


# --- Headers -------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/sign-in", "/inbox"])
def test_every_page_carries_a_strict_content_security_policy(client, auth, org, path):
    auth.sign_in(org.staff_email)

    response = client.get(path)

    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "object-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_pages_carry_no_inline_script(client, auth, org):
    auth.sign_in(org.staff_email)

    for path in ["/sign-in", *STAFF_PAGES]:
        page = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), path
        assert "hx-on" not in page, path


# --- Sign-in and sign-out ------------------------------------------------------------------------

def test_a_wrong_password_is_refused_with_a_message(client, org):
    response = client.post("/sign-in", data={"email": org.staff_email, "password": "wrong!!!!"})

    assert response.status_code == 400
    assert WRONG in response.get_data(as_text=True)
    assert client.get("/inbox").status_code == 302


def test_an_unknown_email_gets_the_same_message_as_a_wrong_password(client, org):
    response = client.post("/sign-in", data={"email": "nobody@example.com",
                                             "password": factories.PASSWORD})

    assert response.status_code == 400
    assert WRONG in response.get_data(as_text=True)


def test_the_email_is_matched_whatever_its_case(client, auth, org):
    response = auth.sign_in(org.staff_email.upper())

    assert response.headers["Location"] == "/inbox"


def deactivate(app, email: str) -> None:
    with app.app_context():
        db.session.execute(sa.update(User).where(User.email == email).values(active=False))
        db.session.commit()


def test_an_inactive_user_cannot_sign_in(app, client, org):
    deactivate(app, org.staff_email)

    response = client.post("/sign-in", data={"email": org.staff_email,
                                             "password": factories.PASSWORD})

    assert response.status_code == 400
    assert WRONG in response.get_data(as_text=True)


def test_deactivating_a_user_ends_their_session(app, client, auth, org):
    auth.sign_in(org.staff_email)
    assert client.get("/inbox").status_code == 200

    deactivate(app, org.staff_email)

    assert client.get("/inbox").status_code == 302


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/", "/\\evil.example", "\\\\evil.example",
    "/\t/evil.example", "javascript:alert(1)", "http:/evil.example", "inbox",
])
def test_next_cannot_send_a_user_off_site(client, org, target):
    response = client.post("/sign-in", query_string={"next": target},
                           data={"email": org.staff_email, "password": factories.PASSWORD})

    assert response.status_code == 302
    assert response.headers["Location"] == "/inbox"


def test_next_returns_a_user_to_the_page_they_asked_for(client, org):
    response = client.post("/sign-in", query_string={"next": "/clients?q=ada"},
                           data={"email": org.staff_email, "password": factories.PASSWORD})

    assert response.headers["Location"] == "/clients?q=ada"


def test_sign_out_ends_the_session(client, auth, org):
    auth.sign_in(org.staff_email)

    response = auth.sign_out()

    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in"
    assert client.get("/inbox").status_code == 302


def test_sign_out_is_post_only(client, auth, org):
    auth.sign_in(org.staff_email)

    assert client.get("/sign-out").status_code == 405
    assert client.get("/inbox").status_code == 200


@pytest.mark.parametrize("path", [*STAFF_PAGES, "/me"])
def test_an_anonymous_visitor_is_sent_to_sign_in(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")


# --- Role walls ----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", STAFF_PAGES)
def test_a_sitter_gets_404_on_staff_pages(client, auth, org, path):
    auth.sign_in(org.sitter_email)

    assert client.get(path).status_code == 404


@pytest.mark.parametrize("role", ["staff_email", "owner_email"])
def test_staff_and_owners_get_404_on_the_sitter_page(client, auth, org, role):
    auth.sign_in(getattr(org, role))

    assert client.get("/me").status_code == 404


def test_each_role_lands_on_its_own_home(client, auth, org):
    assert auth.sign_in(org.sitter_email).headers["Location"] == "/me"
    assert client.get("/me").status_code == 200
    auth.sign_out()
    assert auth.sign_in(org.owner_email).headers["Location"] == "/inbox"
