"""The thread's conversation folds and the Closed tab's Conversations list: what they show, their
pages, their cost in statements, and that an organization sees only its own."""

import re
from datetime import timedelta

import pytest

from pawline import conversations, threads
from pawline.clock import utcnow
from pawline.inbound import receive_sms
from pawline.outbound import queue_message
from tests import factories

HX = {"HX-Request": "true"}
POOL = "+14155550101"
_sid = iter(range(100_000))


def cycle(org, phone: str, start, answered: bool = True) -> int:
    """A client writes, staff answers, staff closes: one conversation."""
    thread_id = receive_sms(POOL, phone, "Can you walk Rex?", f"SMcv{next(_sid)}",
                            now=start).thread_id
    if answered:
        queue_message(org.id, thread_id, "Yes", org.staff_user_id, "twilio",
                      now=start + timedelta(minutes=4))
    threads.close_thread(org.id, thread_id, org.staff_user_id, now=start + timedelta(hours=2))
    return thread_id


@pytest.fixture
def world(app):
    with app.app_context():
        org = factories.org()
        factories.number(org.id, POOL, "pool", label="Front desk line")
        start = utcnow() - timedelta(days=3)
        org.thread_id = cycle(org, "+14155552671", start)
        cycle(org, "+14155552671", start + timedelta(days=1), answered=False)
        receive_sms(POOL, "+14155552671", "One more thing", "SMcvlast",
                    now=start + timedelta(days=2))
        return org


def folds(html: str) -> list[tuple[str, bool]]:
    return [(m.group(1), " open" in m.group(2)) for m in re.finditer(
        r'<li class="conversation-group" id="([\w-]+)">\s*<details class="conversation-fold"'
        r'([^>]*)>', html)]


def test_the_thread_shows_each_conversation_with_only_the_latest_unfolded(client, auth, world):
    auth.sign_in(world.staff_email)
    html = client.get(f"/threads/{world.thread_id}").get_data(as_text=True)
    found = folds(html)
    assert [is_open for _, is_open in found] == [False, False, True]
    assert found[-1][0] == "conversation-current"
    assert "Front desk line" in html and "First reply: 4 min" in html
    assert "Closed after 2 h" in html and "First reply: not answered" in html
    assert html.count("Client wrote") == 3


def test_a_link_unfolds_the_conversation_it_names(client, auth, world):
    auth.sign_in(world.staff_email)
    first_id = folds(client.get(f"/threads/{world.thread_id}").get_data(as_text=True))[0][0]
    key = first_id.removeprefix("conversation-")
    html = client.get(f"/threads/{world.thread_id}?conversation={key}").get_data(as_text=True)
    assert [is_open for _, is_open in folds(html)] == [True, False, True]
    # the live refresh answers the same folds (the page's script keeps what the user opened)
    poll = client.get(f"/threads/{world.thread_id}/poll", headers=HX).get_data(as_text=True)
    assert len(folds(poll)) == 3


def test_the_closed_tab_offers_threads_or_conversations(app, client, auth, world):
    with app.app_context():
        threads.close_thread(world.id, world.thread_id, world.staff_user_id)
    auth.sign_in(world.staff_email)
    assert "/inbox/conversations" in client.get("/inbox?tab=closed").get_data(as_text=True)
    assert "/inbox/conversations" not in client.get("/inbox?tab=open").get_data(as_text=True)
    html = client.get("/inbox/conversations").get_data(as_text=True)
    rows = re.findall(r'href="/threads/(\d+)\?conversation=(\d+)#conversation-(\d+)"', html)
    assert len(rows) == 3 and all(t == str(world.thread_id) and c == a for t, c, a in rows)
    assert "closed after 2 h" in html and "Can you walk Rex?" in html


def test_the_list_pages_by_cursor_and_htmx_gets_only_the_rows(app, client, auth, world):
    with app.app_context():
        for n in range(40):
            cycle(world, factories.phone(), utcnow() - timedelta(hours=50 - n))
    auth.sign_in(world.staff_email)
    html = client.get("/inbox/conversations").get_data(as_text=True)
    seen = re.findall(r"conversation=(\d+)#", html)
    while (more := re.search(r'hx-get="(/inbox/conversations\?cursor=[^"]+)"', html)):
        html = client.get(more.group(1).replace("&amp;", "&"), headers=HX).get_data(as_text=True)
        assert "<nav" not in html  # the rows alone
        seen += re.findall(r"conversation=(\d+)#", html)
    assert len(seen) == 42 == len(set(seen))


def test_the_list_and_the_thread_cost_the_same_statements_for_few_or_many(
        app, client, auth, world, statements):
    auth.sign_in(world.staff_email)

    def cost() -> tuple[int, int]:
        counts = []
        for url in ("/inbox/conversations", f"/threads/{world.thread_id}"):
            statements.clear()
            assert client.get(url).status_code == 200
            counts.append(len(statements))
        return tuple(counts)

    few = cost()
    with app.app_context():
        for n in range(25):
            cycle(world, factories.phone(), utcnow() - timedelta(hours=30 - n))
            # and more conversations in the thread shown, each closed by someone else
            receive_sms(POOL, "+14155552671", f"again {n}", f"SMcvmore{n}")
            threads.close_thread(world.id, world.thread_id,
                                 world.owner_user_id if n % 2 else world.staff_user_id)
    assert cost() == few


def test_another_organizations_conversations_are_never_listed_nor_reachable(
        app, client, auth, world):
    with app.app_context():
        mine = factories.org()
        factories.number(mine.id, "+14155550102", "pool")
    auth.sign_in(mine.staff_email)
    html = client.get("/inbox/conversations").get_data(as_text=True)
    assert "Can you walk Rex?" not in html and "No closed conversations yet." in html
    assert client.get(f"/threads/{world.thread_id}?conversation=1").status_code == 404


def test_a_sitter_gets_404_for_the_list(client, auth, world):
    auth.sign_in(world.sitter_email)
    assert client.get("/inbox/conversations").status_code == 404


def test_a_link_to_a_conversation_older_than_the_newest_page_opens_the_page_ending_with_it(
        app, client, auth, world):
    with app.app_context():
        start = utcnow() - timedelta(hours=20)
        for n in range(55):
            receive_sms(POOL, "+14155552671", f"news {n}", f"SMcvpage{n}",
                        now=start + timedelta(minutes=n))
    auth.sign_in(world.staff_email)
    html = client.get(f"/threads/{world.thread_id}").get_data(as_text=True)
    assert [anchor for anchor, _ in folds(html)] == ["conversation-current"]
    listed = client.get("/inbox/conversations").get_data(as_text=True)
    oldest = re.findall(r'href="(/threads/\d+\?conversation=(\d+)#[\w-]+)"', listed)[-1]
    answer = client.get(oldest[0].split("#")[0])
    assert answer.status_code == 302 and f"conversation={oldest[1]}" in answer.location
    assert answer.location.endswith(f"#conversation-{oldest[1]}")
    html = client.get(answer.location).get_data(as_text=True)
    assert (f"conversation-{oldest[1]}", True) in folds(html)
    # a close of another organization names nothing here: the newest page, nothing unfolded
    with app.app_context():
        other = factories.org()
        factories.number(other.id, "+14155550199", "pool")
        theirs = receive_sms("+14155550199", "+14155552671", "x", "SMcvtheirs").thread_id
        threads.close_thread(other.id, theirs, other.staff_user_id)
        their_close = conversations.closed(other.id).rows[0].key
    answer = client.get(f"/threads/{world.thread_id}?conversation={their_close}")
    assert answer.status_code == 200
    assert [anchor for anchor, _ in folds(answer.get_data(as_text=True))] == [
        "conversation-current"]
