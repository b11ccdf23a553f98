"""Meta's standard messaging window on Messenger and Instagram: a free-form reply only within 24
hours of the person's last message on that channel, refused before anything is stored."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from pawline import channel_accounts, channels, clients
from pawline.clock import utcnow
from pawline.db import db
from pawline.errors import DomainError
from pawline.models import Message
from pawline.outbound import queue_message
from tests import factories
from tests.meta_signing import mid

ACCOUNTS = {"messenger": "104729381927364", "instagram": "17841400000000001"}
PSID = "6873450192837465"


@pytest.fixture
def org(ctx):
    org = factories.org()
    for channel, account_id in ACCOUNTS.items():
        channel_accounts.save(org.id, channel, account_id, "Happy Paws", secret="EAAG-page")
    return org


def wrote(org, channel: str, hours_ago: float, address: str = PSID):
    return channels.receive(org.id, channel, address, "Hello?", provider="meta",
                            provider_sid=mid(), to_address=ACCOUNTS[channel],
                            now=utcnow() - timedelta(hours=hours_ago))


def outbound() -> list[Message]:
    return db.session.scalars(sa.select(Message).where(Message.direction == "outbound")).all()


@pytest.mark.parametrize("channel", ["messenger", "instagram"])
def test_a_reply_within_24_hours_goes_from_the_organizations_account(org, channel):
    result = wrote(org, channel, 23.5)

    queued = queue_message(org.id, result.thread_id, "Rex is fine", org.staff_user_id, "console")

    reply = db.session.get(Message, queued.message_id)
    assert (reply.channel, reply.provider) == (channel, "meta")
    assert (reply.from_e164, reply.to_e164, reply.number_id) == (ACCOUNTS[channel], PSID, None)
    assert reply.routing_trace["channel"] == channel


@pytest.mark.parametrize("channel", ["messenger", "instagram"])
def test_a_reply_after_24_hours_is_refused_before_anything_is_stored(org, channel):
    result = wrote(org, channel, 24.1)

    with pytest.raises(DomainError) as refused:
        queue_message(org.id, result.thread_id, "Sorry for the wait", org.staff_user_id,
                      "console")

    name = channels.label(channel)
    assert refused.value.message == (f"{name} replies are only allowed within 24 hours of the "
                                     "client's last message.")
    assert outbound() == []


def test_with_a_phone_the_refusal_suggests_sms_and_sms_still_goes(org):
    result = wrote(org, "messenger", 30)
    clients.add_contact(org.id, result.client_id, "+14155552671", "mobile")

    with pytest.raises(DomainError, match="send an SMS instead"):
        queue_message(org.id, result.thread_id, "Hi", org.staff_user_id, "console",
                      channel="messenger")
    assert outbound() == []


def test_each_channel_keeps_its_own_window(org):
    old = wrote(org, "messenger", 30)
    recent = wrote(org, "instagram", 1, address="1234567890123456")
    clients.merge_client(org.id, recent.client_id, old.client_id, None)  # one person, two apps

    queued = queue_message(org.id, old.thread_id, "Over here", org.staff_user_id, "console")
    assert db.session.get(Message, queued.message_id).channel == "instagram"  # last written on
    with pytest.raises(DomainError, match="Messenger replies are only allowed"):
        queue_message(org.id, old.thread_id, "And here", org.staff_user_id, "console",
                      channel="messenger")
