"""Internal notes: in the timeline, never sent, append-only, seen by sitters only on threads they
can open, and found by the inbox search."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from pawline import clients, inbox, notes
from pawline.clock import utcnow
from pawline.db import constraint_name, db
from pawline.desk_models import ThreadNote
from pawline.inbound import receive_sms
from pawline.models import Message, Thread
from pawline.search import thread_filter
from tests import factories

HX = {"HX-Request": "true"}
POOL, PHONE = factories.POOL, factories.CLIENT_PHONE


@pytest.fixture
def world(app):
    with app.app_context():
        return factories.org_with_thread()


def refused(statement) -> tuple[str | None, str]:
    with pytest.raises(IntegrityError) as caught, db.session.begin_nested():
        db.session.execute(statement)
    return constraint_name(caught.value), caught.value.orig.sqlstate


def test_staff_add_a_note_that_shows_its_author_and_is_never_sent(app, client, auth, world):
    auth.sign_in(world.staff_email)
    response = client.post(f"/threads/{world.thread_id}/notes", headers=HX,
                           data={"body": "Rex bites strangers: ring twice"})

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    note = html.split('<li class="note"', 1)[1].split("</li>", 1)[0]
    assert "Internal note" in note and "Rex bites strangers: ring twice" in note
    assert "staff" in note  # the author (email, as the user has no name)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1
        assert db.session.scalar(sa.select(Thread.last_message_preview)) == "Is Rex okay?"


def test_a_note_time_is_shown_in_the_organizations_zone(app, client, auth, world):
    with app.app_context():
        at = utcnow().replace(hour=15, minute=5, second=0, microsecond=0)  # 10:05 AM in New York
        notes.add_note(world.id, world.thread_id, world.staff_user_id, "Vet at noon", now=at)
    auth.sign_in(world.staff_email)
    html = client.get(f"/threads/{world.thread_id}").get_data(as_text=True)
    note = html.split('<li class="note"', 1)[1].split("</li>", 1)[0]
    assert "10:05 AM" in note


def test_an_empty_note_is_a_form_error(app, client, auth, world):
    auth.sign_in(world.staff_email)
    response = client.post(f"/threads/{world.thread_id}/notes", headers=HX, data={"body": "  "})
    assert response.status_code == 400 and "Write the note first." in response.get_data(
        as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ThreadNote)) == 0


def test_a_sitter_sees_notes_only_on_a_thread_they_can_open_and_cannot_add_one(
        app, client, auth, world):
    with app.app_context():
        notes.add_note(world.id, world.thread_id, world.staff_user_id, "Key under the mat")
    auth.sign_in(world.sitter_email)
    assert client.get(f"/threads/{world.thread_id}").status_code == 404
    with app.app_context():
        now = utcnow()
        factories.book_sitter(world.id, world.thread_id, world.sitter_email,
                              now - timedelta(hours=1), now + timedelta(hours=1))

    page = client.get(f"/threads/{world.thread_id}").get_data(as_text=True)
    assert "Key under the mat" in page and "Add an internal note" not in page
    assert client.post(f"/threads/{world.thread_id}/notes",
                       data={"body": "sitter note"}).status_code == 404


def test_the_thread_poll_shows_a_colleagues_new_note(app, client, auth, world):
    auth.sign_in(world.staff_email)
    page = client.get(f"/threads/{world.thread_id}").get_data(as_text=True)
    url = page.split('id="timeline"', 1)[1].split('hx-get="', 1)[1].split('"', 1)[0] \
        .replace("&amp;", "&")
    with app.app_context():
        notes.add_note(world.id, world.thread_id, world.owner_user_id, "Called the vet")
    assert "Called the vet" in client.get(url, headers=HX).get_data(as_text=True)


# --- append-only (I12) and its constraints -------------------------------------------------

def test_a_note_cannot_be_rewritten_or_removed_but_a_merge_moves_it(ctx):
    org = factories.org_with_thread()
    guest_thread = org.thread_id
    note_id = notes.add_note(org.id, guest_thread, org.staff_user_id, "Rex bites")

    for change in (sa.update(ThreadNote).values(body="Rex is sweet"),
                   sa.update(ThreadNote).values(author_user_id=org.owner_user_id),
                   sa.update(ThreadNote).values(created_at=utcnow() - timedelta(days=1)),
                   sa.delete(ThreadNote)):
        assert refused(change) == ("thread_note_append_only", "23001")

    guest_id = db.session.get(Thread, guest_thread).client_id
    survivor = factories.client(org.id, "Ada Lovelace", factories.phone())
    clients.merge_client(org.id, guest_id, survivor, None)
    survivor_thread = db.session.scalar(sa.select(Thread.id).where(Thread.client_id == survivor))
    assert db.session.scalar(sa.select(ThreadNote.thread_id).where(
        ThreadNote.id == note_id)) == survivor_thread


def test_the_body_length_check_refuses_empty_and_huge_notes(ctx):
    org = factories.org_with_thread()
    thread_id = org.thread_id
    row = {"org_id": org.id, "thread_id": thread_id, "author_user_id": org.staff_user_id}

    for body in ("", "   ", "x" * 2001):
        assert refused(sa.insert(ThreadNote).values(**row, body=body))[0] == \
            "ck_thread_note_body_length"
    with db.session.begin_nested():
        db.session.execute(sa.insert(ThreadNote).values(**row, body="x" * 2000))


# --- search ----------------------------------------------------------------------------------

def test_the_inbox_search_finds_a_thread_by_the_words_of_its_notes(ctx):
    mine, theirs = factories.org(), factories.org()
    factories.number(mine.id, POOL, "pool")
    factories.number(theirs.id, "+14155550102", "pool")
    rex = receive_sms(POOL, PHONE, "Hi", "SMsearch1").thread_id
    receive_sms(POOL, factories.phone(), "Hi", "SMsearch2")
    theirs_thread = receive_sms("+14155550102", PHONE, "Hi", "SMsearch3").thread_id
    notes.add_note(mine.id, rex, mine.staff_user_id, "Gate code 4411, allergic to chicken")
    notes.add_note(theirs.id, theirs_thread, theirs.staff_user_id, "allergic to chicken too")

    assert [r.id for r in inbox.list_threads(mine.id, "all", "allerg chick").rows] == [rex]
    assert inbox.list_threads(mine.id, "all", "allergic beef").rows == []
    assert [r.id for r in inbox.list_threads(theirs.id, "all", "chicken").rows] == [
        theirs_thread]


def test_note_search_can_use_the_words_index(ctx):
    org = factories.org()
    statement = sa.select(Thread.id).where(thread_filter(org.id, "chick", "US"))
    sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
    db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(db.session.scalars(sa.text("EXPLAIN " + sql)))
    assert "ix_thread_note_body_words" in plan, plan
    assert "Unique" in plan  # the matching threads first, from the union; not every thread
