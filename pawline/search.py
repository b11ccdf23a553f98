"""What staff type in a search box, as one WHERE clause on clients (the inbox and clients page).

A phone in any format matches that phone exactly; three or more digits and nothing else match
phones containing them; anything else matches clients having a word starting with each word
typed ("ada lov" finds "Ada Lovelace"), served by the full-text index ix_client_name_words so a
search costs the same at 100,000 clients as at 1,000 (docs/benchmarks.md). The inbox also finds
threads by the words of their internal notes, the same way through ix_thread_note_body_words.
"""

import re

import sqlalchemy as sa

from pawline.desk_models import ThreadNote
from pawline.models import Client, ClientContact, Thread
from pawline.phones import try_normalize


def _phone_query(query: str, region: str) -> str | None:
    """'e164' for a whole phone, 'digits' for part of one, None for words."""
    digits = re.sub(r"\D", "", query)
    if digits and try_normalize(query, region):
        return "e164"
    if len(digits) >= 3 and not re.sub(r"[\d\s()+.\-]", "", query):
        return "digits"
    return None


def client_filter(org_id: int, query: str, region: str):
    """A WHERE clause on Client for what was typed (a non-empty, stripped query)."""
    owners = sa.select(ClientContact.client_id).where(ClientContact.org_id == org_id)
    kind = _phone_query(query, region)
    if kind == "e164":
        return Client.id.in_(owners.where(ClientContact.e164 == try_normalize(query, region)))
    if kind == "digits":
        # part of a number: a scan of the organization's phones, see docs/benchmarks.md
        digits = re.sub(r"\D", "", query)
        return Client.id.in_(owners.where(ClientContact.e164.contains(digits, autoescape=True)))
    return name_words_match(query)


def thread_filter(org_id: int, query: str, region: str):
    """A WHERE clause on Thread (joined to its Client): the client matches, or for words, one
    of the thread's notes has a word starting with each word typed.

    For words, one IN over a UNION of the two index searches, so the planner can start from
    the few matching threads instead of testing every thread of the organization."""
    if _phone_query(query, region):
        return client_filter(org_id, query, region)
    by_name = (sa.select(Thread.id)
               .join(Client, sa.and_(Client.id == Thread.client_id,
                                     Client.org_id == Thread.org_id))
               .where(Thread.org_id == org_id, name_words_match(query)))
    by_note = sa.select(ThreadNote.thread_id).where(
        ThreadNote.org_id == org_id, _words_match(ThreadNote.body, query))
    return Thread.id.in_(sa.union(by_name, by_note))


def _prefixes(query: str) -> str | None:
    words = re.findall(r"[^\W_]+", query.lower())
    # Letters and digits only, so nothing typed can change the tsquery's syntax.
    return " & ".join(f"{word}:*" for word in words) if words else None


def _words_match(column, query: str):
    prefixes = _prefixes(query)
    if prefixes is None:
        return sa.false()
    simple = sa.literal_column("'simple'::regconfig")
    words_of = sa.func.to_tsvector(simple, column)  # the words index's expression, exactly
    return words_of.bool_op("@@")(sa.func.to_tsquery(simple, prefixes))


def name_words_match(query: str):
    """Clients whose name has a word starting with each word of `query`, whatever the case."""
    return _words_match(Client.name, query)
