"""The audit trail and timeline events read as sentences: names, local times, nothing raw."""

import html as html_text
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from pawline import accounts, bookings, clients, numbers, people, sitters, threads
from pawline.db import db
from pawline.inbound import receive_sms
from pawline.models import Thread, User
from pawline.sentences import event_sentence
from tests import factories

NEW_YORK = ZoneInfo("America/New_York")
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


@pytest.fixture
def org(app):
    """An organization whose trail holds one event of each kind people cause."""
    with app.app_context():
        org = factories.org()
        owner = db.session.scalar(sa.select(User).where(User.email == org.owner_email))
        people.set_display_name(org.id, owner.id, "Pat")
        org.owner_id = owner.id
        front = factories.number(org.id, "+14155550100", "front_desk")
        pool = factories.number(org.id, "+14155550103", "pool")
        factories.number(org.id, "+14155550110", "sitter")
        factories.number(org.id, "+14155550104", "pool")
        now = datetime.now(UTC)
        numbers.quarantine_number(org.id, pool, owner.id, "30", None, "Texts for someone else",
                                  now=now - timedelta(days=7))
        numbers.restore_number(org.id, pool, owner.id, True, "Checked: texts stopped", now=now)
        numbers.set_front_desk(org.id, pool, owner.id)
        del front
        sam = sitters.create_sitter(org.id, "Sam", "+14155553001", actor_user_id=owner.id)
        sitters.activate_sitter(org.id, sam.id, owner.id)
        ada = factories.client(org.id, "Ada", "+14155552671")
        booking = bookings.create_booking(org.id, ada, sam.id, now + timedelta(days=1),
                                          now + timedelta(days=1, hours=2), owner.id)
        bookings.confirm_booking(org.id, booking.id, owner.id)
        bookings.cancel_booking(org.id, booking.id, owner.id)
        sitters.deactivate_sitter(org.id, sam.id, owner.id)
        receive_sms("+14155550104", "+14155557001", "hello", "SMaudit1")
        guest = db.session.scalar(sa.select(Thread.client_id).where(Thread.client_id != ada))
        clients.merge_client(org.id, guest, ada, owner.id)
        accounts.change_role(org.staff_email, "owner", owner.id)
        return org


def visible_text(html: str) -> str:
    inline = re.sub(r"</?span[^>]*>", "", html)  # a span sits inside a sentence, not between words
    return html_text.unescape(re.sub(r"<[^>]+>", " ", inline))


def test_the_audit_page_reads_as_sentences_without_ids_phones_or_iso_times(client, auth, org):
    auth.sign_in(org.owner_email)
    html = client.get("/audit").get_data(as_text=True)
    text = visible_text(html)
    assert ("Pat restored (415) 555-0103 early, 23 days before its release date, because: "
            "Checked: texts stopped.") in text
    assert "Pat quarantined (415) 555-0103 for 30 days (until" in text
    assert "Pat made (415) 555-0103 the front desk; (415) 555-0100 joined the pool." in text
    assert "Pat booked Sam for Ada," in text and "Pat cancelled Ada's booking with Sam." in text
    assert "Pat deactivated Sam; (415) 555-0110 went into quarantine." in text
    assert "Pat merged (415) 555-7001 into Ada" in text
    assert re.search(r"Pat made \S+ owner \(was staff\)\.", text)
    assert not E164.search(html), E164.search(html)
    assert not ISO.search(html), ISO.search(html)
    assert not re.search(r"#\d", text) and "_id" not in text


def test_the_audit_page_costs_the_same_queries_for_few_or_many_events(app, client, auth, org,
                                                                     statements):
    auth.sign_in(org.owner_email)
    statements.clear()
    client.get("/audit")
    many = len(statements)
    statements.clear()
    client.get("/audit?entity=user")
    assert many <= len(statements) + 4  # one read per kind of name (sitters, bookings, ...)


def test_timeline_events_say_who_did_what_and_when_in_local_time():
    until = datetime(2026, 11, 24, 14, 0, tzinfo=UTC).isoformat()
    assert event_sentence("snoozed", f"Snoozed until {until}", "Kim", NEW_YORK) == (
        "Kim snoozed the conversation until Tue Nov 24, 9:00 AM.")
    assert event_sentence("closed", "Closed", "Kim", NEW_YORK) == "Kim closed the conversation."
    assert event_sentence("reopened", "Reopened by an inbound message", None, NEW_YORK) == (
        "The client wrote again; the conversation is open again.")
    assert event_sentence("merged", "Merged Guest (+14155557001) into Ada", None, NEW_YORK) == (
        "Merged (415) 555-7001 into Ada.")


def test_the_thread_shows_events_as_sentences_with_the_persons_name(app, client, auth, org):
    with app.app_context():
        thread_id = db.session.scalar(sa.select(Thread.id))
        threads.snooze_thread(org.id, thread_id, datetime.now(UTC) + timedelta(hours=1),
                              org.owner_id)
        threads.close_thread(org.id, thread_id, org.owner_id)
    auth.sign_in(org.owner_email)
    html = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    timeline = html.split('id="timeline"', 1)[1].split(">", 1)[1].split("</ol>", 1)[0]
    assert "Pat snoozed the conversation until" in timeline
    assert "Pat closed the conversation." in timeline
    assert not ISO.search(visible_text(timeline))
