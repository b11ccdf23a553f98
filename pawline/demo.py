"""The demo organization: enough data to try every page. Seeding twice changes nothing."""

import sqlalchemy as sa

from pawline import accounts, numbers
from pawline.db import db
from pawline.models import Organization

SLUG = "demo"
PASSWORD = "pawline-demo"
SIGN_INS = [
    ("owner", "owner@happypaws.example"),
    ("staff", "staff@happypaws.example"),
    ("sitter", "sam@happypaws.example"),
]
NUMBERS = [
    ("+14155550100", "front_desk"),
    ("+14155550101", "pool"),
    ("+14155550102", "pool"),
    ("+14155550103", "pool"),
    ("+14155550110", "sitter"),
    ("+14155550111", "sitter"),
]


def seed() -> bool:
    """Create the demo organization unless it exists; answer whether it was created."""
    if db.session.scalar(sa.select(Organization.id).where(Organization.slug == SLUG)):
        return False
    org = accounts.register_org("Happy Paws Pet Sitting", SIGN_INS[0][1], PASSWORD, slug=SLUG)
    for role, email in SIGN_INS[1:]:
        accounts.add_user(SLUG, email, PASSWORD, role)
    for e164, number_class in NUMBERS:
        numbers.add_number(org.id, e164, number_class)
    return True
