"""POST /webhooks/telegram/<slug>: the secret token header decides (403), the slug names the
organization (404), a valid Update lands in the chat's client's one thread, once."""

import json

import sqlalchemy as sa

from pawline.channel_models import ClientIdentity
from pawline.db import db
from pawline.media_models import Attachment
from pawline.models import Client, Message, Thread
from pawline.telegram_inbound import parse_update
from tests import factories
from tests.telegram_world import BOT_ID, connect, message_update, post_update

CHAT = 555000111


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def telegram_org(app, **kwargs):
    with app.app_context():
        org = factories.org()
        secret = connect(org.id, **kwargs)
        return org, secret


def test_an_update_with_the_secret_is_stored_in_the_chats_thread(app, client):
    org, secret = telegram_org(app)

    response = post_update(client, org.slug, message_update(1001, CHAT, "Is Rex okay?"), secret)

    assert response.status_code == 200 and response.get_json()["ok"] is True
    with app.app_context():
        message = db.session.scalar(sa.select(Message))
        assert (message.channel, message.body, message.direction) == (
            "telegram", "Is Rex okay?", "inbound")
        assert (message.from_e164, message.to_e164, message.number_id) == (str(CHAT), BOT_ID,
                                                                          None)
        assert (message.provider, message.provider_sid) == ("telegram", f"{BOT_ID}:1001")
        identity = db.session.scalar(sa.select(ClientIdentity))
        assert (identity.org_id, identity.channel, identity.address) == (
            org.id, "telegram", str(CHAT))
        guest = db.session.get(Client, identity.client_id)
        assert guest.name == "Ada Lovelace" and guest.is_guest
        thread = db.session.scalar(sa.select(Thread))
        assert (thread.client_id, thread.unread_count) == (guest.id, 1)


def test_a_repeated_update_id_changes_nothing(app, client):
    org, secret = telegram_org(app)
    update = message_update(7, CHAT, "once")
    assert [post_update(client, org.slug, update, secret).status_code
            for _ in range(3)] == [200, 200, 200]
    post_update(client, org.slug, message_update(8, CHAT, "twice"), secret)
    with app.app_context():
        assert (count(Message), count(Client), count(Thread), count(ClientIdentity)) == (
            2, 1, 1, 1)
        assert db.session.scalar(sa.select(Thread.unread_count)) == 2


def test_a_missing_or_wrong_secret_is_403_and_stores_nothing(app, client):
    org, secret = telegram_org(app)
    update = message_update(1, CHAT)
    assert post_update(client, org.slug, update, None).status_code == 403
    assert post_update(client, org.slug, update, "").status_code == 403
    assert post_update(client, org.slug, update, secret[:-1] + "x").status_code == 403
    assert post_update(client, org.slug, update, secret + "x").status_code == 403
    assert post_update(client, org.slug, update, "é" + secret).status_code == 403
    with app.app_context():
        assert count(Message) == 0


def test_a_bot_whose_webhook_is_not_registered_takes_no_update(app, client):
    org, _ = telegram_org(app, webhook_secret="")
    assert post_update(client, org.slug, message_update(1, CHAT), "").status_code == 403
    assert post_update(client, org.slug, message_update(1, CHAT), "anything").status_code == 403


def test_unknown_slugs_and_organizations_without_a_bot_are_404(app, client):
    _, secret = telegram_org(app)
    with app.app_context():
        plain = factories.org()
    for slug in ("no-such-org", plain.slug, "BAD%00slug", "x" * 300):
        assert post_update(client, slug, message_update(1, CHAT), secret).status_code == 404


def test_another_organizations_secret_is_403(app, client):
    org_a, _ = telegram_org(app)
    org_b, secret_b = telegram_org(app, token="222222222:AAE" + "b" * 32)
    assert post_update(client, org_a.slug, message_update(1, CHAT), secret_b).status_code == 403
    assert post_update(client, org_b.slug, message_update(1, CHAT), secret_b).status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(Message.org_id)) == org_b.id


def test_a_message_without_text_or_file_to_fetch_is_kept_as_a_placeholder(app, client):
    """Photos, documents, videos and voice notes become attachments
    (tests/test_telegram_media.py); the rest is named, with its caption."""
    org, secret = telegram_org(app)
    sticker = message_update(1, CHAT, None, sticker={"file_id": "CAAC", "emoji": "🐶"},
                             caption="Rex!")
    voice = message_update(2, CHAT, None, voice={"file_id": "not a file id"})
    unusable = message_update(3, CHAT, None, photo=[{"file_id": "not a file id"}])
    odd = message_update(4, CHAT, None, new_kind_of_thing={"x": 1})
    for update in (sticker, voice, unusable, odd):
        assert post_update(client, org.slug, update, secret).status_code == 200
    with app.app_context():
        bodies = db.session.scalars(sa.select(Message.body).order_by(Message.id)).all()
    assert bodies == ["[sticker] Rex!", "[voice]", "[photo]", "[message]"]


def test_other_kinds_of_updates_are_answered_and_ignored(app, client):
    org, secret = telegram_org(app)
    edited = message_update(1, CHAT, "edited", kind="edited_message")
    member = {"update_id": 2, "my_chat_member": {"chat": {"id": CHAT}}}
    for update in (edited, member):
        assert post_update(client, org.slug, update, secret).status_code == 200
    with app.app_context():
        assert count(Message) == 0 and count(Client) == 0


def test_bodies_that_are_not_updates_are_refused_and_store_nothing(app, client):
    org, secret = telegram_org(app)
    for body, status in [(b"not json", 400), (b"[]", 400), (b"{}", 400),
                         (b'{"update_id": "1", "message": {}}', 400),
                         (b'{"update_id": 1, "message": {"chat": {"id": "x"}}}', 400),
                         (b'{"update_id": 1, "message": {"chat": {"id": 1e400}}}', 400),
                         (b'{"update_id": 1, "message": {"chat": {"id": 10000000000000000000000}}}',
                          400),
                         (b"[" * 100_000, 413),
                         (b'{"update_id": 1, "pad": "' + b"x" * 70_000 + b'"}', 413)]:
        assert post_update(client, org.slug, body, secret).status_code == status, body[:40]
    with app.app_context():
        assert count(Message) == 0


def test_control_characters_are_replaced_not_refused(app, client):
    org, secret = telegram_org(app)
    update = message_update(1, CHAT, "a\x00b", first_name="N\x00o")
    assert post_update(client, org.slug, update, secret).status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(Message.body)) == "a\ufffdb"


def test_a_lone_surrogate_is_replaced_not_a_500(app, client):
    """Telegram sends an update again until it is taken, holding the bot's later ones."""
    org, secret = telegram_org(app)
    body = json.dumps(message_update(1, CHAT, "placeholder")).replace(
        "placeholder", "a\\ud800b\\ud83d\\udc3e").encode()
    document = json.dumps(message_update(2, CHAT, None, document={
        "file_id": "BQACx", "file_name": "placeholder.pdf"})).replace("placeholder", "a\\udc00")
    assert post_update(client, org.slug, body, secret).status_code == 200
    assert post_update(client, org.slug, document.encode(), secret).status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(Message.body)) == "a\ufffdb\U0001f43e"
        assert db.session.scalar(sa.select(Attachment.filename)) == "a\ufffd.pdf"


def test_the_name_shown_is_the_senders_or_the_groups():
    private = parse_update(message_update(1, CHAT, "hi", first_name="Ada", last_name=None))
    assert (private.chat_id, private.display_name) == (str(CHAT), "Ada")
    handle = message_update(2, CHAT, "hi", first_name="", last_name=None, username="rex_mum")
    assert parse_update(handle).display_name == "@rex_mum"
    group = message_update(3, -100123, "hi")
    group["message"]["chat"] = {"id": -100123, "type": "supergroup", "title": "Walkers"}
    assert parse_update(group).display_name == "Walkers"
    assert parse_update({"update_id": 4, "edited_message": {}}) is None
