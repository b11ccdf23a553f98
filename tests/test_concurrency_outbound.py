"""Concurrent "message anyone" calls race real connections: one client, one thread."""

import pytest
import sqlalchemy as sa

from pawline.db import db
from pawline.doctor import run_checks
from pawline.models import Client, ClientContact, Message, Thread
from pawline.threads import find_or_create_thread
from tests import factories
from tests.concurrency import race_ok
from tests.jobs import work_off

pytestmark = pytest.mark.concurrency


def signed_in_clients(app, email: str, n: int) -> list:
    """`n` test clients, each with its own signed-in session."""
    clients = [app.test_client() for _ in range(n)]
    for client in clients:
        client.post("/sign-in", data={"email": email, "password": factories.PASSWORD})
    return clients


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_concurrent_message_anyone_to_one_new_phone_gives_one_client_and_thread(app):
    with app.app_context():
        org = factories.org()
        factories.number(org.id, "+14155550101", "pool")
    clients = signed_in_clients(app, org.staff_email, 12)

    def send(client):
        response = client.post("/threads", data={"phone": "(415) 555-0177",
                                                 "body": f"hello {id(client)}"})
        assert response.status_code == 302, response.get_data(as_text=True)

    race_ok(None, [lambda c=c: send(c) for c in clients])
    with app.app_context():
        assert (count(Client), count(ClientContact), count(Thread)) == (1, 1, 1)
        assert count(Message) == 12
        assert all(r.holds for r in run_checks(db.session.connection(), full=True))


def test_one_form_submitted_many_times_at_once_is_stored_and_sent_once(app):
    with app.app_context():
        org = factories.org()
        factories.number(org.id, "+14155550101", "pool")
        thread_id = find_or_create_thread(org.id, factories.client(org.id, "Ada", "+14155552671"))
        db.session.commit()
    clients = signed_in_clients(app, org.staff_email, 8)

    def send(client):
        response = client.post(f"/threads/{thread_id}/messages",
                                   data={"body": "On my way", "client_token": "same-form"})
        assert response.status_code == 302

    race_ok(None, [lambda c=c: send(c) for c in clients])
    with app.app_context():
        messages = db.session.scalars(sa.select(Message)).all()
        assert len(messages) == 1 and messages[0].status == "queued"
        assert db.session.scalar(sa.text("SELECT count(*) FROM procrastinate_jobs")) == 1
    work_off(app)  # a real worker
    with app.app_context():
        message = db.session.scalars(sa.select(Message)).one()
        assert (message.status, message.attempts) == ("sent", 1)
