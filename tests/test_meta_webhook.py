"""Meta's webhook: the subscription check, the signature over the raw body, and each event kind
stored once in the organization whose page or Instagram account it was sent to."""

import json

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from pawline import channel_accounts
from pawline.channel_models import ClientIdentity
from pawline.db import db
from pawline.models import Client, Message, Thread
from tests import factories
from tests.meta_signing import (
    APP_SECRET,
    URL,
    VERIFY_TOKEN,
    delivery,
    delivery_of,
    entry,
    message,
    mid,
    post,
    read,
    signature,
)

PAGE, IG, OTHER_PAGE = "104729381927364", "17841400000000001", "555000111222333"
PSID, IGSID = "6873450192837465", "1234567890123456"


@pytest.fixture(autouse=True)
def meta_config(app, monkeypatch):
    monkeypatch.setitem(app.config, "META_APP_SECRET", APP_SECRET)
    monkeypatch.setitem(app.config, "META_VERIFY_TOKEN", VERIFY_TOKEN)


@pytest.fixture
def org(app):
    """An organization with its page and its Instagram account connected."""
    with app.app_context():
        org = factories.org()
        channel_accounts.save(org.id, "messenger", PAGE, "Happy Paws", secret="EAAG-page")
        channel_accounts.save(org.id, "instagram", IG, "@happypaws", secret="EAAG-page")
        return org


def messages() -> list[Message]:
    return db.session.scalars(sa.select(Message).order_by(Message.id)).all()


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# -- the subscription check --

def verify(client, **params):
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
             "hub.challenge": "1158201444", **params}
    return client.get(URL, query_string={k: v for k, v in query.items() if v is not None})


def test_the_verify_token_gets_the_challenge_back_as_plain_text(client):
    response = verify(client)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "1158201444"
    assert response.mimetype == "text/plain"


@pytest.mark.parametrize("params", [
    {"hub.verify_token": "wrong"}, {"hub.verify_token": None}, {"hub.verify_token": ""},
    {"hub.verify_token": VERIFY_TOKEN + "x"}, {"hub.mode": "unsubscribe"}, {"hub.mode": None},
])
def test_a_wrong_token_or_mode_is_refused(client, params):
    response = verify(client, **params)
    assert response.status_code == 403 and "1158201444" not in response.get_data(as_text=True)


def test_without_a_configured_verify_token_nothing_verifies(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "META_VERIFY_TOKEN", "")
    assert verify(client, **{"hub.verify_token": ""}).status_code == 403


# -- the signature --

def test_a_signed_message_is_stored_in_the_pages_organization(app, client, org):
    response = post(client, delivery_of(PAGE, message(PSID, PAGE, "Is Rex okay?")))

    assert response.status_code == 200
    with app.app_context():
        [stored] = messages()
        assert (stored.org_id, stored.channel, stored.direction) == (org.id, "messenger",
                                                                      "inbound")
        assert (stored.from_e164, stored.to_e164, stored.body) == (PSID, PAGE, "Is Rex okay?")
        assert stored.provider == "meta" and stored.provider_sid.startswith("m_")
        identity = db.session.scalar(sa.select(ClientIdentity))
        assert (identity.org_id, identity.channel, identity.address) == (org.id, "messenger",
                                                                         PSID)
        assert db.session.scalar(sa.select(Thread.client_id)) == identity.client_id


@pytest.mark.parametrize("header", [
    "",  # missing
    "sha256=" + "0" * 64,  # wrong
    "sha1=" + "0" * 40,  # the old header's scheme
    "garbage",
    "sha256=ünïcode",
])
def test_a_bad_or_missing_signature_is_403_and_stores_nothing(app, client, org, header):
    response = post(client, delivery_of(PAGE, message(PSID, PAGE)), header=header)
    assert response.status_code == 403
    with app.app_context():
        assert count(Message) == 0 and count(Client) == 0


def test_a_body_changed_after_signing_is_refused(app, client, org):
    body = json.dumps(delivery_of(PAGE, message(PSID, PAGE, "hello"))).encode()
    tampered = body.replace(b"hello", b"HELLO")
    assert post(client, tampered, header=signature(body)).status_code == 403
    assert post(client, delivery_of(PAGE, message(PSID, PAGE)),
                secret="another app's secret").status_code == 403
    with app.app_context():
        assert count(Message) == 0


def test_the_signature_covers_the_raw_bytes_not_a_reparsed_json(app, client, org):
    body = (b'{"object":"page",  "entry":[' + json.dumps(entry(PAGE, message(
        PSID, PAGE, "caf\u00e9"))).encode() + b"]}\n")
    assert post(client, body).status_code == 200
    with app.app_context():
        assert messages()[0].body == "café"


def test_without_a_configured_app_secret_every_post_is_refused(app, client, org, monkeypatch):
    monkeypatch.setitem(app.config, "META_APP_SECRET", "")
    assert post(client, delivery_of(PAGE, message(PSID, PAGE)), secret="").status_code == 403


def test_a_huge_body_is_refused_unread(client, org):
    body = b'{"object": "page", "entry": [], "pad": "' + b"x" * 600_000 + b'"}'
    assert post(client, body).status_code == 413


def test_signed_garbage_is_a_400_not_a_500(client, org):
    assert post(client, b"{not json").status_code == 400
    assert post(client, b"[" * 100_000).status_code == 400
    assert post(client, {"object": "whatsapp_business_account"}).status_code == 200


# -- the events --

def test_a_repeated_mid_changes_nothing(app, client, org):
    event = message(PSID, PAGE, "once", message_id=mid())
    for _ in range(3):
        assert post(client, delivery_of(PAGE, event)).status_code == 200
    with app.app_context():
        assert count(Message) == 1 and count(Client) == 1
        assert db.session.scalar(sa.select(Thread.unread_count)) == 1


def test_a_changed_secrets_key_stops_no_inbound_message(app, client, org, monkeypatch):
    """Intake needs the organization, not the page token: a new CHANNEL_SECRETS_KEY (the old
    tokens now unreadable) must not turn Meta's deliveries into 500s."""
    monkeypatch.setitem(app.config, "CHANNEL_SECRETS_KEY", Fernet.generate_key().decode())
    assert post(client, delivery_of(PAGE, message(PSID, PAGE, "still here"))).status_code == 200
    with app.app_context():
        assert [m.body for m in messages()] == ["still here"]


def test_instagram_messages_land_on_the_instagram_channel(app, client, org):
    post(client, delivery_of(IG, message(IGSID, IG, "Hi from IG"), object_="instagram"))
    with app.app_context():
        [stored] = messages()
        assert (stored.channel, stored.from_e164, stored.to_e164) == ("instagram", IGSID, IG)


def test_echoes_receipts_and_reads_are_skipped(app, client, org):
    payload = delivery_of(PAGE, message(PSID, PAGE, "our own reply", is_echo=True),
                          delivery(PSID, PAGE), read(PSID, PAGE),
                          {"sender": {"id": PSID}, "recipient": {"id": PAGE},
                           "postback": {"title": "Get started", "payload": "START"}})
    assert post(client, payload).status_code == 200
    with app.app_context():
        assert count(Message) == 0 and count(Client) == 0


@pytest.mark.parametrize(("attachments", "text", "stored"), [
    # with a usable URL it is fetched and shown itself (tests/test_meta_media.py)
    ([{"type": "image", "payload": {"url": "https://scontent.example/1.jpg"}}], None, ""),
    ([{"type": "image", "payload": {}}, {"type": "video", "payload": {}}], None,
     "[image] [video]"),
    ([{"type": "image", "payload": {"url": "javascript:alert(1)"}}], None, "[image]"),
    ([{"type": "location", "payload": {"coordinates": {"lat": 1, "long": 2}}},
      {"type": "image", "payload": {"url": "https://scontent.example/1.jpg"}}], None,
     "[location]"),
    ([{"type": "image", "payload": {}}], "Look at him", "Look at him"),
    ([], "", "[message without text]"),
    (None, None, "[message without text]"),
])
def test_a_message_without_text_is_kept_with_a_placeholder(app, client, org, attachments, text,
                                                           stored):
    post(client, delivery_of(PAGE, message(PSID, PAGE, text, attachments=attachments)))
    with app.app_context():
        assert [m.body for m in messages()] == [stored]


def test_an_unknown_page_is_skipped_and_the_other_entries_still_stored(app, client, org):
    payload = {"object": "page", "entry": [
        entry(OTHER_PAGE, message(PSID, OTHER_PAGE, "to a page nobody connected")),
        entry(PAGE, message(PSID, PAGE, "to ours")),
        entry(PAGE, {"sender": {"id": "not-a-psid"}, "recipient": {"id": PAGE},
                     "message": {"mid": mid(), "text": "malformed sender"}}),
    ]}
    assert post(client, payload).status_code == 200
    with app.app_context():
        assert [m.body for m in messages()] == ["to ours"]


def test_a_page_id_of_another_organization_lands_only_there(app, client, org):
    with app.app_context():
        other = factories.org()
        channel_accounts.save(other.id, "messenger", OTHER_PAGE, "Other Paws", secret="EAAG-b")
    payload = {"object": "page", "entry": [entry(OTHER_PAGE, message(PSID, OTHER_PAGE, "for B")),
                                           entry(PAGE, message(PSID, PAGE, "for A"))]}
    assert post(client, payload).status_code == 200
    with app.app_context():
        owners = {m.body: m.org_id for m in messages()}
        assert owners == {"for A": org.id, "for B": other.id}
        # one person, two pages: a client in each organization, never shared
        identities = db.session.scalars(sa.select(ClientIdentity)).all()
        assert sorted(i.org_id for i in identities) == sorted([org.id, other.id])
    # and a page id never counts on the other channel
    post(client, delivery_of(PAGE, message(IGSID, PAGE, "IG to a page id"), object_="instagram"))
    with app.app_context():
        assert count(Message) == 2


def test_a_lone_surrogate_or_nul_in_the_text_is_replaced_not_a_500(app, client, org):
    event = json.dumps(message(PSID, PAGE, "placeholder")).replace(
        "placeholder", "a\\ud800b\\u0000c\\ud83d\\udc3e")
    body = b'{"object": "page", "entry": [{"id": "' + PAGE.encode() + b'", "messaging": [' \
        + event.encode() + b"]}]}"
    assert post(client, body).status_code == 200
    with app.app_context():
        assert [m.body for m in messages()] == ["a\ufffdb\ufffdc\U0001f43e"]
