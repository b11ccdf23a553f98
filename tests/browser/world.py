"""One organization with something on every page, for the browser tests that walk them all:
numbers of every class (one quarantined), an active sitter on a current booking, a client
thread with an answer, an unread guest thread, a closed one, and their audit trail."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from pawline import bookings, numbers, outbound, sitters, threads
from pawline.db import db
from pawline.inbound import receive_sms
from pawline.models import Thread
from tests import factories

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}


@dataclass(frozen=True)
class World:
    org: object
    thread: int
    client: int
    guest_thread: int


def seed_world(app) -> World:
    now = datetime.now(UTC)
    with app.app_context():
        org = factories.org("Happy Paws")
        factories.number(org.id, "+14155550100", "front_desk")
        factories.number(org.id, "+14155550101", "pool")
        factories.number(org.id, "+14155550142", "sitter")
        spare = factories.number(org.id, "+14155550103", "pool")
        numbers.quarantine_number(org.id, spare, None, "30", None, "Texts for a stranger")
        sitter_id = sitters.create_sitter(org.id, "Sam Rivers", "+14155550199",
                                          email=org.sitter_email).id
        sitters.activate_sitter(org.id, sitter_id, None)
        client_id = factories.client(org.id, "Ada Lovelace", "+14155552671")
        receive_sms("+14155550101", "+14155552671", "Is Biscuit okay? Link: https://example.com/a",
                    "SMada1")
        thread_id = db.session.scalar(sa.select(Thread.id).where(Thread.client_id == client_id))
        outbound.queue_message(org.id, thread_id, "All good, she ate her dinner.", None, "console")
        booking = bookings.create_booking(org.id, client_id, sitter_id,
                                          now - timedelta(hours=1), now + timedelta(hours=3))
        bookings.confirm_booking(org.id, booking.id)
        receive_sms("+14155550101", "+14155557001", "Do you walk dogs on Sundays?", "SMguest")
        receive_sms("+14155550101", "+14155557002", "Thanks, all sorted", "SMdone")
        guest_thread, done_thread = db.session.scalars(
            sa.select(Thread.id).where(Thread.id != thread_id).order_by(Thread.id)).all()
        threads.close_thread(org.id, done_thread, None)
        db.session.commit()
    return World(org, thread_id, client_id, guest_thread)
