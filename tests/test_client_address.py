"""The client's address, which throttling counts by: the socket's own unless TRUSTED_PROXY_HOPS
says how many proxies in front of the app append to X-Forwarded-For (werkzeug's ProxyFix)."""

import pytest
from flask import request

from pawline.config import ConfigError, from_environment
from pawline.db import db
from tests.conftest import make_app

PROXY = "10.0.0.5"  # the socket's address: the proxy in front of the app


@pytest.fixture
def address_of(database_url):
    """Make an app with these settings; yield a function giving the address it sees."""
    made = []

    def seen(forwarded_for: str | None, **settings) -> str:
        app = make_app(database_url, **settings)
        made.append(app)
        app.add_url_rule("/test-address", "test_address", lambda: request.remote_addr)
        headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
        response = app.test_client().get("/test-address", headers=headers,
                                          environ_base={"REMOTE_ADDR": PROXY})
        return response.get_data(as_text=True)

    yield seen
    for app in made:
        with app.app_context():
            db.engine.dispose()


def test_by_default_no_header_is_trusted(address_of):
    assert address_of("203.0.113.9", TRUSTED_PROXY_HOPS=0) == PROXY


def test_behind_one_proxy_the_address_it_saw_is_the_clients(address_of):
    assert address_of("203.0.113.9", TRUSTED_PROXY_HOPS=1) == "203.0.113.9"


def test_an_address_the_client_wrote_itself_is_not_believed(address_of):
    # The client sent "X-Forwarded-For: 198.51.100.1"; our one proxy appended what it saw.
    assert address_of("198.51.100.1, 203.0.113.9", TRUSTED_PROXY_HOPS=1) == "203.0.113.9"


def test_behind_two_proxies_the_address_the_outer_one_saw(address_of):
    assert address_of("198.51.100.1, 203.0.113.9, 10.0.0.4",
                      TRUSTED_PROXY_HOPS=2) == "203.0.113.9"


def test_fewer_addresses_than_hops_trusts_none(address_of):
    assert address_of("203.0.113.9", TRUSTED_PROXY_HOPS=2) == PROXY


def test_the_setting_defaults_to_no_proxy(tmp_path):
    assert from_environment(tmp_path, env={})["TRUSTED_PROXY_HOPS"] == 0
    assert from_environment(tmp_path, env={"TRUSTED_PROXY_HOPS": " 2 "})[
        "TRUSTED_PROXY_HOPS"] == 2


@pytest.mark.parametrize("value", ["-1", "one", "1.5", "²"])
def test_a_hop_count_the_app_cannot_use_is_refused_by_name(tmp_path, value):
    with pytest.raises(ConfigError, match="TRUSTED_PROXY_HOPS"):
        from_environment(tmp_path, env={"TRUSTED_PROXY_HOPS": value})
