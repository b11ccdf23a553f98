"""Concurrent "message anyone" calls race real connections: one client, one thread."""

import threading

import pytest
import sqlalchemy as sa

from pawline.db import db
from pawline.doctor import run_checks
from pawline.models import Client, ClientContact, Message, Thread
from tests import factories

pytestmark = pytest.mark.concurrency


def race(n: int, action):
    barrier = threading.Barrier(n)
    errors = []

    def run(i):
        try:
            barrier.wait()
            action(i)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors, errors


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_concurrent_message_anyone_to_one_new_phone_gives_one_client_and_thread(app, auth):
    with app.app_context():
        org = factories.org()
        factories.number(org.id, "+14155550101", "pool")
    clients = []
    for _ in range(12):
        client = app.test_client()
        client.post("/sign-in", data={"email": org.staff_email, "password": factories.PASSWORD})
        clients.append(client)

    def send(i):
        response = clients[i].post("/threads", data={"phone": "(415) 555-0177",
                                                     "body": f"hello {i}"})
        assert response.status_code == 302, response.get_data(as_text=True)

    race(len(clients), send)
    with app.app_context():
        assert (count(Client), count(ClientContact), count(Thread)) == (1, 1, 1)
        assert count(Message) == 12
        assert all(r.holds for r in run_checks(db.session.connection()))


def test_one_form_submitted_many_times_at_once_is_stored_and_sent_once(app):
    with app.app_context():
        org = factories.org()
        factories.number(org.id, "+14155550101", "pool")
        thread_id = factories.client(org.id, "Ada", "+14155552671")
        from pawline.threads import find_or_create_thread
        thread_id = find_or_create_thread(org.id, thread_id)
        db.session.commit()
    clients = []
    for _ in range(8):
        client = app.test_client()
        client.post("/sign-in", data={"email": org.staff_email, "password": factories.PASSWORD})
        clients.append(client)

    def send(i):
        response = clients[i].post(f"/threads/{thread_id}/messages",
                                   data={"body": "On my way", "client_token": "same-form"})
        assert response.status_code == 302

    race(len(clients), send)
    with app.app_context():
        messages = db.session.scalars(sa.select(Message)).all()
        assert len(messages) == 1 and messages[0].status == "sent"
