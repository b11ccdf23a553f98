"""The app runs as a runtime role that owns nothing (docs/operations.md): everything the app does
works, and what only an owner or a superuser could do to I9 and I10 is refused.

A fresh database, migrated by the suite's own (superuser) role, which stands in for the migration
role; a new login role on the test server gets `grant-runtime-role`, and a second app connects as
it, like the production web and workers.
"""

import secrets
import uuid
from types import SimpleNamespace

import psycopg
import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.exc import DBAPIError

from pawline import clients, db_roles, outbound, sitters
from pawline.db import db
from pawline.inbound import receive_sms
from pawline.models import AuditEvent, Booking, Message, Organization, Thread
from pawline.threads import find_or_create_client_by_phone
from tests import factories
from tests.booking_webhook import payload as booking_payload
from tests.booking_webhook import post as post_booking
from tests.conftest import PASSWORD, make_app
from tests.jobs import work_off
from tests.twilio_signing import post_signed, sms_params

POOL, PHONE = "+14155550100", "+14155550123"


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture(scope="module")
def roles(make_database, server_url):
    """(owner app, runtime app, runtime role) on a fresh migrated database."""
    with psycopg.connect(_libpq(server_url), autocommit=True) as admin:
        may = admin.execute("SELECT rolsuper OR rolcreaterole FROM pg_roles "
                            "WHERE rolname = current_user").fetchone()[0]
        if not may:
            pytest.skip("needs a role that may create roles on the test server")
        role, password = f"pawline_runtime_{uuid.uuid4().hex[:8]}", secrets.token_hex(16)
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    url = make_database()
    owner = make_app(url)
    with owner.app_context():
        upgrade()
    result = owner.test_cli_runner().invoke(args=["grant-runtime-role", role])
    assert result.exit_code == 0, result.output
    runtime_url = sa.make_url(url).set(username=role, password=password)
    runtime = make_app(runtime_url.render_as_string(hide_password=False))
    yield SimpleNamespace(owner=owner, runtime=runtime, role=role, url=url)
    for app in (owner, runtime):
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {role}")  # its grants, so the role can go
    with psycopg.connect(_libpq(server_url), autocommit=True) as admin:
        admin.execute(f"DROP ROLE {role}")


@pytest.fixture(scope="module")
def org(roles):
    with roles.owner.app_context():
        made = factories.org()
        factories.number(made.id, POOL, "pool")
        made.secret = db.session.get(Organization, made.id).webhook_secret
        made.sitter_id = sitters.create_sitter(made.id, "Sam", factories.phone()).id
    return made


@pytest.fixture(scope="module")
def stored(roles):
    """An inbound message and a queued reply of an organization of their own, stored as the
    owner: rows for the runtime role's statements to touch, whichever tests ran before."""
    with roles.owner.app_context():
        other = factories.org()
        factories.number(other.id, "+14155550177", "pool")
        received = receive_sms("+14155550177", factories.phone(), "Hello", f"SM{'7' * 32}")
        outbound.queue_message(other.id, received.thread_id, "Hi there", None, "console")


def as_runtime(roles, statement: str):
    """Run one statement as the runtime role, rolled back whatever happens."""
    with roles.runtime.app_context(), db.engine.connect() as conn:
        try:
            return conn.execute(sa.text(statement))
        finally:
            conn.rollback()


def refused_as_runtime(roles, statement: str) -> str:
    with pytest.raises(DBAPIError) as caught:
        as_runtime(roles, statement)
    return caught.value.orig.sqlstate


def test_the_app_runs_as_the_runtime_role(roles, org):
    client = roles.runtime.test_client()
    with roles.runtime.app_context():
        assert db.session.scalar(sa.text("SELECT current_user")) == roles.role

    inbound = post_signed(client, "/webhooks/twilio/sms", sms_params(POOL, PHONE, "Is Rex ok?"))
    assert inbound.status_code == 200, inbound.get_data(as_text=True)
    client.post("/sign-in", data={"email": org.staff_email, "password": "wrong password"})
    signed_in = client.post("/sign-in", data={"email": org.staff_email, "password": PASSWORD})
    assert signed_in.status_code == 302
    with roles.runtime.app_context():
        thread_id = db.session.scalar(sa.select(Thread.id).where(Thread.org_id == org.id))
    reply = client.post(f"/threads/{thread_id}/messages", data={"body": "Rex is fine"})
    assert reply.status_code == 302, reply.get_data(as_text=True)

    work_off(roles.runtime)  # a real worker, as the runtime role: delivery and periodic jobs

    with roles.runtime.app_context():
        sent = db.session.scalar(sa.select(Message).where(Message.direction == "outbound"))
        assert (sent.status, sent.attempts) == ("sent", 1)
        status = post_signed(client, "/webhooks/twilio/status",
                             {"MessageSid": sent.provider_sid, "MessageStatus": "delivered",
                              "AccountSid": "AC" + "0" * 32})
        assert status.status_code == 200


def test_bookings_and_a_merge_work_as_the_runtime_role(roles, org):
    client = roles.runtime.test_client()
    created = post_booking(client, org, booking_payload(org, client_phone="+14155550177"))
    assert created.status_code == 201, created.get_json()

    with roles.runtime.app_context():
        guest, _ = find_or_create_client_by_phone(org.id, PHONE)
        survivor, _ = find_or_create_client_by_phone(org.id, "+14155550177")
        db.session.commit()
        clients.merge_client(org.id, guest, survivor, None)  # moves messages: UPDATE thread_id
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Thread)
                                 .where(Thread.org_id == org.id)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) > 0


@pytest.mark.parametrize("statement", [
    "TRUNCATE audit_event",
    "TRUNCATE message",
    "ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only",
    "ALTER TABLE audit_event DISABLE TRIGGER USER",
    "ALTER TABLE message DISABLE TRIGGER message_never_rewritten",
    "DROP TRIGGER audit_event_never_truncated ON audit_event",
    "UPDATE audit_event SET action = 'forged'",
    "DELETE FROM audit_event",
    "DELETE FROM message",
    "SET session_replication_role = replica",
    "UPDATE consent_event SET opted_out = false",
    "DELETE FROM consent_event",
    "TRUNCATE consent_event",
    "DELETE FROM phone_consent",
    "ALTER TABLE phone_consent DISABLE TRIGGER phone_consent_follows_events",
])
def test_what_only_an_owner_or_a_superuser_may_do_is_refused(roles, org, statement):
    assert refused_as_runtime(roles, statement) == "42501"  # insufficient_privilege


def test_a_messages_words_are_refused_to_the_runtime_role_too(roles, org):
    assert refused_as_runtime(roles, "UPDATE message SET body = 'forged'") == "23001"


@pytest.mark.parametrize("statement", [
    "UPDATE message SET status = 'delivered' WHERE direction = 'outbound'",
    "UPDATE message SET error_code = NULL, status_updated_at = now()",
    "INSERT INTO audit_event (org_id, action, entity_type) "
    "SELECT id, 'test.added', 'test' FROM organization",
])
def test_its_allowed_neighbours_are_accepted(roles, org, stored, statement):
    assert as_runtime(roles, statement).rowcount >= 1


def test_stop_and_help_work_as_the_runtime_role(roles, org):
    client, phone = roles.runtime.test_client(), "+14155550188"
    for n, body in enumerate(["STOP", "HELP"]):
        answer = post_signed(client, "/webhooks/twilio/sms",
                             sms_params(POOL, phone, body, sid=f"SMrole{n:028d}"))
        assert answer.status_code == 200, answer.get_data(as_text=True)
    client.post("/sign-in", data={"email": org.staff_email, "password": PASSWORD})
    with roles.runtime.app_context():
        thread_id = db.session.scalar(sa.select(Message.thread_id).where(
            Message.from_e164 == phone))
    refused = client.post(f"/threads/{thread_id}/messages", data={"body": "Still there?"})
    assert refused.status_code == 400 and "opted out on" in refused.get_data(as_text=True)

    work_off(roles.runtime)

    with roles.runtime.app_context():
        help_reply = db.session.scalar(sa.select(Message).where(Message.to_e164 == phone))
        assert (help_reply.auto_reply, help_reply.status) == ("help", "sent")


def test_doctor_as_the_runtime_role_holds_and_has_no_warning(roles):
    result = roles.runtime.test_cli_runner().invoke(args=["doctor"])

    assert result.exit_code == 0, result.output
    # No worker runs now; the module's last real worker may have left a job behind it (its
    # periodic deferrer queues the minute's sweep as it stops), which the doctor rightly reports.
    warnings = [line for line in result.output.splitlines() if line.startswith("warn")]
    assert warnings in ([], ["warn no worker is running: start `flask --app app worker`"])
    assert "the runtime role owns nothing" in result.output


def test_doctor_warns_of_a_privilege_too_many_or_missing(roles):
    with psycopg.connect(_libpq(roles.url), autocommit=True) as owner:
        owner.execute(f"GRANT TRUNCATE ON audit_event TO {roles.role}")
        owner.execute(f"REVOKE INSERT ON client FROM {roles.role}")
        try:
            with roles.runtime.app_context():
                warnings = db_roles.role_warnings(db.session.connection())
        finally:
            owner.execute(f"REVOKE TRUNCATE ON audit_event FROM {roles.role}")
            owner.execute(f"GRANT INSERT ON client TO {roles.role}")

    assert [w.split(":")[0] for w in warnings] == [
        f"{roles.role} holds TRUNCATE on audit_event, more than the app needs",
        f"{roles.role} lacks INSERT on client"]


def test_doctor_warns_when_the_app_connects_as_a_superuser_or_owner(roles):
    with roles.owner.app_context():
        [warning] = db_roles.role_warnings(db.session.connection())
    assert "superuser" in warning or "owner" in warning


@pytest.mark.parametrize("who, says", [
    ("nobody_at_all", "No role is named"),
    ("current_user", "superuser or the role running this command"),
])
def test_grant_runtime_role_refuses_a_role_that_is_missing_or_too_strong(roles, who, says):
    runner = roles.owner.test_cli_runner()
    if who == "current_user":
        with roles.owner.app_context():
            who = db.session.scalar(sa.text("SELECT current_user"))
    result = runner.invoke(args=["grant-runtime-role", who])

    assert result.exit_code == 1
    assert says in result.output
