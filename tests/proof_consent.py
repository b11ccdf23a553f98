"""I11's scenarios for tests/test_proofs.py: a phone's consent broken each way an operator could."""

from tests import proof_world as pw
from tests.proof_world import PHONE


def consent_scenarios(o, claim, index_missing) -> dict:
    """Name -> (the psql setup, what each claim's query then answers)."""
    events = claim("consent events refuse")
    latest = claim("latest consent event says")
    one_row = f"INSERT INTO phone_consent (org_id, e164) VALUES ({o.org}, '{PHONE}');"
    where = f"WHERE org_id = {o.org} AND e164 = '{o.phone}'"
    return {
        "I11 a phone with two consent rows": (
            pw.drop_constraint("uq_phone_consent_org_id_e164") + one_row + one_row,
            {**index_missing("uq_phone_consent_org_id_e164"),
             claim("two consent rows"): [f"{o.org}|{PHONE}|2"]}),
        "I11 a state its event does not say": (
            "ALTER TABLE phone_consent DISABLE TRIGGER phone_consent_follows_events;"
            f"UPDATE phone_consent SET opted_out = false {where};",
            {claim("refuses a state"): ["phone_consent_follows_events"],
             latest: [f"{o.org}|{o.phone}"]}),
        "I11 a consent event rewritten": (
            "ALTER TABLE consent_event DISABLE TRIGGER consent_event_append_only;"
            f"UPDATE consent_event SET opted_out = false {where};",
            {events: ["consent_event_append_only"], latest: [f"{o.org}|{o.phone}"]}),
        "I11 consent events truncatable": (
            "DROP TRIGGER consent_event_never_truncated ON consent_event;",
            {events: ["consent_event_never_truncated"]}),
        "I11 an event that set no state": (
            "ALTER TABLE consent_event DISABLE TRIGGER consent_event_sets_state;"
            "INSERT INTO consent_event (org_id, e164, opted_out, source, keyword) "
            f"VALUES ({o.org}, '{PHONE}', true, 'keyword', 'STOP');",
            {events: ["consent_event_sets_state"], latest: [f"{o.org}|{PHONE}"]}),
    }
