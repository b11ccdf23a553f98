"""Every route of the URL map, fed Hypothesis' values in every field: no 500, nothing half-written.

Forms, query strings, URL ids, the Twilio webhooks (signed, so content is what is tested),
the booking webhook (signed JSON) and Telegram's (JSON with its secret token header) get
arbitrary Unicode, control bytes, huge and empty values, numbers past a bigint, dates in year
9999 and values of the wrong type. No answer is a 500. A refused request (4xx) leaves every
table as it was, but for what a route writes on purpose when it refuses (a dead letter, a
counted failed sign-in); after a request that wrote, the doctor's full invariant checks hold.

Two tests: every run sends each of a few known-nasty values alone in each field of each route
(what broke PostgreSQL or a conversion before); Hypothesis then draws FUZZ_EXAMPLES requests per
route (default 15: with the sweep about 40 s for all routes, the size CI runs). Search harder
locally with FUZZ_EXAMPLES=300 (about 7 minutes).
"""

import os
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pawline import bookings, channel_accounts, saved_replies, scheduled, sitters, webchat
from pawline.clock import utcnow
from pawline.db import db
from pawline.doctor import run_checks
from pawline.inbound import receive_sms
from pawline.media import signed_media_token
from pawline.models import ClientContact, Message, Organization
from pawline.outbound import queue_message
from tests import factories, fuzzing, photos, telegram_world
from tests.booking_webhook import post as post_booking
from tests.meta_signing import post as post_meta
from tests.telegram_world import post_update
from tests.twilio_signing import post_signed

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
POOL = "+14155550100"


@pytest.fixture
def world(app):
    """One organization with a record of every kind a URL can name."""
    with app.app_context():
        org = factories.org()
        factories.number(org.id, POOL)
        number_id = factories.number(org.id, "+14155550101")
        inbound = receive_sms(POOL, "+14155550123", "Is Rex okay?", "SMfuzzworld")
        known_client_id = factories.client(org.id, "Ada Lovelace", "+14155550124")
        sitter_id = sitters.create_sitter(org.id, "Sam", "+14155553001").id
        now = utcnow()
        booking = bookings.create_booking(org.id, inbound.client_id, sitter_id,
                                          now + timedelta(days=1), now + timedelta(days=2))
        queued = queue_message(org.id, inbound.thread_id, "On my way", None, "twilio")
        sent = db.session.get(Message, queued.message_id)
        sent.provider_sid, sent.status = "SMfuzzoutbound1", "sent"
        db.session.commit()
        [attachment_id] = factories.mms(POOL, "+14155550123", "image/png").attachment_ids
        factories.fetched(attachment_id, photos.png(), "image/png")
        channel_accounts.save(org.id, "messenger", fuzzing.META_PAGE, "Happy Paws",
                              secret="EAAG-fuzz-token")
        scheduled_id = scheduled.schedule_message(
            org.id, inbound.thread_id, "Walk at 9", now + timedelta(days=1), None)
        saved_reply_id = saved_replies.create_saved_reply(
            org.id, "Running late", "Hi {client_first_name}, running late!", None)
        telegram_secret = telegram_world.connect(org.id)
        return SimpleNamespace(
            **vars(org), pool=POOL, telegram_secret=telegram_secret, number_id=number_id,
            thread_id=inbound.thread_id,
            client_id=inbound.client_id, known_client_id=known_client_id,
            sitter_id=sitter_id, booking_id=booking.id, message_id=queued.message_id,
            outbound_sid="SMfuzzoutbound1", attachment_id=attachment_id,
            token=signed_media_token(attachment_id, app.config["SECRET_KEY"]),
            saved_reply_id=saved_reply_id, scheduled_id=scheduled_id,
            widget_key=webchat.turn_on(org.id, None).account_id,
            contact_id=db.session.scalar(sa.select(ClientContact.id).where(
                ClientContact.client_id == inbound.client_id)),
            secret=db.session.get(Organization, org.id).webhook_secret)


def routes(app):
    """{"METHOD endpoint": rule} for every route the app serves."""
    return {f"{method} {rule.endpoint}": rule for rule in app.url_map.iter_rules()
            if rule.endpoint != "static" for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_route_is_fuzzed(app):
    assert set(routes(app)) == set(fuzzing.ROUTES)


def send(client, key: str, url: str, values: dict, world):
    """The request as a browser, Twilio or the booking system would send it."""
    if key == fuzzing.JSON_ROUTE:
        return post_booking(client, world, fuzzing.encoded({"org": world.slug, **values}),
                            slug=url.rsplit("/", 1)[1])
    if key == fuzzing.TELEGRAM_ROUTE:
        return post_update(client, url.rsplit("/", 1)[1], fuzzing.encoded(values),
                           world.telegram_secret)
    if key == fuzzing.META_ROUTE:
        return post_meta(client, fuzzing.meta_payload(values))
    if key.startswith("POST webhooks."):
        return post_signed(client, url, values)
    if key.startswith("GET "):
        return client.get(url, query_string=values)
    return client.post(url, data=values)


def exchange(app, client, world, key: str, ids: dict, values: dict) -> None:
    """Send one request; fail on a 500, on a refusal that wrote, on a broken invariant."""
    url = routes(app)[key].build(ids, append_unknown=False)[1]
    with app.app_context():
        before = fuzzing.fingerprint()
        db.session.remove()

    response = send(client, key, url, values, world)

    sent = f"{key} {url} {values!r:.300}"
    assert response.status_code < 500, f"{sent}: {response.get_data(as_text=True)[:300]}"
    with app.app_context():
        after = fuzzing.fingerprint()
        changed = {name for name in after if after[name] != before[name]}
        if response.status_code >= 400:
            allowed = fuzzing.WRITES_WHEN_REFUSED.get(key, set())
            assert changed <= allowed, f"{sent}: {response.status_code} changed {changed}"
        if changed:
            assert broken_invariants() == [], sent
        db.session.remove()


def broken_invariants() -> list[str]:
    return [result.check.name for result in run_checks(db.session.connection(), full=True)
            if not result.holds]


def sign_in_for(client, auth, world, key: str) -> None:
    if not getattr(client, "signed_in", False):
        auth.sign_in(getattr(world, f"{fuzzing.SIGNED_IN_AS.get(key, 'owner')}_email"))
        client.signed_in = True


@pytest.mark.parametrize("key", sorted(fuzzing.ROUTES))
def test_each_nasty_value_alone_in_each_field(app, client, auth, world, key):
    """The values that broke PostgreSQL or a conversion before, each in each field, each run."""
    sign_in_for(client, auth, world, key)
    ids = {arg: getattr(world, arg) for arg in routes(app)[key].arguments}
    nasty = fuzzing.NASTY_JSON if key in fuzzing.JSON_ROUTES else fuzzing.NASTY
    for field in [*fuzzing.ROUTES[key], "zz-unknown"]:
        for value in nasty:
            exchange(app, client, world, key, ids,
                     {**fuzzing.first_plausible(key, world), field: value})
    for arg in ids:
        exchange(app, client, world, key, {**ids, arg: 10**22},
                 fuzzing.first_plausible(key, world))


@pytest.mark.parametrize("key", sorted(fuzzing.ROUTES))
@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_no_value_in_any_field_is_a_500_or_leaves_a_half_write(app, client, auth, world, key,
                                                              data):
    sign_in_for(client, auth, world, key)
    ids = data.draw(fuzzing.path_ids(routes(app)[key], world), label="ids")
    values = data.draw(fuzzing.request_values(key, world), label="values")
    exchange(app, client, world, key, ids, values)
