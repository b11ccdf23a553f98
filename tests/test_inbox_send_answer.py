"""A reply sent with htmx from a page that shows the thread's newest messages answers with only
itself, at the end of the timeline, and a fresh reply box (blueprints/inbox_send.py). Whenever
more of the pane changes with it, the whole pane answers, as every other action does."""

import logging
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from pawline import threads
from pawline.clock import utcnow
from pawline.db import db
from pawline.models import Message, Organization, Thread, User
from tests import factories

HX = {"HX-Request": "true"}


@pytest.fixture
def world(app):
    with app.app_context():
        return factories.org_with_thread()


def reply(client, thread_id: int, body: str, token: str, **fields):
    data = {"body": body, "client_token": token, "tail": "1", "channel": "sms", **fields}
    return client.post(f"/threads/{thread_id}/messages", data=data, headers=HX)


def outbound_ids(app) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Message.id).where(
            Message.direction == "outbound").order_by(Message.id)))


def unsigned(html: str) -> str:
    """`html` with its spaces evened out and its forms' CSRF tokens, which are signed with the
    second they were made in, left out."""
    text = re.sub(r'(name="csrf_token" value=)"[^"]*"', r"\1", " ".join(html.split()))
    assert 'name="csrf_token" value="' not in text
    return text


def bubble(html: str, message_id: int) -> str:
    """The message's <li> (a text message's holds no other <li>), unsigned."""
    found = re.search(rf'<li class="msg [a-z]+" id="message-{message_id}">.*?</li>', html, re.S)
    assert found, f"message {message_id} is not on the page"
    return unsigned(found[0])


def token_of(html: str) -> str:
    return re.search(r'<input[^>]*id="reply-token"[^>]*>', html)[0].split('value="')[1][:32]


def is_whole_pane(answer) -> bool:
    html = answer.get_data(as_text=True)
    return 'id="conversation"' in html and "HX-Reswap" not in answer.headers


def test_the_page_says_when_it_shows_the_newest_messages(app, client, auth, world):
    auth.sign_in(world.staff_email)
    newest = client.get(f"/threads/{world.thread_id}").get_data(as_text=True)
    assert '<input type="hidden" name="tail" value="1">' in newest
    with app.app_context():
        first = db.session.scalar(sa.select(Message.id))
        empty = threads.find_or_create_thread(world.id, factories.client(world.id, "Bo"))
        db.session.commit()
    earlier = client.get(f"/threads/{world.thread_id}?before={first}").get_data(as_text=True)
    nothing = client.get(f"/threads/{empty}").get_data(as_text=True)
    assert 'name="tail"' not in earlier and 'name="tail"' not in nothing


def test_a_reply_answers_with_only_itself_and_a_fresh_reply_box(
        app, client, auth, world, statements):
    auth.sign_in(world.staff_email)
    page = client.get(f"/threads/{world.thread_id}").get_data(as_text=True)

    before = len(statements)
    answer = reply(client, world.thread_id, "Rex is great!", "token-1")
    read = len(statements) - before
    html = answer.get_data(as_text=True)

    assert answer.status_code == 200
    assert answer.headers["HX-Reswap"] == "none"  # only the out-of-band parts are swapped
    assert answer.headers["HX-Trigger"] == "threadsChanged"
    assert answer.headers["HX-Trigger-After-Settle"] == "replySent"
    [sent] = outbound_ids(app)
    assert html.count('<ol hx-swap-oob="beforeend:.timeline-tail">') == 1
    assert html.count('class="msg ') == 1 and "Rex is great!" in html
    assert "Is Rex okay?" not in html and 'id="conversation"' not in html
    assert 'id="scheduled"' not in html and "Replying from" not in html
    box = html.split('id="reply-box"', 1)[1].split("</div>", 1)[0]
    assert 'hx-swap-oob="true"' in box and re.search(r"<textarea[^>]*>\s*</textarea>", box)
    assert token_of(html) not in ("token-1", token_of(page))  # a new form's token
    assert '<div id="reply-errors" hx-swap-oob="true">' in html
    # the message as the page itself shows it
    shown = client.get(f"/threads/{world.thread_id}").get_data(as_text=True)
    assert bubble(html, sent) == bubble(shown, sent)
    # the whole pane reads some 40 statements: the timeline, routing, the reply box's lists
    assert read <= 22, read


def test_after_its_commit_a_reply_loads_neither_its_organization_nor_its_user_again(
        app, client, auth, world, statements, caplog):
    """The commit expires g.org and current_user: the answer's times and the request's log
    line use what was read of them as the request began (app.py)."""
    auth.sign_in(world.staff_email)
    caplog.set_level(logging.INFO, logger="pawline.request")
    before = len(statements)
    answer = reply(client, world.thread_id, "Rex is great!", "token-1")
    assert answer.status_code == 200 and "HX-Reswap" in answer.headers
    sent = [" ".join(s.split()) for s in statements[before:]]
    after = sent[next(i for i, s in enumerate(sent) if s.startswith("INSERT INTO message")):]
    reloaded = ("FROM organization", "FROM app_user WHERE app_user.id =")
    assert not [s for s in after if any(again in s for again in reloaded)]
    [line] = [r for r in caplog.records if r.name == "pawline.request"]
    with app.app_context():
        staff = db.session.scalar(sa.select(User.id).where(User.email == world.staff_email))
    assert (line.request["org"], line.request["user"]) == (world.id, staff)
    with app.app_context():  # the answer's time is in the organization's zone, not UTC's
        created = db.session.scalar(sa.select(Message.created_at).where(
            Message.direction == "outbound"))
        zone = ZoneInfo(db.session.get(Organization, world.id).timezone)
    assert zone.key != "UTC"
    assert f"<span>{created.astimezone(zone).strftime('%b %-d, %-I:%M %p')}</span>" in (
        answer.get_data(as_text=True))


def test_a_reply_on_another_line_says_so_as_the_page_does(app, client, auth, world):
    now = utcnow()
    with app.app_context():  # a sitter's window: her number answers (rule 1), not the pool's
        factories.book_sitter(world.id, world.thread_id, world.sitter_email,
                              now - timedelta(hours=1), now + timedelta(days=1))
    auth.sign_in(world.staff_email)
    client.get(f"/threads/{world.thread_id}")
    answer = reply(client, world.thread_id, "Sam is on her way", "token-2")
    assert not is_whole_pane(answer)
    sent = outbound_ids(app)[-1]
    html = answer.get_data(as_text=True)
    assert "Sent from" in bubble(html, sent)
    shown = client.get(f"/threads/{world.thread_id}").get_data(as_text=True)
    assert bubble(html, sent) == bubble(shown, sent)


def test_the_same_form_sent_twice_answers_the_pane_with_the_message_once(
        app, client, auth, world):
    auth.sign_in(world.staff_email)
    assert not is_whole_pane(reply(client, world.thread_id, "Once", "token-3"))
    again = reply(client, world.thread_id, "Once", "token-3")
    assert is_whole_pane(again) and again.status_code == 200
    assert len(outbound_ids(app)) == 1
    assert again.get_data(as_text=True).count(">Once</div>") == 1


def test_a_page_of_earlier_messages_gets_the_whole_pane(app, client, auth, world):
    auth.sign_in(world.staff_email)
    answer = reply(client, world.thread_id, "From an earlier page", "token-4", tail="")
    assert is_whole_pane(answer) and "From an earlier page" in answer.get_data(as_text=True)


@pytest.mark.parametrize("status", ["closed", "snoozed"])
def test_a_reply_to_a_thread_that_is_not_open_gets_the_whole_pane(
        app, client, auth, world, status):
    with app.app_context():
        db.session.execute(sa.update(Thread).values(
            status=status, snoozed_until=utcnow() + timedelta(days=1) if status == "snoozed"
            else None))
        db.session.commit()
    auth.sign_in(world.staff_email)
    answer = reply(client, world.thread_id, "Back to you", "token-5")
    assert is_whole_pane(answer) and "Back to you" in answer.get_data(as_text=True)


def test_a_number_that_becomes_the_threads_default_gets_the_whole_pane(
        app, client, auth, world):
    with app.app_context():  # her thread has no message yet: a free pool number is chosen
        empty = threads.find_or_create_thread(
            world.id, factories.client(world.id, "Bo", factories.phone()))
        db.session.commit()
    auth.sign_in(world.staff_email)
    answer = reply(client, empty, "Hello Bo", "token-6")  # a tail it cannot have: not trusted
    html = answer.get_data(as_text=True)
    assert is_whole_pane(answer) and "Hello Bo" in html
    assert "keeps hearing from the line this thread used" in html  # the reply box's new reason


def drawn(html: str, start: str, end: str) -> str:
    """The part of a page from `start` to `end`, as a live refresh swaps it, unsigned: the
    time it asks about next and the out-of-band marks left out too."""
    part = unsigned(start + html.split(start, 1)[1].split(end, 1)[0])
    return re.sub(r"since=[^\"&]+", "since=", part).replace(' hx-swap-oob="true"', "")


def test_a_live_refresh_draws_the_timeline_as_the_page_does_from_fewer_statements(
        app, client, auth, world, statements):
    auth.sign_in(world.staff_email)
    thread = f"/threads/{world.thread_id}"
    reply(client, world.thread_id, "On my way", "token-7")  # queued: its Cancel button
    client.post(f"{thread}/notes", data={"body": "Gate code 1234"}, headers=HX)
    later = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    client.post(f"{thread}/scheduled", data={"body": "Good morning!", "send_at": later},
                headers=HX)
    page = client.get(thread)
    before = len(statements)
    poll = client.get(f"{thread}/poll", headers=HX)  # no `since`: it draws
    read = len(statements) - before
    page, poll = page.get_data(as_text=True), poll.get_data(as_text=True)

    for start, end in (('<ol class="timeline', '<section class="scheduled-box"'),
                       ('<section class="scheduled-box"', "</section>")):
        assert drawn(poll, start, end) == drawn(page, start, end)
    assert "On my way" in poll and "Gate code 1234" in poll and "Good morning!" in poll
    # the timeline and the scheduled list only: no routing, reply box, client or header reads
    # (with the whole pane's reads, 32)
    assert read <= 20, read
