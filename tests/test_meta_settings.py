"""Owners connect a Facebook page and an Instagram account: the token is sealed, never shown
again, and each organization sees and changes only its own."""

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from pawline import channel_accounts
from pawline.channel_models import ChannelAccount
from pawline.db import db
from tests import factories

PAGE, TOKEN = "104729381927364", "EAAGsecretPageToken123"
PAGES = ("/settings/channels/messenger", "/settings/channels/instagram")


@pytest.fixture
def org(app):
    with app.app_context():
        return factories.org()


@pytest.mark.parametrize(("url", "channel"), [(PAGES[0], "messenger"), (PAGES[1], "instagram")])
def test_an_owner_connects_and_the_token_is_sealed_and_never_shown(app, client, auth, org, url,
                                                                   channel):
    auth.sign_in(org.owner_email)
    page = client.get(url)
    assert page.status_code == 200 and "Not connected" in page.get_data(as_text=True)

    saved = client.post(url, data={"account_id": PAGE, "display_name": "Happy Paws",
                                   "token": TOKEN})
    assert saved.status_code == 302

    shown = client.get(url).get_data(as_text=True)
    assert "Connected" in shown and PAGE in shown and TOKEN not in shown
    assert "/webhooks/meta" in shown
    with app.app_context():
        row = db.session.scalar(sa.select(ChannelAccount))
        assert (row.org_id, row.channel, row.account_id) == (org.id, channel, PAGE)
        assert TOKEN not in row.secret_sealed  # sealed at rest
        assert channel_accounts.get(org.id, channel).secret == TOKEN


def test_an_empty_token_keeps_the_stored_one_and_a_first_connection_needs_one(app, client,
                                                                            auth, org):
    auth.sign_in(org.owner_email)
    url = PAGES[0]
    refused = client.post(url, data={"account_id": PAGE, "token": ""})
    assert refused.status_code == 400
    assert "Paste the page access token." in refused.get_data(as_text=True)

    client.post(url, data={"account_id": PAGE, "token": TOKEN})
    assert client.post(url, data={"account_id": PAGE, "display_name": "Renamed",
                                  "token": ""}).status_code == 302
    with app.app_context():
        account = channel_accounts.get(org.id, "messenger")
        assert (account.display_name, account.secret) == ("Renamed", TOKEN)


@pytest.mark.parametrize(("field", "value", "error"), [
    ("account_id", "", "Enter the account&#39;s id."),
    ("account_id", "page-123", "digits only"),
    ("account_id", "1" * 41, "digits only"),
    ("token", "has spaces in it", "no spaces"),
    ("token", "x" * 1001, "under 1000"),
    ("display_name", "n" * 101, "under 100"),
])
def test_bad_values_get_clear_errors_and_store_nothing(app, client, auth, org, field, value,
                                                       error):
    auth.sign_in(org.owner_email)
    form = {"account_id": PAGE, "display_name": "", "token": TOKEN, field: value}
    response = client.post(PAGES[0], data=form)
    assert response.status_code == 400 and error in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ChannelAccount)) == 0


def test_a_page_another_organization_connected_is_refused(app, client, auth, org):
    with app.app_context():
        other = factories.org()
        channel_accounts.save(other.id, "messenger", PAGE, "Theirs", secret="EAAG-theirs")
    auth.sign_in(org.owner_email)

    response = client.post(PAGES[0], data={"account_id": PAGE, "token": TOKEN})

    assert response.status_code == 400
    assert "Another organization already uses this account." in response.get_data(as_text=True)
    with app.app_context():
        assert channel_accounts.get(org.id, "messenger") is None
        assert channel_accounts.by_account("messenger", PAGE).org_id == other.id


def test_each_organization_sees_only_its_own_connection(app, client, auth, org):
    with app.app_context():
        other = factories.org()
        channel_accounts.save(other.id, "messenger", "999888777666", "Theirs",
                              secret="EAAG-theirs")
    auth.sign_in(org.owner_email)
    page = client.get(PAGES[0]).get_data(as_text=True)
    assert "999888777666" not in page and "Theirs" not in page and "Not connected" in page

    client.post(PAGES[0], data={"account_id": PAGE, "token": TOKEN})
    with app.app_context():  # the other organization's page is untouched
        theirs = channel_accounts.get(other.id, "messenger")
        assert (theirs.account_id, theirs.secret) == ("999888777666", "EAAG-theirs")


@pytest.mark.parametrize("role", ["staff", "sitter"])
@pytest.mark.parametrize("url", PAGES)
def test_only_owners_reach_the_pages(app, client, auth, org, role, url):
    auth.sign_in(getattr(org, f"{role}_email"))
    assert client.get(url).status_code == 404
    assert client.post(url, data={"account_id": PAGE, "token": TOKEN}).status_code == 404
    with app.app_context():
        assert channel_accounts.get(org.id, "messenger") is None


def test_signed_out_people_are_sent_to_sign_in(client):
    assert client.get(PAGES[0]).status_code == 302


def test_a_token_the_servers_key_cannot_read_is_pasted_again(app, client, auth, org,
                                                             monkeypatch):
    auth.sign_in(org.owner_email)
    client.post(PAGES[0], data={"account_id": PAGE, "token": TOKEN})
    monkeypatch.setitem(app.config, "CHANNEL_SECRETS_KEY", Fernet.generate_key().decode())

    page = client.get(PAGES[0])
    assert page.status_code == 200 and "Token unreadable" in page.get_data(as_text=True)
    assert client.post(PAGES[0], data={"account_id": PAGE, "token": "EAAG-new"}).status_code == 302
    with app.app_context():
        assert channel_accounts.get(org.id, "messenger").secret == "EAAG-new"


def test_the_channel_list_links_both_pages_and_shows_the_connection(client, auth, org):
    auth.sign_in(org.owner_email)
    client.post(PAGES[0], data={"account_id": PAGE, "token": TOKEN})
    listing = client.get("/settings/channels").get_data(as_text=True)
    assert all(f'href="{url}"' in listing for url in PAGES)
    assert 'href="/settings/channels"' in client.get(PAGES[1]).get_data(as_text=True)
