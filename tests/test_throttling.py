"""Failed sign-ins limited per client address too (issue 15 item 4): spraying many emails from
one address stops, before Argon2, with 429 and Retry-After; counters in PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from pawline import rate_limits
from pawline.access_models import RateLimit
from pawline.accounts import SIGN_IN_WINDOW, TooManySignIns, authenticate
from pawline.config import ConfigError, from_environment
from pawline.db import db
from tests import factories

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SPRAYER, OTHER = "203.0.113.66", "198.51.100.7"
LIMIT = 4


def spray(address: str, times: int, now: datetime = NOW, start: int = 0) -> None:
    """Wrong passwords for `times` different emails from one address, each one checked."""
    for n in range(start, start + times):
        assert authenticate(f"victim{n}@example.com", "Spring2026!", now=now, address=address,
                            per_address=LIMIT) is None


@pytest.fixture
def org(app):
    with app.app_context():
        return factories.org()


def test_many_emails_from_one_address_are_refused_past_the_limit(ctx):
    spray(SPRAYER, LIMIT)

    with pytest.raises(TooManySignIns, match="from your network. Try again in 15 minutes") as e:
        authenticate("victim99@example.com", "Spring2026!", now=NOW, address=SPRAYER,
                     per_address=LIMIT)
    assert e.value.retry_after == SIGN_IN_WINDOW.total_seconds()


def test_retry_after_is_never_longer_than_the_window(ctx, org):
    """Concurrent requests each read the clock first: the one that starts a window may have
    read it a moment after one refused in it (CI once saw Retry-After 901 of a 900 s window)."""
    later = NOW + timedelta(milliseconds=700)
    for n in range(LIMIT):  # these started the address's window and the email's
        authenticate(org.staff_email, "wrong", now=later, address=f"192.0.2.{n}")
        authenticate(f"victim{n}@example.com", "wrong", now=later, address=SPRAYER,
                     per_address=LIMIT)
    window = SIGN_IN_WINDOW.total_seconds()

    with pytest.raises(TooManySignIns) as by_address:
        authenticate("victim99@example.com", "wrong", now=NOW, address=SPRAYER,
                     per_address=LIMIT)
    authenticate(org.staff_email, "wrong", now=later, address="192.0.2.200")
    with pytest.raises(TooManySignIns) as by_email:
        authenticate(org.staff_email, "wrong", now=NOW, address="192.0.2.201")

    assert by_address.value.retry_after == by_email.value.retry_after == window
    assert rate_limits.wait_seconds(timedelta(seconds=0.2), SIGN_IN_WINDOW) == 1


def test_a_refused_address_gets_no_password_checked_not_even_a_right_one(ctx, org):
    spray(SPRAYER, LIMIT)

    with pytest.raises(TooManySignIns):
        authenticate(org.staff_email, factories.PASSWORD, now=NOW, address=SPRAYER,
                     per_address=LIMIT)
    assert authenticate(org.staff_email, factories.PASSWORD, now=NOW, address=OTHER,
                        per_address=LIMIT) is not None


def test_the_address_may_try_again_when_its_window_ends(ctx, org):
    spray(SPRAYER, LIMIT)

    assert authenticate(org.staff_email, factories.PASSWORD, now=NOW + SIGN_IN_WINDOW,
                        address=SPRAYER, per_address=LIMIT) is not None


def test_right_passwords_are_not_failures(ctx, org):
    for _ in range(3 * LIMIT):  # a busy office behind one address, signing in all day
        assert authenticate(org.staff_email, factories.PASSWORD, now=NOW, address=SPRAYER,
                            per_address=LIMIT) is not None

    spray(SPRAYER, LIMIT)  # still the whole allowance of failures


def test_one_ipv6_subscriber_is_one_address_whatever_its_interface_id(ctx):
    spray("2001:db8:0:7::1", LIMIT)

    with pytest.raises(TooManySignIns):
        authenticate("x@example.com", "guess", now=NOW, address="2001:db8:0:7:ffff::2",
                     per_address=LIMIT)
    spray("2001:db8:0:8::1", 1)  # the next /64 is someone else


@pytest.mark.parametrize(("address", "key"), [
    ("203.0.113.9", "203.0.113.9"),
    ("::ffff:203.0.113.9", "203.0.113.9"),
    ("2001:db8:0:7:1:2:3:4", "2001:db8:0:7::/64"),
    ("not an address", "not an address"),
    (None, "unknown"),
])
def test_the_key_an_address_counts_under(address, key):
    assert rate_limits.address_key(address) == key


def test_a_counter_starts_over_when_its_window_ends_and_pruning_keeps_live_ones(ctx):
    minute = timedelta(minutes=1)
    assert [rate_limits.count("test", "a", 2, minute, NOW).hits for _ in range(3)] == [1, 2, 3]
    assert rate_limits.count("test", "a", 2, minute, NOW + minute).hits == 1
    rate_limits.count("test", "b", 2, minute, NOW)

    assert rate_limits.prune_rate_limits(NOW + minute + timedelta(seconds=1)) == 1
    assert db.session.scalars(sa.select(RateLimit.key)).all() == ["a"]


# --- the page --------------------------------------------------------------------------------

def test_the_sign_in_page_answers_429_with_retry_after_whatever_x_forwarded_for_says(
        app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SIGN_IN_FAILURES_PER_ADDRESS", LIMIT)

    def post(n: int):  # each from a "different address", as a header anyone can write
        return client.post("/sign-in", headers={"X-Forwarded-For": f"192.0.2.{n}"},
                           data={"email": f"victim{n}@example.com", "password": "Spring2026!"})

    assert [post(n).status_code for n in range(LIMIT)] == [400] * LIMIT
    refused = post(LIMIT)

    assert refused.status_code == 429
    assert 840 < int(refused.headers["Retry-After"]) <= 900  # the window's rest, in seconds
    assert "Too many failed sign-ins from your network" in refused.get_data(as_text=True)


def test_the_email_limit_answers_retry_after_too(client, org):
    for _ in range(5):
        client.post("/sign-in", data={"email": org.staff_email, "password": "wrong!!!!"})

    refused = client.post("/sign-in", data={"email": org.staff_email,
                                            "password": factories.PASSWORD})

    assert refused.status_code == 429
    assert 840 < int(refused.headers["Retry-After"]) <= 900


def test_the_limit_is_a_setting(tmp_path):
    assert from_environment(tmp_path, env={})["SIGN_IN_FAILURES_PER_ADDRESS"] == 20
    with pytest.raises(ConfigError, match="SIGN_IN_FAILURES_PER_ADDRESS"):
        from_environment(tmp_path, env={"SIGN_IN_FAILURES_PER_ADDRESS": "0"})
