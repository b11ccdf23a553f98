"""Each invariant of docs/design.md (I1-I15) is held by the database itself, not by app code.

Every violating write goes straight to the database (raw INSERT/UPDATE in a savepoint, so the
test's transaction stays usable) and must be refused by the named constraint; its allowed
neighbours must pass. The doctor's proof queries hold on clean data and catch bad data.
"""

import secrets
from datetime import UTC, datetime, timedelta
from itertools import count
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from pawline.access_models import UserSession
from pawline.booking_message_models import BookingMessage
from pawline.channel_models import ClientIdentity
from pawline.db import constraint_name, db
from pawline.desk_models import ScheduledMessage, ScheduledPhoto, ThreadNote
from pawline.doctor import TENANT_LINKS, UNIQUE_INDEXES, foreign_key_name, run_checks
from pawline.media_models import Attachment
from pawline.models import (
    AssignmentWindow,
    AuditEvent,
    Booking,
    Client,
    ClientContact,
    Message,
    MessageNumber,
    Organization,
    Sitter,
    Thread,
    ThreadEvent,
    User,
)
from tests import factories

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TABLES = {
    "client_contact": ClientContact, "thread": Thread, "message": Message,
    "thread_event": ThreadEvent, "booking": Booking, "assignment_window": AssignmentWindow,
    "message_number": MessageNumber, "sitter": Sitter, "audit_event": AuditEvent,
    "user_session": UserSession, "attachment": Attachment, "thread_note": ThreadNote,
    "scheduled_message": ScheduledMessage, "booking_message": BookingMessage,
    "client_identity": ClientIdentity, "scheduled_photo": ScheduledPhoto,
}


def insert(model, **values) -> int:
    """A raw INSERT in a savepoint; answers the new id."""
    with db.session.begin_nested():
        return db.session.execute(sa.insert(model).values(**values).returning(model.id)).scalar()


def refused(model, **values) -> str | None:
    """Try a raw INSERT that must fail; answers the name of the constraint that refused it."""
    with pytest.raises(IntegrityError) as caught, db.session.begin_nested():
        db.session.execute(sa.insert(model).values(**values))
    return constraint_name(caught.value)


def refused_update(model, row_id: int, **values) -> str | None:
    with pytest.raises(IntegrityError) as caught, db.session.begin_nested():
        db.session.execute(sa.update(model).where(model.id == row_id).values(**values))
    return constraint_name(caught.value)


def new_client(org_id: int, name: str = "Client") -> int:
    return insert(Client, org_id=org_id, name=name)


def new_thread(org_id: int) -> int:
    return insert(Thread, org_id=org_id, client_id=new_client(org_id))


def new_booking(world) -> int:
    return insert(Booking, org_id=world.org_id, client_id=world.client_id,
                  sitter_id=world.sitter_id, starts_at=NOW, ends_at=NOW + timedelta(days=1))


def new_org_world():
    """An organization with one of every row others point at; answers plain ids."""
    org = factories.org()
    client_id = new_client(org.id)
    world = SimpleNamespace(
        org_id=org.id, client_id=client_id, user_id=org.sitter_user_id,
        thread_id=insert(Thread, org_id=org.id, client_id=client_id),
        number_id=insert(MessageNumber, org_id=org.id, e164=factories.phone(),
                         number_class="pool"),
        sitter_id=insert(Sitter, org_id=org.id, name="Sam"),
    )
    world.booking_id = new_booking(world)
    world.message_id = insert(Message, org_id=org.id, thread_id=new_thread(org.id),
                              direction="inbound", body="Hi", from_e164=factories.phone(),
                              to_e164=factories.phone(), status="received", provider="twilio")
    world.scheduled_id = insert(ScheduledMessage, org_id=org.id, thread_id=world.thread_id,
                                body="Later", send_at=NOW)
    # the deferred check of a scheduled reply (words or photos) runs now, as a commit would: a
    # test's ALTER TABLE cannot run while a trigger event is pending on the table
    db.session.execute(sa.text("SET CONSTRAINTS ALL IMMEDIATE"))
    return world


@pytest.fixture
def ours(ctx):
    return new_org_world()


@pytest.fixture
def theirs(ctx):
    return new_org_world()


# --- I1 / I2: phones of clients -------------------------------------------------------------

def test_i1_one_phone_belongs_to_one_client_per_organization(ours, theirs):
    phone = factories.phone()
    insert(ClientContact, org_id=ours.org_id, client_id=ours.client_id, e164=phone)
    other_client = new_client(ours.org_id)

    assert refused(ClientContact, org_id=ours.org_id, client_id=other_client,
                   e164=phone) == "uq_client_contact_org_id_e164"
    insert(ClientContact, org_id=theirs.org_id, client_id=theirs.client_id, e164=phone)
    insert(ClientContact, org_id=ours.org_id, client_id=other_client, e164=factories.phone())


def test_i2_a_client_lists_a_phone_once(ours):
    phone = factories.phone()
    insert(ClientContact, org_id=ours.org_id, client_id=ours.client_id, e164=phone)

    name = refused(ClientContact, org_id=ours.org_id, client_id=ours.client_id, e164=phone)

    assert name in ("uq_client_contact_client_id_e164", "uq_client_contact_org_id_e164")
    insert(ClientContact, org_id=ours.org_id, client_id=ours.client_id, e164=factories.phone())


def test_i2_holds_on_its_own_without_i1(ours):
    db.session.execute(sa.text(
        "ALTER TABLE client_contact DROP CONSTRAINT uq_client_contact_org_id_e164"))
    phone = factories.phone()
    insert(ClientContact, org_id=ours.org_id, client_id=ours.client_id, e164=phone)

    assert refused(ClientContact, org_id=ours.org_id, client_id=ours.client_id,
                   e164=phone) == "uq_client_contact_client_id_e164"


# --- I3: one thread per client --------------------------------------------------------------

def test_i3_a_client_has_one_thread(ours):
    assert refused(Thread, org_id=ours.org_id,
                   client_id=ours.client_id) == "uq_thread_org_id_client_id"
    insert(Thread, org_id=ours.org_id, client_id=new_client(ours.org_id))


def test_i3_holds_whatever_the_thread_status(ours):
    db.session.execute(sa.update(Thread).where(Thread.id == ours.thread_id)
                       .values(status="closed"))

    assert refused(Thread, org_id=ours.org_id,
                   client_id=ours.client_id) == "uq_thread_org_id_client_id"


# --- I4: no row points at another organization's row ----------------------------------------

_positions = count()  # an attachment's place in its message, fresh for each row


def child_values(table: str, world, fresh) -> dict:
    """A valid row of `table` whose every link points into `world` (fresh rows where unique)."""
    org_id = world.org_id
    window = {"starts_at": NOW, "ends_at": NOW + timedelta(hours=2)}
    return {
        "client_contact": {"org_id": org_id, "client_id": world.client_id,
                           "e164": factories.phone()},
        "client_identity": {"org_id": org_id, "client_id": world.client_id,
                            "channel": "telegram", "address": factories.phone()[1:]},
        "thread": {"org_id": org_id, "client_id": fresh["client"](),
                   "default_number_id": world.number_id, "assignee_user_id": world.user_id},
        "thread_note": {"org_id": org_id, "thread_id": world.thread_id,
                        "author_user_id": world.user_id, "body": "Rex bites"},
        "scheduled_message": {"org_id": org_id, "thread_id": world.thread_id, "body": "Later",
                              "send_at": NOW, "created_by_user_id": world.user_id},
        "booking_message": {"org_id": org_id, "booking_id": world.booking_id,
                            "kind": "reminder", "due_at": NOW},
        "scheduled_photo": {"org_id": org_id, "scheduled_id": world.scheduled_id, "position": 0,
                            "content_type": "image/png", "filename": "a.png", "data": b"png"},
        "message": {"org_id": org_id, "thread_id": world.thread_id, "direction": "inbound",
                    "body": "Hi", "from_e164": factories.phone(), "to_e164": factories.phone(),
                    "number_id": world.number_id, "status": "received", "provider": "twilio",
                    "sent_by_user_id": world.user_id},
        "thread_event": {"org_id": org_id, "thread_id": world.thread_id, "kind": "closed",
                         "actor_user_id": world.user_id},
        "booking": {"org_id": org_id, "client_id": world.client_id,
                    "sitter_id": world.sitter_id, **window},
        "assignment_window": {"org_id": org_id, "thread_id": world.thread_id,
                              "booking_id": world.booking_id, "sitter_id": world.sitter_id,
                              **window},
        "message_number": {"org_id": org_id, "e164": factories.phone(),
                           "number_class": "sitter", "assigned_sitter_id": world.sitter_id},
        "sitter": {"org_id": org_id, "name": "Sky", "user_id": world.user_id},
        "audit_event": {"org_id": org_id, "actor_user_id": world.user_id,
                        "action": "test", "entity_type": "test"},
        "user_session": {"org_id": org_id, "user_id": world.user_id,
                         "token_hash": secrets.token_hex(32), "created_at": NOW,
                         "last_seen_at": NOW},
        "attachment": {"org_id": org_id, "message_id": world.message_id,
                       "position": next(_positions), "source_url": "https://x.example/m",
                       "content_type": "image/jpeg"},
    }[table]


@pytest.mark.parametrize(("child", "column", "parent"), TENANT_LINKS,
                         ids=[f"{c}.{col}" for c, col, _ in TENANT_LINKS])
def test_i4_a_row_cannot_point_at_another_organizations_row(ours, theirs, child, column,
                                                            parent):
    model = TABLES[child]
    fresh = {"client": lambda: new_client(ours.org_id)}
    parent_attr = {"client": "client_id", "thread": "thread_id", "message_number": "number_id",
                   "sitter": "sitter_id", "booking": "booking_id", "app_user": "user_id",
                   "message": "message_id", "scheduled_message": "scheduled_id"}[parent]

    foreign = {**child_values(child, ours, fresh), column: getattr(theirs, parent_attr)}
    assert refused(model, **foreign) == f"fk_{child}_{column}_org_id_{parent}"

    insert(model, **child_values(child, ours, fresh))


def test_i4_every_composite_foreign_key_is_a_tenant_link_the_doctor_checks(ctx):
    composite = db.session.execute(sa.text("""
        SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text
        FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        WHERE c.contype = 'f' AND array_length(c.conkey, 1) = 2
    """)).all()

    assert sorted(tuple(row) for row in composite) == sorted(TENANT_LINKS)


def test_i4_a_single_column_foreign_key_never_points_at_a_tenant_row(ctx):
    single = db.session.execute(sa.text("""
        SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c
        WHERE c.contype = 'f' AND array_length(c.conkey, 1) = 1
          AND c.conrelid::regclass::text NOT LIKE 'procrastinate%'  -- the job queue's own
    """)).all()

    assert {target for _, target in single} == {"organization"}


# --- I5: a sitter holds at most one number; the number table's own rules ---------------------

def test_i5_a_sitter_holds_at_most_one_number(ours):
    insert(MessageNumber, org_id=ours.org_id, e164=factories.phone(), number_class="sitter",
           assigned_sitter_id=ours.sitter_id)

    assert refused(MessageNumber, org_id=ours.org_id, e164=factories.phone(),
                   number_class="sitter", assigned_sitter_id=ours.sitter_id
                   ) == "uq_message_number_assigned_sitter_id"
    other_sitter = insert(Sitter, org_id=ours.org_id, name="Sky")
    insert(MessageNumber, org_id=ours.org_id, e164=factories.phone(), number_class="sitter",
           assigned_sitter_id=other_sitter)
    insert(MessageNumber, org_id=ours.org_id, e164=factories.phone(), number_class="pool")
    insert(MessageNumber, org_id=ours.org_id, e164=factories.phone(), number_class="pool")


def test_i5_a_quarantined_number_cannot_be_assigned(ours):
    quarantined = {"org_id": ours.org_id, "number_class": "sitter", "status": "quarantined",
                   "quarantined_at": NOW, "quarantine_release_at": NOW + timedelta(days=90)}

    assert refused(MessageNumber, e164=factories.phone(), assigned_sitter_id=ours.sitter_id,
                   **quarantined) == "ck_message_number_quarantined_is_unassigned"
    insert(MessageNumber, e164=factories.phone(), **quarantined)


def test_i5_a_quarantined_number_needs_a_release_date(ours):
    assert refused(MessageNumber, org_id=ours.org_id, e164=factories.phone(),
                   number_class="pool", status="quarantined", quarantined_at=NOW
                   ) == "ck_message_number_quarantined_is_unassigned"


def test_i5_assigning_a_quarantined_number_is_refused(ours):
    number_id = insert(MessageNumber, org_id=ours.org_id, e164=factories.phone(),
                       number_class="pool", status="quarantined",
                       quarantine_release_at=NOW + timedelta(days=1))

    assert refused_update(MessageNumber, number_id, assigned_sitter_id=ours.sitter_id
                          ) == "ck_message_number_quarantined_is_unassigned"


def test_i5_the_front_desk_cannot_be_assigned_to_a_sitter(ours):
    assert refused(MessageNumber, org_id=ours.org_id, e164=factories.phone(),
                   number_class="front_desk", assigned_sitter_id=ours.sitter_id
                   ) == "ck_message_number_front_desk_unassigned"


def test_i5_an_organization_has_at_most_one_front_desk(ours, theirs):
    insert(MessageNumber, org_id=ours.org_id, e164=factories.phone(), number_class="front_desk")

    assert refused(MessageNumber, org_id=ours.org_id, e164=factories.phone(),
                   number_class="front_desk") == "uq_message_number_front_desk"
    insert(MessageNumber, org_id=theirs.org_id, e164=factories.phone(),
           number_class="front_desk")


# --- I6: a provider message is stored once ---------------------------------------------------

def inbound(world, **values) -> dict:
    return {"org_id": world.org_id, "thread_id": world.thread_id, "direction": "inbound",
            "body": "Hello", "from_e164": factories.phone(), "to_e164": factories.phone(),
            "status": "received", "provider": "twilio", **values}


def test_i6_a_provider_message_is_stored_once(ours, theirs):
    insert(Message, **inbound(ours, provider_sid="SM123"))

    assert refused(Message, **inbound(ours, provider_sid="SM123")
                   ) == "uq_message_provider_provider_sid"
    assert refused(Message, **inbound(theirs, provider_sid="SM123")
                   ) == "uq_message_provider_provider_sid"
    insert(Message, **inbound(ours, provider_sid="SM123", provider="console"))
    insert(Message, **inbound(ours, provider_sid="SM124"))


def test_i6_messages_without_a_provider_sid_are_not_duplicates(ours):
    for _ in range(3):
        insert(Message, **inbound(ours, provider_sid=None))

    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)
                             .where(Message.thread_id == ours.thread_id)) == 3


# --- I7: one assignment window per booking ---------------------------------------------------

def test_i7_a_booking_yields_at_most_one_window(ours):
    window = {"org_id": ours.org_id, "thread_id": ours.thread_id, "sitter_id": ours.sitter_id,
              "starts_at": NOW, "ends_at": NOW + timedelta(days=1)}
    insert(AssignmentWindow, booking_id=ours.booking_id, **window)

    assert refused(AssignmentWindow, booking_id=ours.booking_id, **window
                   ) == "uq_assignment_window_booking_id"
    insert(AssignmentWindow, booking_id=new_booking(ours), **window)


# --- I8: a number is in one organization's pool ----------------------------------------------

def test_i8_a_number_is_in_one_organizations_pool(ours, theirs):
    phone = factories.phone()
    insert(MessageNumber, org_id=ours.org_id, e164=phone, number_class="pool")

    assert refused(MessageNumber, org_id=theirs.org_id, e164=phone,
                   number_class="pool") == "uq_message_number_e164"
    assert refused(MessageNumber, org_id=ours.org_id, e164=phone,
                   number_class="sitter") == "uq_message_number_e164"
    insert(MessageNumber, org_id=theirs.org_id, e164=factories.phone(), number_class="pool")


# --- I9: the audit trail is append-only ------------------------------------------------------

def test_i9_the_audit_trail_accepts_new_events(ours):
    event_id = insert(AuditEvent, org_id=ours.org_id, action="number.quarantined",
                      entity_type="message_number", data={"reason": "spam"})

    assert db.session.get(AuditEvent, event_id).data == {"reason": "spam"}


@pytest.mark.parametrize("change", ["update", "delete"])
def test_i9_the_audit_trail_refuses_update_and_delete(ours, change):
    event_id = insert(AuditEvent, org_id=ours.org_id, action="number.restored",
                      entity_type="message_number")
    statement = (sa.update(AuditEvent).values(action="forged") if change == "update"
                 else sa.delete(AuditEvent)).where(AuditEvent.id == event_id)

    with pytest.raises(DBAPIError, match="append-only") as caught, db.session.begin_nested():
        db.session.execute(statement)

    assert caught.value.orig.sqlstate == "23001"  # restrict_violation
    assert db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.id == event_id)
                             ) == "number.restored"


# --- The check constraints with ranges and formats -------------------------------------------

def bad_rows(world) -> list[tuple[str, type, dict]]:
    later = NOW + timedelta(hours=1)
    return [
        ("ck_thread_snooze_has_time", Thread,
         {"org_id": world.org_id, "client_id": new_client(world.org_id), "status": "snoozed"}),
        ("ck_thread_snooze_has_time", Thread,
         {"org_id": world.org_id, "client_id": new_client(world.org_id), "status": "open",
          "snoozed_until": later}),
        ("ck_thread_status_known", Thread,
         {"org_id": world.org_id, "client_id": new_client(world.org_id), "status": "archived"}),
        ("ck_thread_unread_not_negative", Thread,
         {"org_id": world.org_id, "client_id": new_client(world.org_id), "unread_count": -1}),
        ("ck_booking_ends_after_start", Booking,
         {"org_id": world.org_id, "client_id": world.client_id, "sitter_id": world.sitter_id,
          "starts_at": NOW, "ends_at": NOW}),
        ("ck_booking_status_known", Booking,
         {"org_id": world.org_id, "client_id": world.client_id, "sitter_id": world.sitter_id,
          "starts_at": NOW, "ends_at": later, "status": "maybe"}),
        ("ck_assignment_window_ends_after_start", AssignmentWindow,
         {"org_id": world.org_id, "thread_id": world.thread_id, "sitter_id": world.sitter_id,
          "booking_id": world.booking_id, "starts_at": later, "ends_at": NOW}),
        ("ck_client_contact_e164_format", ClientContact,
         {"org_id": world.org_id, "client_id": world.client_id, "e164": "4155550100"}),
        ("ck_client_contact_e164_format", ClientContact,
         {"org_id": world.org_id, "client_id": world.client_id, "e164": "+0155550100"}),
        ("ck_message_number_e164_format", MessageNumber,
         {"org_id": world.org_id, "e164": "+1 415 555 0100", "number_class": "pool"}),
        ("ck_message_number_class_known", MessageNumber,
         {"org_id": world.org_id, "e164": factories.phone(), "number_class": "vip"}),
        ("ck_message_number_status_known", MessageNumber,
         {"org_id": world.org_id, "e164": factories.phone(), "number_class": "pool",
          "status": "retired"}),
        ("ck_sitter_phone_e164_format", Sitter,
         {"org_id": world.org_id, "name": "Sky", "phone_e164": "555-0100"}),
        ("ck_sitter_name_present", Sitter, {"org_id": world.org_id, "name": "  "}),
        ("ck_client_name_present", Client, {"org_id": world.org_id, "name": ""}),
        ("ck_message_outbound_has_trace", Message,
         {**inbound(world), "direction": "outbound", "status": "queued"}),
        ("ck_message_direction_known", Message, {**inbound(world), "direction": "sideways"}),
        ("ck_message_status_known", Message, {**inbound(world), "status": "lost"}),
        ("ck_app_user_role_known", User,
         {"org_id": world.org_id, "email": "x@example.com", "password_hash": "h",
          "role": "admin"}),
        ("ck_app_user_email_format", User,
         {"org_id": world.org_id, "email": "X@Example.com", "password_hash": "h",
          "role": "staff"}),
        ("ck_organization_slug_format", Organization,
         {"name": "Bad", "slug": "Bad Slug", "webhook_secret": "s"}),
        ("ck_organization_name_present", Organization,
         {"name": " ", "slug": "blank-name", "webhook_secret": "s"}),
    ]


def test_check_constraints_refuse_out_of_range_values(ours):
    for name, model, values in bad_rows(ours):
        assert refused(model, **values) == name, name


def test_check_constraints_accept_their_allowed_neighbours(ours):
    insert(Thread, org_id=ours.org_id, client_id=new_client(ours.org_id), status="snoozed",
           snoozed_until=NOW)
    insert(Thread, org_id=ours.org_id, client_id=new_client(ours.org_id), status="closed",
           unread_count=0)
    insert(Booking, org_id=ours.org_id, client_id=ours.client_id, sitter_id=ours.sitter_id,
           starts_at=NOW, ends_at=NOW + timedelta(seconds=1), status="confirmed")
    insert(ClientContact, org_id=ours.org_id, client_id=ours.client_id, e164="+442071838750")
    insert(Message, **inbound(ours, direction="outbound", status="queued",
                              routing_trace={"rule": 4}))
    insert(Organization, name="Good", slug="good-slug-2", webhook_secret="s")


# --- The doctor's proof queries ---------------------------------------------------------------

def failing(claim_part: str | None = None, full: bool = True) -> list:
    results = run_checks(db.session.connection(), full=full)
    return [r for r in results if not r.holds
            and (claim_part is None or claim_part in r.check.claim)]


@pytest.mark.parametrize("full", [False, True], ids=["catalog", "full"])
def test_doctor_finds_every_invariant_holding_on_clean_data(ours, theirs, full):
    insert(ClientContact, org_id=ours.org_id, client_id=ours.client_id, e164=factories.phone())

    results = run_checks(db.session.connection(), full=full)

    assert [r.check.claim for r in results if not r.holds] == []
    assert {r.check.invariant for r in results} == {f"I{n}" for n in range(1, 16)}


@pytest.mark.parametrize(("invariant", "index"), UNIQUE_INDEXES.items())
def test_doctor_reports_a_missing_unique_index(ours, invariant, index):
    table = db.session.scalar(sa.text("SELECT tablename FROM pg_indexes WHERE indexname = :n"),
                              {"n": index})
    db.session.execute(sa.text(f"ALTER TABLE {table} DROP CONSTRAINT {index}"))

    assert [(r.check.invariant, r.violations) for r in failing(index)] == [
        (invariant, [(index,)])]


def test_doctor_reports_duplicate_phones_once_the_constraint_is_gone(ours):
    db.session.execute(sa.text(
        "ALTER TABLE client_contact DROP CONSTRAINT uq_client_contact_org_id_e164"))
    phone = factories.phone()
    insert(ClientContact, org_id=ours.org_id, client_id=ours.client_id, e164=phone)
    insert(ClientContact, org_id=ours.org_id, client_id=new_client(ours.org_id), e164=phone)

    [result] = failing("appears twice")

    assert result.check.invariant == "I1"
    assert result.violations == [(ours.org_id, phone, 2)]


@pytest.mark.parametrize(("child", "column", "parent"), TENANT_LINKS,
                         ids=[f"{c}.{col}" for c, col, _ in TENANT_LINKS])
def test_doctor_reports_a_cross_tenant_row_once_the_foreign_key_is_gone(ours, theirs, child,
                                                                        column, parent):
    db.session.execute(sa.text(
        f"ALTER TABLE {child} DROP CONSTRAINT fk_{child}_{column}_org_id_{parent}"))
    parent_attr = {"client": "client_id", "thread": "thread_id", "message_number": "number_id",
                   "sitter": "sitter_id", "booking": "booking_id", "app_user": "user_id",
                   "message": "message_id", "scheduled_message": "scheduled_id"}[parent]
    fresh = {"client": lambda: new_client(ours.org_id)}
    row_id = insert(TABLES[child], **{**child_values(child, ours, fresh),
                                      column: getattr(theirs, parent_attr)})

    [result] = failing(f"every {child}.{column} ")

    assert result.check.invariant == "I4"
    assert result.violations == [(row_id,)]


@pytest.mark.parametrize(("child", "column", "parent"), TENANT_LINKS,
                         ids=[f"{c}.{col}" for c, col, _ in TENANT_LINKS])
def test_the_catalog_doctor_reports_a_dropped_tenant_foreign_key(ours, child, column, parent):
    name = foreign_key_name(child, column, parent)
    db.session.execute(sa.text(f"ALTER TABLE {child} DROP CONSTRAINT {name}"))

    assert [(r.check.invariant, r.violations) for r in failing(name, full=False)] == [
        ("I4", [(name,)])]


def test_rows_slipped_past_a_disabled_foreign_key_are_found_by_the_full_doctor(ours, theirs):
    """Triggers off (a bulk load, a restore) let a cross-tenant row in; both doctors see it."""
    name = foreign_key_name("thread", "client_id", "client")
    db.session.execute(sa.text("ALTER TABLE thread DISABLE TRIGGER ALL"))
    row_id = insert(Thread, org_id=ours.org_id, client_id=theirs.client_id)

    assert [r.violations for r in failing(name, full=False)] == [[(name,)]]
    db.session.execute(sa.text("ALTER TABLE thread ENABLE TRIGGER ALL"))
    assert failing(full=False) == []  # enforced again, but the row is still there:
    assert [r.violations for r in failing("every thread.client_id ")] == [[(row_id,)]]


def test_doctor_reports_a_number_held_by_an_inactive_sitter(ours):
    insert(MessageNumber, org_id=ours.org_id, e164=factories.phone(), number_class="sitter",
           assigned_sitter_id=ours.sitter_id)

    assert [r.check.invariant for r in failing("inactive sitter")] == ["I5"]
    db.session.execute(sa.update(Sitter).where(Sitter.id == ours.sitter_id).values(active=True))
    assert failing() == []


@pytest.mark.parametrize("break_it", ["DROP TRIGGER audit_event_append_only ON audit_event",
                                      "ALTER TABLE audit_event DISABLE TRIGGER USER"])
def test_doctor_reports_the_missing_or_disabled_audit_trigger(ours, break_it):
    db.session.execute(sa.text(break_it))

    assert [r.check.invariant for r in failing(full=False)] == ["I9"]
