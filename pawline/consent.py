"""Consent to be texted: opt-out and opt-in keywords, honoured for a phone across an organization.

A client who texts STOP to any of our numbers (a sitter's, the front desk, a pool number) is opted
out for the whole organization; START opts them back in. Each change is a `consent_event`, and
the database keeps `phone_consent` equal to the phone's latest one (pawline.consent_models).

Every send holds the phone's `phone_consent` row FOR SHARE (`hold`) from the moment it is
decided until its transaction ends: the web request while it stores the message, the delivery
worker until the provider has answered. A keyword's change takes the row FOR UPDATE, so it waits
for sends in flight, and every send decided after it sees it: no send follows a stored STOP.
"""

import unicodedata
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from pawline import audit
from pawline.accounts import org_zone
from pawline.clock import utcnow
from pawline.consent_models import ConsentEvent, PhoneConsent
from pawline.db import db, run_sql
from pawline.errors import DomainError
from pawline.models import MessageNumber, Organization
from pawline.phones import display_phone
from pawline.threads import add_event

OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})
OPT_OUT, OPT_IN, HELP = "opt_out", "opt_in", "help"
HELP_REPLY_MAX = 320  # two SMS segments at most
OPTED_OUT_NOTE = "opted out"


@dataclass(frozen=True)
class Keyword:
    kind: str  # opt_out, opt_in or help
    word: str  # as we list it: STOP, START, HELP...


def _is_edge(char: str) -> bool:
    """Whitespace, punctuation or an invisible format character around a keyword."""
    return char.isspace() or unicodedata.category(char)[0] == "P" or unicodedata.category(
        char) == "Cf"


def keyword(body: str | None) -> Keyword | None:
    """The keyword a whole message body is, or None: "STOP." and " stop " are, "Stop by?" not."""
    text = unicodedata.normalize("NFKC", body or "")
    start, end = 0, len(text)
    while start < end and _is_edge(text[start]):
        start += 1
    while end > start and _is_edge(text[end - 1]):
        end -= 1
    word = text[start:end].upper()
    for kind, words in ((OPT_OUT, OPT_OUT_WORDS), (OPT_IN, OPT_IN_WORDS), (HELP, HELP_WORDS)):
        if word in words:
            return Keyword(kind, word)
    return None


@dataclass(frozen=True)
class OptOut:
    e164: str
    since: datetime
    keyword: str | None
    source: str  # keyword or provider


class OptedOut(DomainError):
    """A send to an opted-out phone: refused before anything is stored."""

    field = "body"

    def __init__(self, who: str, opt_out: OptOut, org_id: int, field: str = "body"):
        super().__init__(f"{who} {describe(opt_out, org_id)}. Messages can't be sent until "
                         "they text START.", field)
        self.opt_out = opt_out


def describe(opt_out: OptOut, org_id: int, zone=None) -> str:
    """'opted out on 3 Dec 2026 (texted STOP)', the day in the organization's time zone."""
    day = opt_out.since.astimezone(zone or org_zone(org_id))
    why = (f"texted {opt_out.keyword}" if opt_out.keyword
           else "Twilio reported it: error 21610")
    return f"{OPTED_OUT_NOTE} on {day.day} {day:%b %Y} ({why})"


ENSURE_ROW = """
    INSERT INTO phone_consent (org_id, e164) VALUES (%(org)s, %(e164)s)
    ON CONFLICT (org_id, e164) DO NOTHING"""
HOLD = """
    SELECT c.opted_out, c.changed_at, e.keyword, e.source
    FROM phone_consent c LEFT JOIN consent_event e ON e.id = c.last_event_id
    WHERE c.org_id = %(org)s AND c.e164 = %(e164)s FOR {mode} OF c"""
INSERT_EVENT = """
    INSERT INTO consent_event (org_id, e164, opted_out, source, keyword, message_id, detail,
                               created_at)
    VALUES (%(org)s, %(e164)s, %(out)s, %(source)s, %(keyword)s, %(message)s, %(detail)s,
            %(now)s)
    RETURNING id"""
# Messages of the thread still waiting for a worker: canceled now rather than at their claim
# (all but the answer to HELP, which goes whatever the consent; an after-hours reply does not).
# SMS only: consent is the phone's for texts, and a WhatsApp reply to the phone is not a text.
CANCEL_WAITING = """
    UPDATE message SET status = 'canceled', next_attempt_at = NULL, status_updated_at = %(now)s,
        error_message = %(why)s
    WHERE thread_id = %(thread)s AND org_id = %(org)s AND to_e164 = %(e164)s
      AND direction = 'outbound' AND status = 'queued' AND provider_sid IS NULL
      AND auto_reply IS DISTINCT FROM 'help' AND channel = 'sms'"""


def _locked(org_id: int, e164: str, mode: str):
    """The phone's consent row, made if missing, locked until the transaction ends.

    A phone that has been written to has its row, so the lock is tried first: one statement
    for every send but a phone's first. Making the row is still one atomic statement (a racing
    STOP that makes it first wins, and is then read and held like any other row)."""
    key = {"org": org_id, "e164": e164}
    row = run_sql(HOLD.format(mode=mode), key).fetchone()
    if row is None:
        run_sql(ENSURE_ROW, key)
        row = run_sql(HOLD.format(mode=mode), key).fetchone()
    return row


def hold(org_id: int, e164: str) -> OptOut | None:
    """Hold the phone's consent for a send until the transaction ends; its opt-out, if any."""
    row = _locked(org_id, e164, "SHARE")
    if not row.opted_out:
        return None
    return OptOut(e164, row.changed_at, row.keyword, row.source)


def opted_out_phones(org_id: int, phones: list[str]) -> dict[str, str]:
    """Which of these phones opted out, each with when and how ('opted out on 3 Dec 2026...')."""
    if not phones:
        return {}
    rows = db.session.execute(
        sa.select(PhoneConsent.e164, PhoneConsent.changed_at, ConsentEvent.keyword,
                  ConsentEvent.source)
        .join(ConsentEvent, ConsentEvent.id == PhoneConsent.last_event_id)
        .where(PhoneConsent.org_id == org_id, PhoneConsent.e164.in_(phones),
               PhoneConsent.opted_out)).all()
    zone = org_zone(org_id) if rows else None
    return {row.e164: describe(OptOut(row.e164, row.changed_at, row.keyword, row.source),
                               org_id, zone) for row in rows}


def not_sent_note(opt_out: OptOut, org_id: int) -> str:
    """The error a queued message shows when its phone opted out before it was handed over."""
    return f"Not sent: {display_phone(opt_out.e164)} {describe(opt_out, org_id)}."


def change(org_id: int, thread_id: int, e164: str, opted_out: bool, source: str,
           keyword_word: str | None = None, message_id: int | None = None,
           now: datetime | None = None) -> bool:
    """Record that the phone opted out (or in), in the caller's transaction: a consent event,
    a line in the thread's timeline and an audit event. False when it already was so."""
    now = now or utcnow()
    if _locked(org_id, e164, "UPDATE").opted_out == opted_out:
        return False
    shown = display_phone(e164)
    if source == "keyword":
        detail = f"{shown} texted {keyword_word}: " + (
            "opted out of all messages from us; nothing can be sent until they text START"
            if opted_out else "opted back in to messages")
        actor = f"Client {shown} (texted {keyword_word})"
    else:
        detail = (f"Twilio refused a message to {shown} (error 21610: the phone opted out): "
                  "opted out of all messages from us")
        actor = "Twilio (error 21610)"
    event_id = run_sql(INSERT_EVENT, {
        "org": org_id, "e164": e164, "out": opted_out, "source": source,
        "keyword": keyword_word, "message": message_id, "detail": detail, "now": now,
    }).fetchone().id
    add_event(org_id, thread_id, "opted_out" if opted_out else "opted_in", detail, now=now)
    audit.record(org_id, None, "consent.opted_out" if opted_out else "consent.opted_in",
                 "consent_event", event_id,
                 {"phone": e164, "source": source, "keyword": keyword_word, "actor": actor,
                  "message_id": message_id}, now=now)
    if opted_out:
        run_sql(CANCEL_WAITING, {"thread": thread_id, "org": org_id, "e164": e164, "now": now,
                                 "why": f"Not sent: {shown} {OPTED_OUT_NOTE}."})
    return True


def default_help_reply(org_id: int) -> str:
    """The answer to HELP until the owner writes one: the business's name, and how to reach it
    (this line, and the front desk's number when it has one in service)."""
    org = db.session.get(Organization, org_id)
    front_desk = db.session.scalar(sa.select(MessageNumber.e164).where(
        MessageNumber.org_id == org_id, MessageNumber.number_class == "front_desk",
        MessageNumber.status == "active"))
    call = f", or text our front desk at {display_phone(front_desk)}" if front_desk else ""
    return (f"{org.name}: this is our text line. Reply here and our team will answer{call}. "
            "Reply STOP to opt out, START to opt back in.")


def help_reply(org_id: int) -> str:
    """What HELP or INFO is answered with: the owner's text, or one naming the business."""
    org = db.session.get(Organization, org_id)
    return org.help_reply or default_help_reply(org_id)


def set_help_reply(org_id: int, text: str | None, actor_user_id: int | None) -> str:
    """The owner's answer to HELP (empty: the default again); audited. Answers the text in use."""
    text = " ".join((text or "").split())
    if len(text) > HELP_REPLY_MAX:
        raise DomainError(f"Keep the answer under {HELP_REPLY_MAX} characters.", "text")
    org = db.session.get(Organization, org_id)
    org.help_reply = text or None
    audit.record(org_id, actor_user_id, "settings.help_reply", "organization", org_id,
                 {"text": text or None})
    db.session.commit()
    return help_reply(org_id)
