"""The owner's web chat page: turning the widget on once, the sites allowed to frame it, the tag."""

import pytest

from pawline import webchat
from pawline.errors import DomainError
from tests import factories

PAGE = "/settings/channels/webchat"


@pytest.fixture
def org(app):
    with app.app_context():
        return factories.org()


def test_only_owners_reach_the_page(client, auth, org):
    for role in ("staff", "sitter"):
        auth.sign_in(getattr(org, f"{role}_email"))
        assert client.get(PAGE).status_code == 404
        assert client.post(f"{PAGE}/on").status_code == 404
        auth.sign_out()


def test_the_owner_turns_it_on_once_and_gets_the_tag(app, client, auth, org):
    auth.sign_in(org.owner_email)
    assert "Turn the web chat widget on" in client.get(PAGE).get_data(as_text=True)

    client.post(f"{PAGE}/on")
    with app.app_context():
        key = webchat.account(org.id).account_id
    client.post(f"{PAGE}/on")  # again: the key already pasted stays

    page = client.get(PAGE).get_data(as_text=True)
    assert f'&lt;script src=&#34;http://localhost/widget.js?key={key}&#34; async&gt;' in page
    with app.app_context():
        assert webchat.account(org.id).account_id == key
        assert webchat.account(org.id).settings == {"allowed_origins": []}


def test_sites_are_saved_and_bad_ones_refused_with_the_reason(app, client, auth, org):
    auth.sign_in(org.owner_email)
    client.post(f"{PAGE}/on")

    bad = client.post(f"{PAGE}/origins", data={"origins": "https://*.example.com"})
    assert bad.status_code == 400 and "no wildcards" in bad.get_data(as_text=True)
    saved = client.post(f"{PAGE}/origins",
                        data={"origins": "https://Shop.Example/\nhttp://127.0.0.2:8000"})
    assert saved.status_code == 302
    with app.app_context():
        assert webchat.allowed_origins(webchat.account(org.id)) == [
            "https://shop.example", "http://127.0.0.2:8000"]


def test_sites_cannot_be_saved_before_the_widget_is_on(client, auth, org):
    auth.sign_in(org.owner_email)
    answer = client.post(f"{PAGE}/origins", data={"origins": "https://shop.example"})
    assert answer.status_code == 400
    assert "Turn the web chat widget on first" in answer.get_data(as_text=True)


@pytest.mark.parametrize("text, origins", [
    ("", []), ("https://a.example, https://b.example:8443", ["https://a.example",
                                                             "https://b.example:8443"]),
    ("HTTPS://A.EXAMPLE/ https://a.example", ["https://a.example"]),
    ("http://[::1]:8000", ["http://[::1]:8000"])])
def test_origins_are_read_as_csp_wants_them(text, origins):
    assert webchat.parse_origins(text) == origins


@pytest.mark.parametrize("text", [
    "https://a.example/shop", "a.example", "ftp://a.example", "https://a.example?x=1",
    "https://user@a.example", "https://*.example.com", "*", "https://a.example:99999",
    "https://a.example;script-src", "javascript:alert(1)", "https://a.example#x",
    " ".join(f"https://s{n}.example" for n in range(21))])
def test_anything_but_an_origin_is_refused(text):
    with pytest.raises(DomainError):
        webchat.parse_origins(text)


def test_the_audit_trail_says_who_turned_the_widget_on(app, client, auth, org):
    auth.sign_in(org.owner_email)
    client.post(f"{PAGE}/on")
    with app.app_context():
        key = webchat.account(org.id).account_id

    assert f"set up Web chat (account {key})" in client.get("/audit").get_data(as_text=True)


def test_only_owners_turn_it_off_or_replace_the_key(app, client, auth, org):
    with app.app_context():
        key = webchat.turn_on(org.id, None).account_id
    for role in ("staff", "sitter"):
        auth.sign_in(getattr(org, f"{role}_email"))
        assert client.post(f"{PAGE}/off").status_code == 404
        assert client.post(f"{PAGE}/key", data={"confirm": "y"}).status_code == 404
        auth.sign_out()
    with app.app_context():
        widget = webchat.account(org.id)
        assert widget.account_id == key and webchat.is_on(widget)


def test_off_and_back_on_keeps_the_key_and_the_sites(app, client, auth, org):
    auth.sign_in(org.owner_email)
    client.post(f"{PAGE}/on")
    client.post(f"{PAGE}/origins", data={"origins": "https://shop.example"})
    with app.app_context():
        key = webchat.account(org.id).account_id

    assert client.post(f"{PAGE}/off").status_code == 302
    page = client.get(PAGE).get_data(as_text=True)
    assert "The widget is off" in page and "Turn it back on" in page
    with app.app_context():
        assert webchat.by_key(key) is None
    client.post(f"{PAGE}/off")  # again: nothing changes, nothing more is audited

    client.post(f"{PAGE}/on")
    page = client.get(PAGE).get_data(as_text=True)
    assert "Turn the widget off" in page and f"widget.js?key={key}" in page
    with app.app_context():
        assert webchat.by_key(key).settings == {"allowed_origins": ["https://shop.example"]}

    audit = client.get("/audit").get_data(as_text=True)
    assert audit.count(f"turned Web chat off (account {key})") == 1
    assert f"turned Web chat back on (account {key})" in audit


def test_replacing_the_key_needs_the_box_ticked_and_shows_the_new_tag(app, client, auth, org):
    auth.sign_in(org.owner_email)
    client.post(f"{PAGE}/on")
    with app.app_context():
        old = webchat.account(org.id).account_id

    unticked = client.post(f"{PAGE}/key")
    assert unticked.status_code == 400
    assert "Tick the box to replace the key" in unticked.get_data(as_text=True)
    with app.app_context():
        assert webchat.account(org.id).account_id == old

    assert client.post(f"{PAGE}/key", data={"confirm": "y"}).status_code == 302
    with app.app_context():
        new = webchat.account(org.id).account_id
        assert new != old and webchat.by_key(old) is None and webchat.by_key(new) is not None
    page = client.get(PAGE).get_data(as_text=True)
    assert f"widget.js?key={new}" in page and old not in page
    assert (f"replaced the Web chat key: account {old} stopped working, account {new} took "
            "its place") in client.get("/audit").get_data(as_text=True)


def test_the_key_cannot_be_replaced_before_the_widget_is_on(app, client, auth, org):
    auth.sign_in(org.owner_email)
    assert client.post(f"{PAGE}/key", data={"confirm": "y"}).status_code == 302
    assert client.post(f"{PAGE}/off").status_code == 302
    with app.app_context():
        assert webchat.account(org.id) is None
