"""Find-or-create of clients and threads, in one connection (the races are in test_concurrency)."""

import sqlalchemy as sa

from pawline.db import db
from pawline.models import Client, ClientContact, Thread
from pawline.threads import find_or_create_client_by_phone, find_or_create_thread
from tests import factories


def test_a_new_phone_becomes_a_guest_client_once(ctx):
    org = factories.org()
    first, created = find_or_create_client_by_phone(org.id, "+14155550199")
    again, created_again = find_or_create_client_by_phone(org.id, "+14155550199")
    assert (created, created_again) == (True, False)
    assert first == again
    assert db.session.get(Client, first).name == "Guest (+14155550199)"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClientContact)) == 1


def test_the_same_phone_in_another_org_is_another_client(ctx):
    a, b = factories.org(), factories.org()
    in_a, _ = find_or_create_client_by_phone(a.id, "+14155550199")
    in_b, _ = find_or_create_client_by_phone(b.id, "+14155550199")
    assert in_a != in_b


def test_a_client_has_one_thread_however_often_asked(ctx):
    org = factories.org()
    client_id = factories.client(org.id)
    ids = {find_or_create_thread(org.id, client_id) for _ in range(5)}
    assert len(ids) == 1
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Thread))
    assert count == 1
