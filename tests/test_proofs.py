"""The queries of docs/proofs.md, pasted into psql, find each rule broken on purpose.

A scratch database holds two organizations' clean data. Each scenario feeds psql one script:
BEGIN, the breakage an operator could cause (drop the constraint, disable its triggers, build
it invalid or partial), the violating row, every query of docs/proofs.md, ROLLBACK. Exactly
the queries of the broken rule must return rows, and exactly the bad ones; on clean data none
returns any.
"""

from types import SimpleNamespace

import psycopg
import pytest

from pawline.doctor import REFUSING_TRIGGERS, TENANT_LINKS, foreign_key_name
from pawline.proofs import render_sql
from tests import proof_world as pw
from tests.markdown import proof_queries
from tests.proof_consent import consent_scenarios
from tests.proof_world import PHONE, ROW

QUERIES = proof_queries()


def claim(fragment: str) -> str:
    """The one claim of docs/proofs.md containing `fragment`."""
    [found] = [q.claim for q in QUERIES if fragment in q.claim]
    return found


def index_missing(name: str) -> dict:
    return {claim(f"index {name} "): [name]}


def link_checks(child: str, column: str) -> tuple[str, str]:
    """The claims of one tenant link: its foreign key in force, and its rows."""
    return (claim(f"key {foreign_key_name(child, column, _parent(child, column))} "),
            claim(f"every {child}.{column} "))


def _parent(child: str, column: str) -> str:
    [parent] = [p for c, col, p in TENANT_LINKS if (c, col) == (child, column)]
    return parent


def _refusing() -> dict:
    """The claim of each table whose triggers refuse changes (I9, I10, I13)."""
    return {"audit_event": claim("audit trail"), "message": claim("messages refuse"),
            "thread_note": claim("internal notes refuse")}


REFUSING = _refusing()


def triggers_off_on(table: str) -> dict:
    """What the catalog checks report once every trigger of `table` is off: the foreign keys
    whose triggers live there (as child or as parent), and the refusing triggers of I9/I10."""
    found = {link_checks(c, col)[0]: [foreign_key_name(c, col, p)]
             for c, col, p in TENANT_LINKS if table in (c, p)}
    if table in REFUSING:
        found[REFUSING[table]] = [name for name, _, _ in REFUSING_TRIGGERS[table]]
    return found


def cross_tenant_row(child: str, column: str, o, t) -> str:
    """A row of our organization whose `column` names their organization's row."""
    return {
        ("client_contact", "client_id"): pw.contact(o.org, t.client, PHONE),
        ("thread", "client_id"): pw.thread(o.org, t.client),
        ("thread", "default_number_id"): pw.thread(o.org, o.free_client, t.pool),
        ("thread", "last_message_user_id"): f"INSERT INTO thread (id, org_id, client_id, "
                                            f"last_message_user_id) VALUES ({ROW}, {o.org}, "
                                            f"{o.free_client}, {t.staff});",
        ("message", "thread_id"): pw.message(o.org, t.thread),
        ("message", "number_id"): pw.message(o.org, o.thread, number_id=t.pool),
        ("message", "sent_by_user_id"): pw.message(o.org, o.thread, user=t.staff),
        ("thread_event", "thread_id"): pw.event(o.org, t.thread),
        ("thread_event", "actor_user_id"): pw.event(o.org, o.thread, user=t.staff),
        ("booking", "client_id"): pw.booking(o.org, t.client, o.sitter),
        ("booking", "sitter_id"): pw.booking(o.org, o.client, t.sitter),
        ("assignment_window", "thread_id"): pw.window(o.org, t.thread, o.free_booking, o.sitter),
        ("assignment_window", "booking_id"): pw.window(o.org, o.thread, t.free_booking, o.sitter),
        ("assignment_window", "sitter_id"): pw.window(o.org, o.thread, o.free_booking, t.sitter),
        ("message_number", "assigned_sitter_id"): pw.number(o.org, PHONE, "sitter",
                                                            t.free_sitter),
        ("sitter", "user_id"): f"INSERT INTO sitter (id, org_id, name, user_id) "
                               f"VALUES ({ROW}, {o.org}, 'Sky', {t.staff});",
        ("audit_event", "actor_user_id"): f"INSERT INTO audit_event (id, org_id, actor_user_id, "
                                          f"action, entity_type) VALUES ({ROW}, {o.org}, "
                                          f"{t.staff}, 'test', 'test');",
        ("user_session", "user_id"): pw.user_session(o.org, t.staff),
        ("attachment", "message_id"): pw.attachment(o.org, t.message),
        ("thread", "assignee_user_id"): pw.assigned_thread(o.org, o.free_client, t.staff),
        ("thread_note", "thread_id"): pw.note(o.org, t.thread, o.staff),
        ("thread_note", "author_user_id"): pw.note(o.org, o.thread, t.staff),
        ("scheduled_message", "thread_id"): pw.scheduled(o.org, t.thread, o.staff),
        ("scheduled_message", "created_by_user_id"): pw.scheduled(o.org, o.thread, t.staff),
        ("scheduled_photo", "scheduled_id"): pw.scheduled_photo(o.org, t.scheduled),
        ("booking_message", "booking_id"): pw.booking_message(o.org, t.free_booking),
        ("client_identity", "client_id"): pw.identity(o.org, t.free_client, "9001"),
    }[(child, column)]


def unique_scenarios(o, t) -> dict:
    """I1-I3 and I5-I8: the unique index gone (or invalid in kind), a duplicate let in."""
    phone_index, client_index = "uq_client_contact_org_id_e164", "uq_client_contact_client_id_e164"
    drop = pw.drop_constraint
    return {
        "I1 a phone on two clients": (
            drop(phone_index) + pw.contact(o.org, o.free_client, o.phone),
            {**index_missing(phone_index), claim("appears twice"): [f"{o.org}|{o.phone}|2"],
             claim("each phone"): [f"{o.org}|{o.phone}|2|1"]}),
        "I2 a client listing a phone twice": (
            drop(phone_index) + drop(client_index) + pw.contact(o.org, o.client, o.phone),
            {**index_missing(phone_index), **index_missing(client_index),
             claim("appears twice"): [f"{o.org}|{o.phone}|2"],
             claim("lists a phone twice"): [f"{o.client}|{o.phone}|2"]}),
        "I3 a client with two threads": (
            drop("uq_thread_org_id_client_id") + pw.thread(o.org, o.client),
            {**index_missing("uq_thread_org_id_client_id"),
             claim("has two threads"): [f"{o.org}|{o.client}|2"],
             claim("each phone"): [f"{o.org}|{o.phone}|1|2"],
             claim("each channel address"): [f"{o.org}|telegram|{o.chat}|1|2"]}),
        "I5 a sitter holding two numbers": (
            drop("uq_message_number_assigned_sitter_id")
            + pw.number(o.org, PHONE, "sitter", o.sitter),
            {**index_missing("uq_message_number_assigned_sitter_id"),
             claim("holds two numbers"): [f"{o.sitter}|2"]}),
        "I5 a number serving two sitters": (
            drop("uq_message_number_e164")
            + pw.number(o.org, o.sitter_e164, "sitter", o.free_sitter),
            {**index_missing("uq_message_number_e164"),
             claim("in two pools"): [f"{o.sitter_e164}|2"],
             claim("serves two sitters"): [f"{o.sitter_e164}|2"]}),
        "I5 a number held by an inactive sitter": (
            f"UPDATE sitter SET active = false WHERE id = {o.sitter};",
            {claim("inactive sitter"): [str(o.sitter_number)]}),
        "I5 a quarantined number still held": (
            drop("ck_message_number_quarantined_is_unassigned")
            + "UPDATE message_number SET status = 'quarantined', quarantine_release_at = now() "
            + f"WHERE id = {o.sitter_number};",
            {claim("inactive sitter"): [str(o.sitter_number)]}),
        "I6 a provider message stored twice": (
            drop("uq_message_provider_provider_sid") + pw.message(o.org, o.thread, sid=o.sid),
            {**index_missing("uq_message_provider_provider_sid"),
             claim("stored twice"): [f"twilio|{o.sid}|2"]}),
        "I7 a booking with two windows": (
            drop("uq_assignment_window_booking_id")
            + pw.window(o.org, o.thread, o.booking, o.sitter),
            {**index_missing("uq_assignment_window_booking_id"),
             claim("two assignment windows"): [f"{o.booking}|2"]}),
        "I8 a number in two pools": (
            drop("uq_message_number_e164") + pw.number(t.org, o.pool_e164),
            {**index_missing("uq_message_number_e164"),
             claim("in two pools"): [f"{o.pool_e164}|2"]}),
        "I12 a saved reply name used twice": (
            drop("uq_saved_reply_org_id_name")
            + f"INSERT INTO saved_reply (org_id, name, body) VALUES ({o.org}, "
              f"'{o.saved_reply_name}', 'Late again');",
            {**index_missing("uq_saved_reply_org_id_name"),
             claim("two saved replies"): [f"{o.org}|{o.saved_reply_name}|2"]}),
        "I14 two openings on one weekday": (
            drop("pk_business_hours")
            + "INSERT INTO business_hours (org_id, weekday, opens, closes) VALUES "
              f"({o.org}, 3, '09:00', '12:00'), ({o.org}, 3, '13:00', '17:00');",
            {**index_missing("pk_business_hours"),
             claim("two openings"): [f"{o.org}|3|2"]}),
        "I14 an opening that closes before it opens": (
            drop("ck_business_hours_opens_before_closes")
            + "INSERT INTO business_hours (org_id, weekday, opens, closes) VALUES "
              f"({o.org}, 4, '17:00', '09:00');",
            {claim("closes before it opens"): [f"{o.org}|4"]}),
        "I15 a Telegram chat on two clients": (
            drop("uq_client_identity_org_id_channel_address")
            + pw.identity(o.org, o.free_client, o.chat),
            {**index_missing("uq_client_identity_org_id_channel_address"),
             claim("listed for two identities"): [f"{o.org}|telegram|{o.chat}|2"],
             claim("each channel address"): [f"{o.org}|telegram|{o.chat}|2|1"]}),
        "I15 a client of a Telegram chat with two threads": (
            drop("uq_thread_org_id_client_id") + pw.thread(o.org, o.client),
            {**index_missing("uq_thread_org_id_client_id"),
             claim("has two threads"): [f"{o.org}|{o.client}|2"],
             claim("each phone"): [f"{o.org}|{o.phone}|1|2"],
             claim("each channel address"): [f"{o.org}|telegram|{o.chat}|1|2"]}),
        "I8 the index rebuilt partial": (
            drop("uq_message_number_e164") + "CREATE UNIQUE INDEX uq_message_number_e164 ON "
            "message_number (e164) WHERE number_class <> 'pool';" + pw.number(t.org, o.pool_e164),
            {**index_missing("uq_message_number_e164"),
             claim("in two pools"): [f"{o.pool_e164}|2"]}),
    }


AUDIT_OFF = {
    "dropped": "DROP TRIGGER audit_event_append_only ON audit_event;",
    "disabled": "ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only;",
    "firing on replicas only": "ALTER TABLE audit_event ENABLE REPLICA TRIGGER "
                               "audit_event_append_only;",
    "refusing DELETE only": "DROP TRIGGER audit_event_append_only ON audit_event; "
                            "CREATE TRIGGER audit_event_append_only BEFORE DELETE ON audit_event "
                            "FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change();",
}


def tenant_scenarios(o, t) -> dict:
    """I4: a link's triggers off (superuser), re-added unvalidated, or a replica session."""
    found = {}
    for child, column, _ in TENANT_LINKS:
        _, rows = link_checks(child, column)
        found[f"I4 {child}.{column} with triggers off"] = (
            f"ALTER TABLE {child} DISABLE TRIGGER ALL;" + cross_tenant_row(child, column, o, t),
            {**triggers_off_on(child), rows: [str(ROW)]})
    key, rows = link_checks("thread", "client_id")
    name = foreign_key_name("thread", "client_id", "client")
    found["I4 a foreign key re-added NOT VALID"] = (
        pw.drop_constraint(name) + pw.thread(o.org, t.client)
        + f"ALTER TABLE thread ADD CONSTRAINT {name} FOREIGN KEY (client_id, org_id) "
        "REFERENCES client (id, org_id) NOT VALID;", {key: [name], rows: [str(ROW)]})
    found["I4 a foreign key's triggers firing on replicas only"] = (
        pw.replica_only_triggers(name) + pw.thread(o.org, t.client),
        {key: [name], rows: [str(ROW)]})
    # The catalog cannot see a session setting, and no query sees the audit row rewritten.
    found["I4 a session with session_replication_role = replica"] = (
        "SET LOCAL session_replication_role = replica;" + pw.thread(o.org, t.client)
        + f"UPDATE audit_event SET action = 'rewritten' WHERE id = {o.audit};"
        + "SET LOCAL session_replication_role = origin;", {rows: [str(ROW)]})
    return found


AUDIT_TRUNCATE_OFF = {
    "dropped": "DROP TRIGGER audit_event_never_truncated ON audit_event;",
    "disabled": "ALTER TABLE audit_event DISABLE TRIGGER audit_event_never_truncated;",
}

MESSAGE_OFF = {
    "dropped": ("DROP TRIGGER message_never_rewritten ON message;",
                ["message_never_rewritten"]),
    "refusing UPDATE only": (
        "DROP TRIGGER message_never_rewritten ON message; CREATE TRIGGER "
        "message_never_rewritten BEFORE UPDATE ON message FOR EACH ROW EXECUTE FUNCTION "
        "message_refuse_rewrite();", ["message_never_rewritten"]),
    "running another function": (
        "CREATE FUNCTION pass_through() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RETURN NEW; END $$; DROP TRIGGER message_never_rewritten ON message; "
        "CREATE TRIGGER message_never_rewritten BEFORE UPDATE OR DELETE ON message "
        "FOR EACH ROW EXECUTE FUNCTION pass_through();", ["message_never_rewritten"]),
    "firing on replicas only": (
        "ALTER TABLE message ENABLE REPLICA TRIGGER message_never_rewritten;",
        ["message_never_rewritten"]),
    "truncate trigger disabled": (
        "ALTER TABLE message DISABLE TRIGGER message_never_truncated;",
        ["message_never_truncated"]),
    "both disabled": ("ALTER TABLE message DISABLE TRIGGER USER;",
                      ["message_never_rewritten", "message_never_truncated"]),
}


NOTE_OFF = {
    "dropped": "DROP TRIGGER thread_note_append_only ON thread_note;",
    "disabled": "ALTER TABLE thread_note DISABLE TRIGGER thread_note_append_only;",
}


def scenarios(o, t) -> dict:
    audit = {f"I9 the audit trigger {how}": (sql, {claim("audit trail"): [
        "audit_event_append_only"]}) for how, sql in AUDIT_OFF.items()}
    audit |= {f"I9 the audit TRUNCATE trigger {how}": (sql, {claim("audit trail"): [
        "audit_event_never_truncated"]}) for how, sql in AUDIT_TRUNCATE_OFF.items()}
    message = {f"I10 the message trigger {how}": (sql, {claim("messages refuse"): missing})
               for how, (sql, missing) in MESSAGE_OFF.items()}
    notes = {f"I13 the note trigger {how}": (sql, {claim("internal notes refuse"): [
        "thread_note_append_only"]}) for how, sql in NOTE_OFF.items()}
    return {**unique_scenarios(o, t), **tenant_scenarios(o, t), **audit, **message,
            **consent_scenarios(o, claim, index_missing), **notes}


class _AnyIds:
    """Stands in for an organization's ids, so the scenarios can be named before seeding."""

    def __getattr__(self, name):
        return 0


SCENARIO_NAMES = list(scenarios(_AnyIds(), _AnyIds()))
SUPERUSER_ONLY = ("TRIGGER ALL", "REPLICA TRIGGER %I", "session_replication_role")


@pytest.fixture(scope="module")
def world(make_database):
    """A migrated scratch database with two organizations' clean data, committed."""
    url = pw.migrated(make_database())
    with psycopg.connect(url) as conn:
        ours, theirs = pw.seed_org(conn, 1), pw.seed_org(conn, 2)
        superuser = conn.execute("SELECT rolsuper FROM pg_roles "
                                 "WHERE rolname = current_user").fetchone()[0]
    return SimpleNamespace(url=url, ours=ours, theirs=theirs, superuser=superuser)


def test_on_clean_data_every_query_returns_no_rows(world):
    assert pw.answers(world.url, "", QUERIES) == {}


def test_the_clean_data_fills_every_link_the_queries_follow(world):
    with psycopg.connect(world.url) as conn:
        empty = [f"{child}.{column}" for child, column, _ in TENANT_LINKS if not conn.execute(
            f"SELECT count(*) FROM {child} WHERE {column} IS NOT NULL").fetchone()[0]]

    assert empty == []


def test_doctor_sql_runs_in_psql_as_one_script_and_finds_nothing_on_clean_data(world):
    assert pw.run_psql(world.url, render_sql()) == ""


def test_every_query_of_the_document_is_broken_by_some_scenario():
    broken = {c for _, expected in scenarios(_AnyIds(), _AnyIds()).values() for c in expected}

    assert broken == {q.claim for q in QUERIES}


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_a_broken_rule_is_found_by_exactly_its_queries(world, name):
    setup, expected = scenarios(world.ours, world.theirs)[name]
    if not world.superuser and any(word in setup for word in SUPERUSER_ONLY):
        pytest.skip("needs a superuser (TEST_DATABASE_URL names a server where we are not)")

    assert pw.answers(world.url, setup, QUERIES) == expected


def test_an_index_left_invalid_by_a_failed_concurrent_build_is_found(make_database):
    url = pw.migrated(make_database())
    with psycopg.connect(url, autocommit=True) as conn:
        ours = pw.seed_org(conn, 1)
        conn.execute("ALTER TABLE message_number DROP CONSTRAINT uq_message_number_e164")
        conn.execute("INSERT INTO message_number (org_id, e164, number_class) "
                     "VALUES (%s, %s, 'pool')", (ours.org, ours.pool_e164))
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("CREATE UNIQUE INDEX CONCURRENTLY uq_message_number_e164 "
                         "ON message_number (e164)")
        assert conn.execute("SELECT indisvalid FROM pg_index "
                            "WHERE indexrelid = 'uq_message_number_e164'::regclass"
                            ).fetchone() == (False,)

    assert pw.answers(url, "", QUERIES) == {
        **index_missing("uq_message_number_e164"),
        claim("in two pools"): [f"{ours.pool_e164}|2"]}
