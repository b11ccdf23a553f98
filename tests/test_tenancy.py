"""Every organization sees only itself: each id-bearing route answers 404 for another org's id."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from pawline import bookings, notes, saved_replies, scheduled, sitters, webchat
from pawline.clock import utcnow
from pawline.db import db
from pawline.inbound import receive_sms
from pawline.media import signed_media_token
from pawline.models import ClientContact, Message, MessageNumber, Thread
from pawline.outbound import queue_message
from tests import factories, photos


@pytest.fixture
def other_org_ids(app):
    """One record of every kind, all in organization B."""
    with app.app_context():
        org = factories.org()
        factories.number(org.id, "+14155550101", "pool")
        result = receive_sms("+14155550101", "+14155552671", "private", "SMtenancy")
        queued = queue_message(org.id, result.thread_id, "reply", None, "console")
        sitter = sitters.create_sitter(org.id, "Sam", "+14155553001")
        now = utcnow()
        booking = bookings.create_booking(org.id, result.client_id, sitter.id, now,
                                          now + timedelta(days=1))
        [attachment_id] = factories.mms("+14155550101", "+14155552671", "image/png").attachment_ids
        factories.fetched(attachment_id, photos.png(), "image/png")
        saved_reply_id = saved_replies.create_saved_reply(org.id, "Hello", "Hi there", None)
        notes.add_note(org.id, result.thread_id, org.owner_user_id, "private note")
        scheduled_id = scheduled.schedule_message(org.id, result.thread_id, "Later",
                                                  now + timedelta(days=1), None)
        return {
            "saved_reply_id": saved_reply_id, "scheduled_id": scheduled_id,
            "thread_id": result.thread_id, "client_id": result.client_id,
            "message_id": queued.message_id, "sitter_id": sitter.id, "booking_id": booking.id,
            "contact_id": db.session.scalar(sa.select(ClientContact.id)),
            "number_id": db.session.scalar(sa.select(MessageNumber.id)),
            "attachment_id": attachment_id,
            # B's photo by the URL Twilio would use: no public URL serves a client's file
            "token": signed_media_token(attachment_id, app.config["SECRET_KEY"]),
        }


# Signed webhooks name their organization in the URL and prove themselves by its secret, not by
# a session: another organization's secret is a 403 (tests/test_booking_webhook.py,
# tests/test_telegram_webhook.py). The web chat widget's routes are public by design, named by
# the widget's public key: a visitor sees only their own messages on that key's organization
# (below, and tests/test_widget.py).
SIGNED_WEBHOOKS = ("booking_webhook.", "telegram_webhook.", "widget.")


def id_routes(app):
    """(method, rule) for every route whose URL carries an id."""
    for rule in app.url_map.iter_rules():
        if (rule.arguments and rule.endpoint != "static"
                and not rule.endpoint.startswith(SIGNED_WEBHOOKS)):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, rule


def test_every_id_route_is_covered(app, other_org_ids):
    names = {arg for _, rule in id_routes(app) for arg in rule.arguments}
    assert names <= set(other_org_ids), names - set(other_org_ids)
    assert len(list(id_routes(app))) >= 15


@pytest.mark.parametrize("role", ["owner", "staff"])
def test_another_organizations_ids_answer_404(app, client, auth, other_org_ids, role):
    with app.app_context():
        mine = factories.org()
    auth.sign_in(getattr(mine, f"{role}_email"))
    answers = {}
    for method, rule in id_routes(app):
        url = rule.build({arg: other_org_ids[arg] for arg in rule.arguments})[1]
        response = client.open(url, method=method, data={"body": "x", "name": "x"})
        answers[f"{method} {url}"] = response.status_code
    assert {k: v for k, v in answers.items() if v != 404} == {}
    with app.app_context():  # and nothing of B changed
        assert db.session.scalar(sa.select(Thread.status)) == "open"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 3


def test_the_tenancy_hook_scopes_orm_queries_to_the_signed_in_org(ctx, other_org_ids):
    from pawline.tenancy import scope_session

    mine = factories.org()
    scope_session(db.session, mine.id)
    assert db.session.scalars(sa.select(Thread)).all() == []
    assert db.session.get(Thread, other_org_ids["thread_id"]) is None


def test_the_answer_to_help_and_a_phones_consent_are_each_organizations_own(
        app, client, auth, other_org_ids):
    from pawline import booking_messages, consent

    with app.app_context():
        theirs = db.session.scalar(sa.select(Thread.org_id))
        consent.set_help_reply(theirs, "Their secret line: 555-0000", None)
        receive_sms("+14155550101", "+14155552671", "STOP", "SMtenancystop")
        mine = factories.org()
        factories.number(mine.id, "+14155550102", "pool")
        mine_thread = receive_sms("+14155550102", "+14155552671", "hi", "SMmine").thread_id
    auth.sign_in(mine.owner_email)

    assert "Their secret line" not in client.get("/settings/help-reply").get_data(as_text=True)
    with app.app_context():
        booking_messages.set_setting(theirs, "reminder", True, "Their secret reminder", 60, None)
    assert "Their secret reminder" not in client.get("/settings/booking-messages").get_data(
        as_text=True)
    assert "opted out" not in client.get(f"/threads/{mine_thread}").get_data(as_text=True)
    assert client.post(f"/threads/{mine_thread}/messages",
                       data={"body": "Rex is fine"}).status_code == 302


def test_business_hours_and_the_after_hours_reply_are_each_organizations_own(
        app, client, auth, other_org_ids):
    from datetime import time

    from pawline import after_hours

    with app.app_context():
        theirs = db.session.scalar(sa.select(Thread.org_id))
        after_hours.save(theirs, {2: (time(7, 15), time(11, 45))}, "Their closed line", None)
        mine = factories.org()
    auth.sign_in(mine.owner_email)

    page = client.get("/settings/after-hours").get_data(as_text=True)
    client.post("/settings/after-hours", data={"day2": "", "text": "Ours"})

    assert "Their closed line" not in page and "07:15" not in page
    with app.app_context():
        assert after_hours.hours(theirs) == {2: (time(7, 15), time(11, 45))}
        assert after_hours.reply_text(theirs) == "Their closed line"
        assert after_hours.reply_text(mine.id) == "Ours"


def test_the_widget_shows_each_organization_only_its_own(app, client, auth):
    """A's owner sees A's widget key only; B's key never answers with A's visitor's messages,
    even to A's signed-in owner."""
    visitor = "tenancy-visitor-" + "t" * 20
    with app.app_context():
        mine, theirs = factories.org(), factories.org()
        my_key = webchat.turn_on(mine.id, None).account_id
        their_key = webchat.turn_on(theirs.id, None).account_id
    client.post(f"/widget/{my_key}/messages",
                data={"visitor": visitor, "message_id": "m" * 20, "body": "A's own"})
    auth.sign_in(mine.owner_email)

    page = client.get("/settings/channels/webchat").get_data(as_text=True)
    assert my_key in page and their_key not in page
    theirs_polled = client.get(f"/widget/{their_key}/messages", query_string={"visitor": visitor})
    assert theirs_polled.get_json()["messages"] == []
    mine_polled = client.get(f"/widget/{my_key}/messages", query_string={"visitor": visitor})
    assert [m["text"] for m in mine_polled.get_json()["messages"]] == ["A's own"]


def test_turning_a_widget_off_or_replacing_its_key_touches_only_ones_own(app, client, auth):
    with app.app_context():
        mine, theirs = factories.org(), factories.org()
        webchat.turn_on(mine.id, None)
        their_key = webchat.turn_on(theirs.id, None).account_id
    auth.sign_in(mine.owner_email)

    client.post("/settings/channels/webchat/key", data={"confirm": "y"})
    client.post("/settings/channels/webchat/off")

    with app.app_context():
        assert not webchat.is_on(webchat.account(mine.id))
        assert webchat.by_key(their_key).org_id == theirs.id  # on, with the same key
    assert client.get(f"/widget.js?key={their_key}").status_code == 200
    audit = client.get("/audit").get_data(as_text=True)
    assert "turned Web chat off" in audit and their_key not in audit


def test_channel_accounts_identities_and_channel_replies_are_each_organizations_own(
        app, client, auth, other_org_ids):
    from pawline import channel_accounts, channels

    with app.app_context():
        theirs = db.session.scalar(sa.select(Thread.org_id))
        channel_accounts.save(theirs, "telegram", "424242", "Their secret bot", secret="1:x")
        their_chat = channels.receive(theirs, "telegram", "5550001", "private chat",
                                      provider="telegram", provider_sid="424242:1",
                                      to_address="424242")
        mine = factories.org()
        my_chat = channels.receive(mine.id, "telegram", "5550001", "mine", provider="telegram",
                                   provider_sid="999:1", to_address="999")
    auth.sign_in(mine.owner_email)

    page = client.get("/settings/channels").get_data(as_text=True)
    assert "Their secret bot" not in page and "424242" not in page
    assert my_chat.client_id != their_chat.client_id  # the same chat id, another client (I15)
    assert client.post(f"/threads/{their_chat.thread_id}/messages",
                       data={"body": "hi", "channel": "telegram"}).status_code == 404
    assert "private chat" not in client.get(f"/threads/{my_chat.thread_id}").get_data(
        as_text=True)
