"""Channels in the pages: the mark on each message, the reply box's picker, the owners' channel
list, the simulator's channel picker, and the thread page's cost with many channels."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from pawline import channel_accounts, channels
from pawline.channel_models import ClientIdentity
from pawline.db import db
from pawline.inbound import receive_sms
from pawline.models import Message, Thread
from tests import factories

POOL = "+14155550100"
PHONE = "+14155552671"
BOT = "777000111"


@pytest.fixture
def world(app):
    """Ada texted, then wrote on WhatsApp and on Telegram (linked to her phone)."""
    with app.app_context():
        org = factories.org()
        factories.number(org.id, POOL)
        receive_sms(POOL, PHONE, "by text", "SMview1")
        receive_sms(f"whatsapp:{POOL}", f"whatsapp:{PHONE}", "on whatsapp", "SMview2",
                    now=datetime.now(UTC))
        channels.link_phone(org.id, "telegram", "5550001", PHONE)
        channel_accounts.save(org.id, "telegram", BOT, "Paws bot", secret="1:x")
        channels.receive(org.id, "telegram", "5550001", "on telegram", provider="telegram",
                         provider_sid=f"{BOT}:1", to_address=BOT)
        org.thread_id = db.session.scalar(sa.select(Thread.id))
    return org


def test_each_message_shows_its_channel_and_the_picker_defaults_to_the_last_one(
        client, auth, world):
    auth.sign_in(world.staff_email)
    page = client.get(f"/threads/{world.thread_id}").get_data(as_text=True)

    for name in ("SMS", "WhatsApp", "Telegram"):
        assert f'title="Channel: {name}"' in page
    picker = page.split('id="reply-channel"', 1)[1].split("</select>", 1)[0]
    assert [o.split('"', 1)[0] for o in picker.split('value="')[1:]] == [
        "sms", "whatsapp", "telegram"]
    assert '<option value="telegram" selected>' in picker
    assert "last wrote on Telegram" in page
    assert "Wrote on Telegram" in page


def test_a_reply_goes_on_the_picked_channel(app, client, auth, world, monkeypatch):
    channels.load_senders()  # then stand in for the real Telegram sender, restored after
    monkeypatch.setitem(channels._factories, "telegram", lambda config, account: None)
    auth.sign_in(world.staff_email)

    for channel in ("sms", "whatsapp", "telegram"):
        response = client.post(f"/threads/{world.thread_id}/messages",
                               data={"body": f"on {channel}", "channel": channel})
        assert response.status_code == 302, channel

    with app.app_context():
        sent = dict(db.session.execute(sa.select(Message.body, Message.channel)
                                       .where(Message.direction == "outbound")).all())
    assert sent == {"on sms": "sms", "on whatsapp": "whatsapp", "on telegram": "telegram"}


def picked(page: str) -> str:
    picker = page.split('id="reply-channel"', 1)[1].split("</select>", 1)[0]
    return picker.split(" selected>", 1)[0].rsplit('value="', 1)[1].split('"', 1)[0]


def test_the_reply_box_keeps_the_channel_just_used_and_a_reload_defaults_again(
        client, auth, world):
    auth.sign_in(world.staff_email)
    thread = f"/threads/{world.thread_id}"
    assert picked(client.get(thread).get_data(as_text=True)) == "telegram"  # she wrote last

    sent = client.post(f"{thread}/messages", data={"body": "by text", "channel": "sms"},
                       headers={"HX-Request": "true"})
    assert sent.status_code == 200
    assert picked(sent.get_data(as_text=True)) == "sms"  # the next reply goes on SMS too

    assert picked(client.get(thread).get_data(as_text=True)) == "telegram"


def test_a_channel_the_client_does_not_have_is_a_form_error(app, client, auth, world):
    auth.sign_in(world.staff_email)
    for channel in ("messenger", "fax"):
        response = client.post(f"/threads/{world.thread_id}/messages",
                               data={"body": "hi", "channel": channel}, headers={"HX-Request": "1"})
        assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
            Message.direction == "outbound")) == 0


def test_a_client_on_one_channel_gets_no_picker(app, client, auth):
    with app.app_context():
        org = factories.org()
        got = channels.receive(org.id, "telegram", "42", "hi", provider="telegram",
                               provider_sid="1:1", to_address=BOT)
    auth.sign_in(org.staff_email)
    page = client.get(f"/threads/{got.thread_id}").get_data(as_text=True)
    assert 'id="reply-channel"' not in page
    assert '<input type="hidden" name="channel" value="telegram">' in page
    # the organization has no number, which a client without a phone never needs
    assert "No number can send" not in page and 'id="route-hint"' not in page
    assert "last wrote on Telegram" in page


def test_the_thread_costs_the_same_statements_for_few_or_many_messages_on_every_channel(
        app, client, auth, world, statements):
    auth.sign_in(world.staff_email)

    def cost() -> int:
        statements.clear()
        assert client.get(f"/threads/{world.thread_id}").status_code == 200
        return len(statements)

    few = cost()
    with app.app_context():
        for n in range(12):
            receive_sms(POOL, PHONE, f"again {n}", f"SMmore{n}")
            receive_sms(f"whatsapp:{POOL}", f"whatsapp:{PHONE}", f"wa {n}", f"SMwa{n}")
            channels.receive(world.id, "telegram", "5550001", f"tg {n}", provider="telegram",
                             provider_sid=f"{BOT}:{n + 10}", to_address=BOT)
            channels.receive(world.id, "webchat", f"visitor_{n:016d}", "hi", provider="webchat",
                             provider_sid=f"w{n}", to_address="key")
    assert cost() == few
    statements.clear()
    assert client.get("/inbox").status_code == 200


# --- the owners' channel list ---------------------------------------------------------------

def test_owners_see_every_channel_and_its_state(app, client, auth, world):
    auth.sign_in(world.owner_email)
    page = client.get("/settings/channels").get_data(as_text=True)

    for channel in channels.CHANNELS:
        assert f'id="channel-{channel}"' in page
    telegram = page.split('id="channel-telegram"', 1)[1].split("</tr>", 1)[0]
    assert "Connected" in telegram and "Paws bot" in telegram
    messenger = page.split('id="channel-messenger"', 1)[1].split("</tr>", 1)[0]
    assert "Not set up" in messenger


@pytest.mark.parametrize("who", ["staff_email", "sitter_email"])
def test_the_channel_list_is_for_owners_only(client, auth, world, who):
    auth.sign_in(getattr(world, who))
    assert client.get("/settings/channels").status_code == 404


def test_another_organizations_accounts_are_not_listed(app, client, auth, world):
    with app.app_context():
        mine = factories.org()
    auth.sign_in(mine.owner_email)
    page = client.get("/settings/channels").get_data(as_text=True)
    assert "Paws bot" not in page and BOT not in page


# --- the simulator --------------------------------------------------------------------------

@pytest.mark.parametrize("channel", channels.CHANNELS)
def test_the_simulator_writes_on_each_channel_into_the_phones_thread(app, client, auth,
                                                                     channel):
    with app.app_context():
        org = factories.org()
        factories.number(org.id, POOL)
        thread_id = receive_sms(POOL, PHONE, "by text", "SMsim1").thread_id
    auth.sign_in(org.staff_email)

    response = client.post("/simulator", data={"channel": channel, "from_phone": PHONE,
                                               "to": POOL, "body": f"on {channel}"})

    assert response.status_code == 200
    with app.app_context():
        message = db.session.scalar(sa.select(Message).where(Message.body == f"on {channel}"))
        assert (message.channel, message.thread_id) == (channel, thread_id)
        identities = db.session.scalar(sa.select(sa.func.count()).select_from(ClientIdentity))
    assert identities == (0 if channel in ("sms", "whatsapp") else 1)


def test_the_client_page_lists_the_clients_other_channels(app, client, auth, world):
    with app.app_context():
        client_id = db.session.scalar(sa.select(Thread.client_id))
    auth.sign_in(world.staff_email)
    page = client.get(f"/clients/{client_id}").get_data(as_text=True)
    identities = page.split('id="identities"', 1)[1].split("</section>", 1)[0]
    assert 'title="Channel: Telegram"' in identities and "5550001" in identities
