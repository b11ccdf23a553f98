"""Search by words of a name (the inbox and clients page share pawline.search)."""

import pytest
import sqlalchemy as sa

from pawline import clients, inbox
from pawline.db import db
from pawline.models import Client
from pawline.search import client_filter
from pawline.threads import find_or_create_thread
from tests import factories


def names(org_id: int, query: str) -> set[str]:
    return {r.name for r in clients.search_clients(org_id, query).rows}


def test_every_word_typed_must_start_a_word_of_the_name(ctx):
    org = factories.org()
    for name in ("Ada Lovelace", "Adam Smith", "Mary-Jane O'Brien", "Zoë Ångström"):
        factories.client(org.id, name)
    assert names(org.id, "ada lov") == {"Ada Lovelace"}
    assert names(org.id, "LOV ada") == {"Ada Lovelace"}  # any order, any case
    assert names(org.id, "ada") == {"Ada Lovelace", "Adam Smith"}
    assert names(org.id, "jane") == {"Mary-Jane O'Brien"}
    assert names(org.id, "o'brien") == {"Mary-Jane O'Brien"}
    assert names(org.id, "zoë ång") == {"Zoë Ångström"}
    assert names(org.id, "velace") == set()  # the start of a word, not any part of it
    assert names(org.id, "ada smith") == {"Adam Smith"}
    assert names(org.id, "ada brien") == set()  # every word must match


@pytest.mark.parametrize("typed", ["ada:* | !x", "a & b", "ada') OR true --", "\\", "%", "_",
                                   "!!!", "<->", "ada:A"])
def test_tsquery_syntax_typed_is_only_text(ctx, typed):
    org = factories.org()
    factories.client(org.id, "Ada Lovelace")
    factories.client(org.id, "Grace Hopper")
    found = names(org.id, typed)  # no syntax error, and nothing beyond what the words match
    assert found <= {"Ada Lovelace"}


def test_the_inbox_finds_a_thread_by_words_of_its_clients_name(ctx):
    org = factories.org()
    ada = factories.client(org.id, "Ada Lovelace", "+14155550123")
    factories.client(org.id, "Adam Smith", "+14155550124")
    thread_id = find_or_create_thread(org.id, ada)
    db.session.commit()
    assert [r.id for r in inbox.list_threads(org.id, "all", "lovel").rows] == [thread_id]
    assert inbox.list_threads(org.id, "all", "smith").rows == []  # no thread yet


def test_another_organizations_client_of_the_same_name_is_never_found(ctx):
    mine, theirs = factories.org(), factories.org()
    factories.client(theirs.id, "Ada Lovelace")
    assert names(mine.id, "ada") == set()


def test_name_search_can_use_the_words_index(ctx):
    """The query's expression is the index's: with scans off, the planner picks the index."""
    org = factories.org()
    factories.client(org.id, "Ada Lovelace")
    statement = sa.select(Client.id).where(client_filter(org.id, "ada lov", "US"))
    sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
    db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(db.session.scalars(sa.text("EXPLAIN " + sql)))
    assert "ix_client_name_words" in plan, plan
