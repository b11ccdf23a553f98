"""Proof queries for the invariants of docs/design.md: each answers the rows that would break one.

Two kinds. Catalog checks prove an invariant through the constraint that holds it: a valid
unique index cannot hold duplicates, a validated and enabled foreign key cannot hold a row of
another organization. They cost the same at any size, so `doctor` runs them by default. Data
checks re-read every row for the same claims (`doctor --full`): for after a restore, a bulk load
with triggers off, or hand surgery, which can slip rows past a foreign key.

Every query is plain SQL with no parameters, so `doctor --sql` and docs/proofs.md (both rendered
by pawline.proofs) print exactly what runs here, for an operator to paste into psql.
"""

from dataclasses import dataclass

import sqlalchemy as sa

# What each invariant says, and what in the database holds it (docs/design.md explains why).
INVARIANTS = {
    "I1": ("Within one organization, a phone is listed for one client only.",
           "the unique index `uq_client_contact_org_id_e164`"),
    "I2": ("No client has the same phone listed twice.",
           "the unique index `uq_client_contact_client_id_e164`"),
    "I3": ("A client has one thread, never two, however many bookings or phones it has.",
           "the unique index `uq_thread_org_id_client_id`"),
    "I4": ("No row points at a client, thread, message, number, sitter, booking or user of "
           "another organization.",
           "composite foreign keys `(x_id, org_id) -> x (id, org_id)`, named `fk_*_org_id_*`"),
    "I5": ("Each sitter has no more than one masked number; no number is held by two sitters.",
           "the unique index `uq_message_number_assigned_sitter_id`; a number's one column "
           "`assigned_sitter_id` names one sitter, and `uq_message_number_e164` (I8) keeps one "
           "row per phone number"),
    "I6": ("Each message from the SMS provider is kept once, however many times it is posted.",
           "the unique index `uq_message_provider_provider_sid`"),
    "I7": ("A booking opens at most one assignment window.",
           "the unique index `uq_assignment_window_booking_id`"),
    "I8": ("A business number belongs to a single organization and is listed once.",
           "the unique index `uq_message_number_e164`"),
    "I9": ("Audit events are only ever added, never changed or removed.",
           "the triggers `audit_event_append_only`, which runs `audit_event_refuse_change()` "
           "before every UPDATE or DELETE of a row, and `audit_event_never_truncated`, which "
           "runs it before a TRUNCATE"),
    "I10": ("A message keeps the words, direction and phones it was sent or received with, "
            "and is never removed.",
            "the triggers `message_never_rewritten`, which runs `message_refuse_rewrite()` "
            "before every UPDATE or DELETE of a row (only the delivery state and, in a client "
            "merge, the thread may change), and `message_never_truncated`, which runs it "
            "before a TRUNCATE"),
    "I11": ("A phone's consent to be texted is one row per organization, and it is what the "
            "phone's latest consent event says; consent events are only ever added.",
            "the unique index `uq_phone_consent_org_id_e164`; the trigger "
            "`consent_event_sets_state`, which writes each new event into `phone_consent`, and "
            "`phone_consent_follows_events`, which refuses a state its event does not say or an "
            "older event; `consent_event_append_only` and `consent_event_never_truncated`, which "
            "refuse UPDATE, DELETE and TRUNCATE of consent events"),
    "I12": ("Within one organization, a saved reply's name is used once.",
            "the unique index `uq_saved_reply_org_id_name`"),
    "I13": ("An internal note keeps its words, author and time, and is never removed.",
            "the trigger `thread_note_append_only`, which runs `thread_note_refuse_change()` "
            "before every UPDATE or DELETE of a row (only a client merge may move a note to "
            "the surviving thread)"),
    "I14": ("An organization has at most one opening a weekday, and it opens before it closes.",
            "the primary key `pk_business_hours` on `business_hours (org_id, weekday)` and the "
            "checks `ck_business_hours_opens_before_closes` and "
            "`ck_business_hours_weekday_range`"),
    "I15": ("Within one organization, an address on a channel (a Telegram chat, a Messenger or "
            "Instagram user, a web-chat visitor) belongs to one client only, so it leads to one "
            "thread.",
            "the unique index `uq_client_identity_org_id_channel_address`, and the checks "
            "`ck_client_identity_channel_known` and `ck_client_identity_address_shape`"),
}

UNIQUE_INDEXES = {
    "I1": "uq_client_contact_org_id_e164",
    "I2": "uq_client_contact_client_id_e164",
    "I3": "uq_thread_org_id_client_id",
    "I5": "uq_message_number_assigned_sitter_id",
    "I6": "uq_message_provider_provider_sid",
    "I7": "uq_assignment_window_booking_id",
    "I8": "uq_message_number_e164",
    "I11": "uq_phone_consent_org_id_e164",
    "I12": "uq_saved_reply_org_id_name",
    "I14": "pk_business_hours",
    "I15": "uq_client_identity_org_id_channel_address",
}

# (child table, its id column, parent table): the composite foreign keys that hold I4.
TENANT_LINKS = [
    ("client_contact", "client_id", "client"),
    ("thread", "client_id", "client"),
    ("thread", "default_number_id", "message_number"),
    ("thread", "last_message_user_id", "app_user"),
    ("message", "thread_id", "thread"),
    ("message", "number_id", "message_number"),
    ("message", "sent_by_user_id", "app_user"),
    ("thread_event", "thread_id", "thread"),
    ("thread_event", "actor_user_id", "app_user"),
    ("booking", "client_id", "client"),
    ("booking", "sitter_id", "sitter"),
    ("assignment_window", "thread_id", "thread"),
    ("assignment_window", "booking_id", "booking"),
    ("assignment_window", "sitter_id", "sitter"),
    ("message_number", "assigned_sitter_id", "sitter"),
    ("sitter", "user_id", "app_user"),
    ("audit_event", "actor_user_id", "app_user"),
    ("user_session", "user_id", "app_user"),
    ("attachment", "message_id", "message"),
    ("thread", "assignee_user_id", "app_user"),
    ("thread_note", "thread_id", "thread"),
    ("thread_note", "author_user_id", "app_user"),
    ("scheduled_message", "thread_id", "thread"),
    ("scheduled_message", "created_by_user_id", "app_user"),
    ("scheduled_photo", "scheduled_id", "scheduled_message"),
    ("booking_message", "booking_id", "booking"),
    ("client_identity", "client_id", "client"),
]

# A trigger fires in ordinary sessions when enabled 'O' (origin) or 'A' (always); 'D' is
# disabled and 'R' fires only in sessions with session_replication_role = replica.
_FIRES = "('O', 'A')"


@dataclass(frozen=True)
class Check:
    invariant: str
    claim: str
    sql: str  # one statement, no parameters, no trailing semicolon; one row per violation
    reads_every_row: bool = False  # a data check: run by run_checks(..., full=True) only


@dataclass(frozen=True)
class Result:
    check: Check
    violations: list

    @property
    def holds(self) -> bool:
        return not self.violations


def _duplicates(table: str, columns: str) -> str:
    not_null = " AND ".join(f"{c.strip()} IS NOT NULL" for c in columns.split(","))
    return (f"SELECT {columns}, count(*) FROM {table}\n"
            f"WHERE {not_null}\n"
            f"GROUP BY {columns} HAVING count(*) > 1")


def _index_exists(name: str) -> str:
    return (f"SELECT '{name}' AS missing WHERE NOT EXISTS (\n"
            f"  SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid\n"
            f"  WHERE c.relname = '{name}'\n"
            f"    AND i.indisunique AND i.indisvalid AND i.indpred IS NULL)")


def _foreign_key_enforced(name: str) -> str:
    return (f"SELECT '{name}' AS not_enforced WHERE NOT EXISTS (\n"
            f"  SELECT 1 FROM pg_constraint k WHERE k.conname = '{name}'\n"
            f"    AND k.contype = 'f' AND k.convalidated AND NOT EXISTS ("
            f"SELECT 1 FROM pg_trigger t\n"
            f"      WHERE t.tgconstraint = k.oid AND t.tgenabled NOT IN {_FIRES}))")


def _link_broken(child: str, column: str, parent: str) -> str:
    # Exactly the foreign key's own test: catches another organization's row and a dangling id.
    return (f"SELECT c.id FROM {child} c WHERE c.{column} IS NOT NULL AND NOT EXISTS (\n"
            f"  SELECT 1 FROM {parent} p WHERE p.id = c.{column} AND p.org_id = c.org_id)")


def foreign_key_name(child: str, column: str, parent: str) -> str:
    return f"fk_{child}_{column}_org_id_{parent}"


PHONE_LEADS_TO_ONE_THREAD = """\
SELECT k.org_id, k.e164, count(DISTINCT k.client_id) AS clients, count(DISTINCT t.id) AS threads
FROM client_contact k LEFT JOIN thread t ON t.org_id = k.org_id AND t.client_id = k.client_id
GROUP BY k.org_id, k.e164
HAVING count(DISTINCT k.client_id) > 1 OR count(DISTINCT t.id) > 1"""

IDENTITY_LEADS_TO_ONE_THREAD = """\
SELECT k.org_id, k.channel, k.address, count(DISTINCT k.client_id) AS clients,
       count(DISTINCT t.id) AS threads
FROM client_identity k LEFT JOIN thread t ON t.org_id = k.org_id AND t.client_id = k.client_id
GROUP BY k.org_id, k.channel, k.address
HAVING count(DISTINCT k.client_id) > 1 OR count(DISTINCT t.id) > 1"""

NUMBER_SERVES_ONE_SITTER = """\
SELECT e164, count(DISTINCT assigned_sitter_id) AS sitters FROM message_number
WHERE assigned_sitter_id IS NOT NULL
GROUP BY e164 HAVING count(DISTINCT assigned_sitter_id) > 1"""

NUMBER_HELD_AS_IT_SHOULD = """\
SELECT n.id FROM message_number n JOIN sitter s ON s.id = n.assigned_sitter_id
WHERE NOT s.active OR n.status <> 'active'"""

# pg_trigger.tgtype bits: ROW 1, BEFORE 2, INSERT 4, DELETE 8, UPDATE 16, TRUNCATE 32.
ROW_BEFORE_UPDATE_DELETE, TRUNCATE = 27, 32
ROW_AFTER_INSERT, ROW_BEFORE_INSERT_UPDATE = 5, 23

# The triggers that refuse changes, by table: (trigger, its function, the tgtype bits it needs).
REFUSING_TRIGGERS = {
    "audit_event": [("audit_event_append_only", "audit_event_refuse_change",
                     ROW_BEFORE_UPDATE_DELETE),
                    ("audit_event_never_truncated", "audit_event_refuse_change", TRUNCATE)],
    "message": [("message_never_rewritten", "message_refuse_rewrite", ROW_BEFORE_UPDATE_DELETE),
                ("message_never_truncated", "message_refuse_rewrite", TRUNCATE)],
    "consent_event": [("consent_event_append_only", "consent_event_refuse_change",
                       ROW_BEFORE_UPDATE_DELETE),
                      ("consent_event_never_truncated", "consent_event_refuse_change", TRUNCATE),
                      ("consent_event_sets_state", "consent_event_set_state", ROW_AFTER_INSERT)],
    "phone_consent": [("phone_consent_follows_events", "phone_consent_refuse_other_state",
                       ROW_BEFORE_INSERT_UPDATE)],
    "thread_note": [("thread_note_append_only", "thread_note_refuse_change",
                     ROW_BEFORE_UPDATE_DELETE)],
}

# A phone whose consent row is not what its latest event says, or an event with no row.
CONSENT_IS_LATEST_EVENT = """\
SELECT c.org_id, c.e164 FROM phone_consent c
LEFT JOIN LATERAL (SELECT e.id, e.opted_out FROM consent_event e
  WHERE e.org_id = c.org_id AND e.e164 = c.e164 ORDER BY e.id DESC LIMIT 1) latest ON true
WHERE c.last_event_id IS DISTINCT FROM latest.id
   OR c.opted_out IS DISTINCT FROM coalesce(latest.opted_out, false)
UNION ALL
SELECT e.org_id, e.e164 FROM consent_event e
WHERE NOT EXISTS (SELECT 1 FROM phone_consent c WHERE c.org_id = e.org_id AND c.e164 = e.e164)
GROUP BY e.org_id, e.e164"""


def _triggers_fire(table: str) -> str:
    """One row per trigger of REFUSING_TRIGGERS[table] that is missing, disabled, runs another
    function or fires on fewer operations."""
    expected = ", ".join(f"('{name}', '{function}', {bits})"
                         for name, function, bits in REFUSING_TRIGGERS[table])
    return (f"SELECT e.name AS missing FROM (VALUES {expected}) AS e (name, function, bits)\n"
            f"WHERE NOT EXISTS (\n"
            f"  SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            f"JOIN pg_proc f ON f.oid = t.tgfoid\n"
            f"  WHERE c.relname = '{table}' AND t.tgname = e.name AND f.proname = e.function\n"
            f"    AND t.tgenabled IN {_FIRES} AND t.tgtype & e.bits = e.bits)")


def checks() -> list[Check]:
    """Every proof query, by invariant (I1 to I15), those `doctor` runs before the --full
    ones."""
    found = [
        Check("I1", "no (org_id, e164) appears twice in client_contact",
              _duplicates("client_contact", "org_id, e164"), reads_every_row=True),
        Check("I2", "no client lists a phone twice",
              _duplicates("client_contact", "client_id, e164"), reads_every_row=True),
        Check("I3", "no client has two threads", _duplicates("thread", "org_id, client_id"),
              reads_every_row=True),
        Check("I3", "each phone leads to one client and at most one thread",
              PHONE_LEADS_TO_ONE_THREAD, reads_every_row=True),
        Check("I5", "no sitter holds two numbers",
              _duplicates("message_number", "assigned_sitter_id"), reads_every_row=True),
        Check("I5", "no number serves two sitters", NUMBER_SERVES_ONE_SITTER,
              reads_every_row=True),
        Check("I5", "no number is assigned to an inactive sitter or while quarantined",
              NUMBER_HELD_AS_IT_SHOULD),
        Check("I6", "no provider message is stored twice",
              _duplicates("message", "provider, provider_sid"), reads_every_row=True),
        Check("I7", "no booking has two assignment windows",
              _duplicates("assignment_window", "booking_id"), reads_every_row=True),
        Check("I8", "no number is in two pools", _duplicates("message_number", "e164"),
              reads_every_row=True),
        Check("I9", "the audit trail refuses UPDATE, DELETE and TRUNCATE (triggers installed "
              "and enabled)", _triggers_fire("audit_event")),
        Check("I10", "messages refuse rewriting, DELETE and TRUNCATE (triggers installed and "
              "enabled)", _triggers_fire("message")),
        Check("I11", "consent events refuse UPDATE, DELETE and TRUNCATE and set their phone's "
              "state (triggers installed and enabled)", _triggers_fire("consent_event")),
        Check("I11", "a phone's consent refuses a state its events do not say (trigger "
              "installed and enabled)", _triggers_fire("phone_consent")),
        Check("I11", "no phone has two consent rows in an organization",
              _duplicates("phone_consent", "org_id, e164"), reads_every_row=True),
        Check("I11", "the consent of every phone is what its latest consent event says",
              CONSENT_IS_LATEST_EVENT,
              reads_every_row=True),
        Check("I12", "no organization has two saved replies of one name",
              _duplicates("saved_reply", "org_id, name"), reads_every_row=True),
        Check("I13", "internal notes refuse UPDATE and DELETE (trigger installed and enabled)",
              _triggers_fire("thread_note")),
        Check("I14", "no organization has two openings on one weekday",
              _duplicates("business_hours", "org_id, weekday"), reads_every_row=True),
        Check("I14", "no opening closes before it opens or falls on no weekday",
              "SELECT org_id, weekday FROM business_hours\n"
              "WHERE NOT (opens < closes AND weekday BETWEEN 0 AND 6)", reads_every_row=True),
        Check("I15", "no channel address is listed for two identities in an organization",
              _duplicates("client_identity", "org_id, channel, address"), reads_every_row=True),
        Check("I15", "each channel address leads to one client and at most one thread",
              IDENTITY_LEADS_TO_ONE_THREAD, reads_every_row=True),
    ]
    for child, column, parent in TENANT_LINKS:
        name = foreign_key_name(child, column, parent)
        found.append(Check("I4", f"the foreign key {name} is validated and enforced",
                           _foreign_key_enforced(name)))
        found.append(Check("I4", f"every {child}.{column} is a row of {parent} in its organization",
                           _link_broken(child, column, parent), reads_every_row=True))
    for invariant, name in UNIQUE_INDEXES.items():
        found.append(Check(invariant, f"the unique index {name} exists and is valid",
                           _index_exists(name)))
    return sorted(found, key=lambda c: (int(c.invariant[1:]), c.reads_every_row))


def run_checks(connection, full: bool = False) -> list[Result]:
    """Run the catalog checks, and with `full` the data checks too; answer the results."""
    return [
        Result(check, [tuple(row) for row in connection.execute(sa.text(check.sql)).fetchmany(5)])
        for check in checks() if full or not check.reads_every_row
    ]
