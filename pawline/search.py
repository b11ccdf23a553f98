"""What staff type in a search box, as one WHERE clause on clients (the inbox and clients page).

A phone in any format matches that phone exactly; three or more digits and nothing else match
phones containing them; anything else matches clients having a word starting with each word
typed ("ada lov" finds "Ada Lovelace"), served by the full-text index ix_client_name_words so a
search costs the same at 100,000 clients as at 1,000 (docs/benchmarks.md).
"""

import re

import sqlalchemy as sa

from pawline.models import Client, ClientContact
from pawline.phones import try_normalize


def client_filter(org_id: int, query: str, region: str):
    """A WHERE clause on Client for what was typed (a non-empty, stripped query)."""
    digits = re.sub(r"\D", "", query)
    owners = sa.select(ClientContact.client_id).where(ClientContact.org_id == org_id)
    e164 = try_normalize(query, region) if digits else None
    if e164:
        return Client.id.in_(owners.where(ClientContact.e164 == e164))
    if len(digits) >= 3 and not re.sub(r"[\d\s()+.\-]", "", query):
        # part of a number: a scan of the organization's phones, see docs/benchmarks.md
        return Client.id.in_(owners.where(ClientContact.e164.contains(digits, autoescape=True)))
    return name_words_match(query)


def name_words_match(query: str):
    """Clients whose name has a word starting with each word of `query`, whatever the case."""
    words = re.findall(r"[^\W_]+", query.lower())
    if not words:
        return sa.false()
    # Letters and digits only, so nothing typed can change the tsquery's syntax.
    prefixes = " & ".join(f"{word}:*" for word in words)
    simple = sa.literal_column("'simple'::regconfig")
    words_of_name = sa.func.to_tsvector(simple, Client.name)  # ix_client_name_words, exactly
    return words_of_name.bool_op("@@")(sa.func.to_tsquery(simple, prefixes))
