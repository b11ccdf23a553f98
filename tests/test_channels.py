"""Every channel into the one thread: identities (I15), accounts, inbound, merges."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from pawline import channel_accounts, channels, secret_box
from pawline.channel_models import ChannelAccount, ClientIdentity
from pawline.clients import merge_client
from pawline.db import constraint_name, db
from pawline.errors import DomainError
from pawline.inbound import receive_sms
from pawline.models import Client, ClientContact, Message, Thread
from tests import factories

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
POOL = "+14155550101"
BOT = "777000111"
VISITOR = "visitor_0123456789abcdef"


@pytest.fixture
def org(ctx):
    org = factories.org()
    factories.number(org.id, POOL, "pool")
    return org


def telegram(org_id, chat="5550001", body="hi", update=1, name=None, now=NOW):
    return channels.receive(org_id, "telegram", chat, body, provider="telegram",
                            provider_sid=f"{BOT}:{update}", to_address=BOT, display_name=name,
                            now=now)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# --- inbound --------------------------------------------------------------------------------

def test_a_first_telegram_message_makes_an_identity_a_guest_client_and_its_thread(org):
    got = telegram(org.id, name="Ada L.")

    message = db.session.get(Message, got.message_id)
    assert (message.channel, message.from_e164, message.to_e164, message.number_id) == (
        "telegram", "5550001", BOT, None)
    assert (message.provider, message.provider_sid) == ("telegram", f"{BOT}:1")
    identity = db.session.scalar(sa.select(ClientIdentity))
    assert (identity.client_id, identity.channel, identity.address) == (
        got.client_id, "telegram", "5550001")
    client = db.session.get(Client, got.client_id)
    assert client.is_guest and client.name == "Ada L."
    thread = db.session.get(Thread, got.thread_id)
    assert (thread.unread_count, thread.last_message_preview) == (1, "hi")


def test_a_repeated_update_changes_nothing_and_a_new_one_joins_the_same_thread(org):
    first = telegram(org.id)
    again = telegram(org.id)
    second = telegram(org.id, body="still me", update=2)

    assert again.duplicate and again.message_id is None
    assert (second.client_id, second.thread_id) == (first.client_id, first.thread_id)
    assert (count(Message), count(Client), count(ClientIdentity)) == (2, 1, 1)
    assert db.session.get(Thread, first.thread_id).unread_count == 2


def test_a_guest_without_a_display_name_is_named_by_channel_and_address(org):
    got = telegram(org.id)
    assert db.session.get(Client, got.client_id).name == "Guest (Telegram 5550001)"


def test_a_message_reopens_a_closed_thread(org):
    got = telegram(org.id)
    db.session.execute(sa.update(Thread).values(status="closed"))
    db.session.commit()

    telegram(org.id, update=2)

    assert db.session.get(Thread, got.thread_id).status == "open"


def test_an_address_of_the_wrong_shape_is_refused_before_anything_is_stored(org):
    with pytest.raises(DomainError):
        channels.receive(org.id, "telegram", "not-a-chat", "hi", provider="telegram",
                         provider_sid="1:1", to_address=BOT)
    with pytest.raises(DomainError):
        channels.receive(org.id, "sms", "+14155552671", "hi", provider="x",
                         provider_sid="1", to_address=BOT)
    assert count(Message) == 0


def test_each_organization_has_its_own_identity_for_the_same_address(org):
    other = factories.org()
    mine, theirs = telegram(org.id), telegram(other.id, update=2)
    assert mine.client_id != theirs.client_id and mine.org_id != theirs.org_id


# --- I15 in the database --------------------------------------------------------------------

def insert_identity(org_id, client_id, channel, address):
    with db.session.begin_nested():
        db.session.add(ClientIdentity(org_id=org_id, client_id=client_id, channel=channel,
                                      address=address))


def test_i15_a_second_identity_with_the_same_channel_and_address_is_refused(org):
    ada, bob = factories.client(org.id, "Ada"), factories.client(org.id, "Bob")
    insert_identity(org.id, ada, "telegram", "42")

    with pytest.raises(IntegrityError) as caught:
        insert_identity(org.id, bob, "telegram", "42")
    assert constraint_name(caught.value) == "uq_client_identity_org_id_channel_address"

    # neighbours: another address, another channel, another organization
    insert_identity(org.id, bob, "telegram", "43")
    insert_identity(org.id, bob, "messenger", "42")
    other = factories.org()
    insert_identity(other.id, factories.client(other.id), "telegram", "42")
    assert count(ClientIdentity) == 4


@pytest.mark.parametrize("channel, address", [
    ("telegram", "12a"), ("messenger", "-5"), ("instagram", ""), ("webchat", "short"),
    ("webchat", "has spaces in it !!"), ("sms", "+14155552671"), ("fax", "12345")])
def test_an_identity_of_an_unknown_channel_or_shape_is_refused(org, channel, address):
    with pytest.raises(IntegrityError) as caught:
        insert_identity(org.id, factories.client(org.id), channel, address)
    assert constraint_name(caught.value) in ("ck_client_identity_address_shape",
                                             "ck_client_identity_channel_known")


def test_an_identity_cannot_point_at_another_organizations_client(org):
    other = factories.org()
    with pytest.raises(IntegrityError) as caught:
        insert_identity(org.id, factories.client(other.id), "telegram", "42")
    assert constraint_name(caught.value) == "fk_client_identity_client_id_org_id_client"


def test_a_message_channel_is_checked_and_never_changes(org):
    got = telegram(org.id)
    with pytest.raises(sa.exc.DBAPIError) as caught, db.session.begin_nested():
        db.session.execute(sa.text("UPDATE message SET channel = 'sms' WHERE id = :id"),
                           {"id": got.message_id})
    assert constraint_name(caught.value) == "message_never_rewritten"
    with pytest.raises(IntegrityError) as caught, db.session.begin_nested():
        db.session.execute(sa.text(
            "INSERT INTO message (org_id, thread_id, direction, body, from_e164, to_e164, "
            "status, provider, channel) VALUES (:org, :thread, 'inbound', 'x', '1', '2', "
            "'received', 'p', 'fax')"), {"org": org.id, "thread": got.thread_id})
    assert constraint_name(caught.value) == "ck_message_channel_known"


# --- accounts and sealed secrets ------------------------------------------------------------

def test_an_account_is_saved_once_per_channel_with_its_secret_sealed(org):
    channel_accounts.save(org.id, "telegram", BOT, "Paws bot", secret="123:ABC",
                          settings={"webhook_secret": "s3cret"}, actor_user_id=org.owner_user_id)
    saved = channel_accounts.save(org.id, "telegram", BOT, "Paws bot 2")

    assert saved.secret == "123:ABC" and saved.settings == {"webhook_secret": "s3cret"}
    assert saved.display_name == "Paws bot 2"
    assert channel_accounts.by_account("telegram", BOT).org_id == org.id
    assert channel_accounts.get(org.id, "messenger") is None
    sealed = db.session.scalar(sa.select(ChannelAccount.secret_sealed))
    assert "123:ABC" not in sealed and secret_box.unseal(sealed) == "123:ABC"
    assert count(ChannelAccount) == 1


def test_an_account_id_another_organization_uses_is_refused(org):
    channel_accounts.save(org.id, "telegram", BOT, "Paws bot")
    other = factories.org()
    with pytest.raises(DomainError) as caught:
        channel_accounts.save(other.id, "telegram", BOT, "Copy cat")
    assert caught.value.field == "account_id"


def test_a_secret_sealed_with_another_key_is_unreadable(app, org):
    sealed = secret_box.seal("token")
    app.config["CHANNEL_SECRETS_KEY"] = "x" * 43 + "="
    try:
        with pytest.raises(secret_box.SecretUnreadable):
            secret_box.unseal(sealed)
    finally:
        app.config.pop("CHANNEL_SECRETS_KEY")


# --- a visitor's phone, and merges ----------------------------------------------------------

def webchat(org_id, body="hi", sid="w1"):
    return channels.receive(org_id, "webchat", VISITOR, body, provider="webchat",
                            provider_sid=sid, to_address="widgetkey")


def test_a_visitor_leaving_a_new_phone_keeps_their_client_and_gains_the_phone(org):
    got = webchat(org.id)

    assert channels.link_phone(org.id, "webchat", VISITOR, "(415) 555-2671") == got.client_id
    assert db.session.scalar(sa.select(ClientContact.client_id).where(
        ClientContact.e164 == "+14155552671")) == got.client_id
    assert channels.link_phone(org.id, "webchat", VISITOR, "+14155552671") == got.client_id


def test_a_visitor_leaving_a_clients_phone_joins_that_client_and_their_thread(org):
    ada = factories.client(org.id, "Ada", "+14155552671")
    sms = receive_sms(POOL, "+14155552671", "by text", "SM1")
    got = webchat(org.id)

    assert channels.link_phone(org.id, "webchat", VISITOR, "+14155552671") == ada

    assert db.session.get(Client, got.client_id) is None
    assert db.session.scalar(sa.select(ClientIdentity.client_id)) == ada
    assert count(Thread) == 1
    assert {m.thread_id for m in db.session.scalars(sa.select(Message))} == {sms.thread_id}
    again = webchat(org.id, sid="w2")
    assert (again.client_id, again.thread_id) == (ada, sms.thread_id)


def test_a_merge_carries_every_identity_along(org):
    got = telegram(org.id)
    ada = factories.client(org.id, "Ada", "+14155552671")

    merge_client(org.id, got.client_id, ada, org.owner_user_id)

    assert db.session.scalar(sa.select(ClientIdentity.client_id)) == ada
    assert telegram(org.id, update=9).client_id == ada
