"""The demo organization: enough data to try every page. Seeding twice changes nothing."""

from datetime import timedelta

import sqlalchemy as sa

from pawline import accounts, bookings, clients, delivery, numbers, outbound, sitters
from pawline.clock import utcnow
from pawline.db import db
from pawline.inbound import receive_sms
from pawline.models import Organization
from pawline.providers import ConsoleProvider
from pawline.threads import close_thread

SLUG = "demo"
PASSWORD = "pawline-demo"
SIGN_INS = [
    ("owner", "owner@happypaws.example"),
    ("staff", "staff@happypaws.example"),
    ("sitter", "sam@happypaws.example"),
]
FRONT_DESK = "+14155550100"
NUMBERS = [
    (FRONT_DESK, "front_desk"),
    ("+14155550101", "pool"),
    ("+14155550102", "pool"),
    ("+14155550103", "pool"),
    ("+14155550104", "pool"),
    ("+14155550110", "sitter"),
    ("+14155550111", "sitter"),
]
CLIENTS = [
    ("Ada Lovelace", "+14155552671"),
    ("Grace Hopper", "+14155552672"),
    ("Alan Turing", "+14155552673"),
    ("Marie Curie", "+14155552674"),
    ("Katherine Johnson", "+14155552675"),
]
# (client phone, minutes ago, direction, text)
CONVERSATION = [
    ("+14155552671", 300, "in", "Hi! Just checking Biscuit had his evening walk?"),
    ("+14155552671", 290, "out", "He did: 40 minutes in the park, and he made a friend."),
    ("+14155552671", 12, "in", "Amazing, thank you! Can Sam give him his pill at 8?"),
    ("+14155552672", 95, "in", "Could we move Thursday's visit to 10am?"),
    ("+14155552673", 2880, "in", "Thanks for looking after Milo last week!"),
    ("+14155552673", 2870, "out", "Our pleasure, Milo was a star."),
    ("+14155559876", 30, "in", "Hello, do you have sitters free over Christmas?"),
    ("+14155552674", 600, "in", "Luna's food is in the top cupboard."),
]


def seed() -> bool:
    """Create the demo organization unless it exists; answer whether it was created."""
    if db.session.scalar(sa.select(Organization.id).where(Organization.slug == SLUG)):
        return False
    now = utcnow()
    org = accounts.register_org("Happy Paws Pet Sitting", SIGN_INS[0][1], PASSWORD, slug=SLUG)
    owner_id = accounts.authenticate(SIGN_INS[0][1], PASSWORD).id
    accounts.add_user(SLUG, SIGN_INS[1][1], PASSWORD, "staff")
    for e164, number_class in NUMBERS:
        numbers.add_number(org.id, e164, number_class)

    client_ids = {phone: clients.create_client(org.id, name, phone) for name, phone in CLIENTS}
    sam = sitters.create_sitter(org.id, "Sam Rivera", "+14155553001", SIGN_INS[2][1],
                                owner_id, password=PASSWORD)
    kim = sitters.create_sitter(org.id, "Kim Park", "+14155553002", None, owner_id)
    sitters.create_sitter(org.id, "Lee Chen", "+14155553003", None, owner_id)
    for sitter in (sam, kim):
        sitters.activate_sitter(org.id, sitter.id, owner_id, now)

    ada, grace, alan = (client_ids[CLIENTS[i][1]] for i in range(3))
    for client_id, sitter_id, start, days in ((ada, sam.id, -1, 3), (grace, kim.id, 6, 2),
                                              (alan, sam.id, -10, 3)):
        starts = now + timedelta(days=start)
        booking = bookings.create_booking(org.id, client_id, sitter_id, starts,
                                          starts + timedelta(days=days), owner_id)
        bookings.confirm_booking(org.id, booking.id, owner_id, now - timedelta(days=12))

    _converse(org.id, owner_id, now)
    numbers.quarantine_number(org.id, _number_id(org.id, "+14155550104"), owner_id, "30", None,
                              "Carrier reported spam complaints", now)
    return True


def _converse(org_id: int, owner_id: int, now) -> None:
    provider = ConsoleProvider()
    thread_of = {}
    for n, (phone, minutes, direction, text) in enumerate(CONVERSATION):
        at = now - timedelta(minutes=minutes)
        if direction == "in":
            to = thread_of.get(phone, (None, "+14155550101"))[1]
            result = receive_sms(to, phone, text, f"SMdemo{n:028d}", now=at)
            thread_of[phone] = (result.thread_id, to)
        else:
            queued = outbound.queue_message(org_id, thread_of[phone][0], text, owner_id,
                                            provider.name, now=at)
            delivery.attempt(queued.message_id, provider, now=at)
    close_thread(org_id, thread_of["+14155552673"][0], owner_id, now - timedelta(days=1))


def _number_id(org_id: int, e164: str) -> int:
    return next(row.id for row in numbers.list_numbers(org_id) if row.e164 == e164)
