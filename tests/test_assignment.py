"""Assignment: a thread goes to a teammate of its own organization, every change is in the
timeline, the inbox's Mine and Unassigned filters combine with the tabs, and an inbound message
on a closed thread keeps its assignee."""

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from pawline import assignment, inbox, notes, threads
from pawline.db import constraint_name, db
from pawline.errors import DomainError
from pawline.inbound import receive_sms
from pawline.models import Thread, ThreadEvent
from tests import factories

HX = {"HX-Request": "true"}
POOL, PHONE = factories.POOL, factories.CLIENT_PHONE


@pytest.fixture
def world(app):
    with app.app_context():
        return factories.org_with_thread()


def assignee(thread_id: int) -> int | None:
    return db.session.scalar(sa.select(Thread.assignee_user_id).where(Thread.id == thread_id)
                             .execution_options(populate_existing=True))


def events(thread_id: int) -> list[str]:
    return db.session.scalars(sa.select(ThreadEvent.detail).where(
        ThreadEvent.thread_id == thread_id, ThreadEvent.kind.in_(("assigned", "unassigned")))
        .order_by(ThreadEvent.id)).all()


def test_the_foreign_key_refuses_another_organizations_user(ctx):
    mine, theirs = factories.org_with_thread(), factories.org()
    thread_id = mine.thread_id
    update = sa.update(Thread).where(Thread.id == thread_id)

    with pytest.raises(IntegrityError) as caught, db.session.begin_nested():
        db.session.execute(update.values(assignee_user_id=theirs.staff_user_id))
    assert constraint_name(caught.value) == "fk_thread_assignee_user_id_org_id_app_user"
    for allowed in (mine.staff_user_id, mine.owner_user_id, None):
        with db.session.begin_nested():
            db.session.execute(update.values(assignee_user_id=allowed))


def test_assign_to_me_then_a_teammate_then_nobody_each_a_timeline_line(app, client, auth,
                                                                     world):
    auth.sign_in(world.staff_email)
    url = f"/threads/{world.thread_id}/assign"
    page = client.post(url, headers=HX, data={"assignee_user_id": "me"}).get_data(as_text=True)
    assert "Assigned to <strong>staff" in page and "took this conversation" in page

    assert client.post(url, headers=HX, data={
        "assignee_user_id": str(world.owner_user_id)}).status_code == 200
    with app.app_context():
        assert assignee(world.thread_id) == world.owner_user_id
    assert client.post(url, headers=HX, data={"assignee_user_id": ""}).status_code == 200
    with app.app_context():
        assert assignee(world.thread_id) is None
        staff, owner = (email.split("@")[0] for email in (world.staff_email, world.owner_email))
        assert events(world.thread_id) == [f"{staff} took this conversation",
                                           f"Assigned to {owner} by {staff}",
                                           f"Unassigned by {staff}"]


def test_assigning_the_same_person_again_adds_no_line(ctx):
    org = factories.org_with_thread()
    thread_id = org.thread_id

    assert assignment.assign_thread(org.id, thread_id, org.staff_user_id, org.staff_user_id)
    assert not assignment.assign_thread(org.id, thread_id, org.staff_user_id, org.owner_user_id)
    assert len(events(thread_id)) == 1


@pytest.mark.parametrize("who", ["theirs", "sitter", "junk", "huge"])
def test_only_a_teammate_can_be_assigned(app, client, auth, world, who):
    with app.app_context():
        theirs = factories.org()
    value = {"theirs": theirs.staff_user_id, "sitter": world.sitter_user_id, "junk": "abc",
             "huge": 10**22}[who]
    auth.sign_in(world.staff_email)

    response = client.post(f"/threads/{world.thread_id}/assign", headers=HX,
                           data={"assignee_user_id": str(value)})

    assert response.status_code == 400
    assert "Pick a teammate of this organization." in response.get_data(as_text=True)
    with app.app_context():
        assert assignee(world.thread_id) is None and events(world.thread_id) == []


def test_the_domain_refuses_a_sitter_and_a_deactivated_user(ctx):
    from pawline import accounts

    org = factories.org_with_thread()
    thread_id = org.thread_id
    accounts.set_active(org.staff_email, False)
    for user_id in (org.sitter_user_id, org.staff_user_id):
        with pytest.raises(DomainError):
            assignment.assign_thread(org.id, thread_id, user_id, org.owner_user_id)


def test_sitters_cannot_assign(client, auth, world):
    auth.sign_in(world.sitter_email)
    assert client.post(f"/threads/{world.thread_id}/assign",
                       data={"assignee_user_id": "me"}).status_code == 404


def test_an_inbound_message_on_a_closed_thread_keeps_its_assignee(ctx):
    org = factories.org_with_thread()
    thread_id = org.thread_id
    assignment.assign_thread(org.id, thread_id, org.staff_user_id, org.owner_user_id)
    threads.close_thread(org.id, thread_id, org.owner_user_id)

    receive_sms(POOL, PHONE, "One more thing", "SMassign6")

    row = db.session.execute(sa.select(Thread.status, Thread.assignee_user_id).where(
        Thread.id == thread_id).execution_options(populate_existing=True)).one()
    assert tuple(row) == ("open", org.staff_user_id)


def test_mine_and_unassigned_combine_with_the_tabs(ctx):
    org = factories.org()
    factories.number(org.id, POOL, "pool")
    ids = [receive_sms(POOL, factories.phone(), "Hi", f"SMtabs{n}").thread_id for n in range(4)]
    mine_open, mine_closed, owners, nobodys = ids
    for thread_id in (mine_open, mine_closed):
        assignment.assign_thread(org.id, thread_id, org.staff_user_id, org.staff_user_id)
    assignment.assign_thread(org.id, owners, org.owner_user_id, org.owner_user_id)
    threads.close_thread(org.id, mine_closed, None)

    def listed(tab: str, who: str) -> set[int]:
        return {r.id for r in inbox.list_threads(org.id, tab, who=who,
                                                 user_id=org.staff_user_id).rows}

    assert listed("open", "mine") == {mine_open}
    assert listed("closed", "mine") == {mine_closed}
    assert listed("all", "mine") == {mine_open, mine_closed}
    assert listed("open", "unassigned") == {nobodys}
    assert listed("all", "all") == set(ids)

    def counted(who: str) -> dict[str, int]:  # the tabs' counts follow the filter
        return inbox.tab_counts(org.id, who, org.staff_user_id)

    assert counted("mine") == {"open": 1, "snoozed": 0, "closed": 1, "all": 2}
    assert counted("unassigned") == {"open": 1, "snoozed": 0, "closed": 0, "all": 1}
    assert counted("all") == {"open": 3, "snoozed": 0, "closed": 1, "all": 4}


def test_the_inbox_tabs_count_what_the_filter_lists(app, client, auth, world):
    with app.app_context():
        assignment.assign_thread(world.id, world.thread_id, world.staff_user_id, None)
        receive_sms(POOL, factories.phone(), "Hi", "SMcount1")
    auth.sign_in(world.staff_email)

    def open_count(url: str) -> str:
        html = client.get(url).get_data(as_text=True)
        return html.split('aria-current="page">Open <span class="count">', 1)[1].split("<", 1)[0]

    assert open_count("/inbox") == "2"
    assert open_count("/inbox?who=mine") == "1"
    assert open_count("/inbox?who=unassigned") == "1"
    auth.sign_out()
    auth.sign_in(world.owner_email)  # Mine is the signed-in user's
    assert open_count("/inbox?who=mine") == "0"


def test_keyset_pages_of_mine_list_each_of_my_threads_once(ctx):
    org = factories.org()
    factories.number(org.id, POOL, "pool")
    mine = set()
    for n in range(7):
        thread_id = receive_sms(POOL, factories.phone(), "Hi", f"SMpage{n}").thread_id
        if n % 2 == 0:
            assignment.assign_thread(org.id, thread_id, org.staff_user_id, None)
            mine.add(thread_id)
    seen, cursor = [], None
    while True:
        page = inbox.list_threads(org.id, "open", cursor=cursor, limit=2, who="mine",
                                  user_id=org.staff_user_id)
        seen += [r.id for r in page.rows]
        if not (cursor := page.next_cursor):
            break
    assert sorted(seen) == sorted(mine)


def many_threads():
    """3,000 threads, a third open; one in ten unassigned, the rest the staff member's or the
    owner's (where most are unassigned, ix_thread_inbox with a filter serves as well)."""
    org = factories.org()
    db.session.execute(sa.text(
        "INSERT INTO client (org_id, name) SELECT :org, 'c' || g FROM generate_series(1, 3000) g"),
        {"org": org.id})
    db.session.execute(sa.text("""
        INSERT INTO thread (org_id, client_id, status, assignee_user_id, last_activity_at)
        SELECT :org, c.id, (ARRAY['open', 'closed', 'closed'])[1 + c.id % 3],
               CASE WHEN c.id % 10 = 0 THEN NULL WHEN c.id % 2 = 0 THEN :staff ELSE :owner END,
               now() - c.id * interval '1 s'
        FROM client c WHERE c.org_id = :org"""),
        {"org": org.id, "staff": org.staff_user_id, "owner": org.owner_user_id})
    db.session.execute(sa.text("ANALYZE thread"))
    return org


def plan(statement) -> str:
    sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
    return "\n".join(db.session.scalars(sa.text("EXPLAIN " + sql)))


@pytest.mark.parametrize(("tab", "who", "index"), [
    ("open", "mine", "ix_thread_assignee_inbox"),
    ("all", "mine", "ix_thread_assignee_activity"),
    ("open", "unassigned", "ix_thread_unassigned_inbox"),
    ("all", "unassigned", "ix_thread_unassigned_activity"),
])
def test_the_filters_read_their_index(ctx, tab, who, index):
    org = many_threads()
    statement = inbox._filtered(org.id, tab, "", "US", who, org.staff_user_id).order_by(
        Thread.last_activity_at.desc(), Thread.id.desc()).limit(31)
    found = plan(statement)
    assert index in found and "Sort" not in found, found


@pytest.mark.parametrize(("who", "by_tab", "all_tab"), [
    ("mine", "ix_thread_assignee_inbox", "ix_thread_assignee_activity"),
    ("unassigned", "ix_thread_unassigned_inbox", "ix_thread_unassigned_activity"),
    ("all", "ix_thread_inbox", "ix_thread_activity"),
])
def test_the_filtered_tab_counts_read_their_indexes(ctx, who, by_tab, all_tab):
    org = many_threads()
    found = plan(inbox.tab_counts_statement(org.id, who, org.staff_user_id))
    # Open and Closed through the status-led index, All through the activity one, no table scan;
    # Snoozed (none here) reads the partial ix_thread_snoozed, the organization's snoozed only
    assert found.count(f" {by_tab} ") == 2 and found.count(f" {all_tab} ") == 1, found
    assert "ix_thread_snoozed" in found and "Seq Scan" not in found, found


@pytest.mark.parametrize("who", ["mine", "unassigned"])
def test_the_filtered_inbox_and_a_thread_cost_the_same_statements_for_3_or_40_threads(
        app, client, auth, world, statements, who):
    auth.sign_in(world.staff_email)

    def cost() -> tuple[int, int]:
        counts = []
        for url in (f"/inbox?who={who}&tab=all", f"/threads/{world.thread_id}"):
            statements.clear()
            assert client.get(url).status_code == 200
            counts.append(len(statements))
        return tuple(counts)

    def add(n: int, tag: str) -> None:
        with app.app_context():
            for i in range(n):
                notes.add_note(world.id, world.thread_id, world.staff_user_id, f"note {tag}{i}")
                thread_id = receive_sms(POOL, factories.phone(), "hi", f"SM{tag}{i}").thread_id
                notes.add_note(world.id, thread_id, world.owner_user_id, f"note {tag}{i}")
                if i % 2:
                    assignment.assign_thread(world.id, thread_id, world.staff_user_id, None)
                    assignment.assign_thread(world.id, thread_id, world.owner_user_id, None)
                    assignment.assign_thread(world.id, thread_id, world.staff_user_id, None)

    add(2, "few")
    few = cost()
    add(37, "many")
    assert cost() == few
