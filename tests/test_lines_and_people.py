"""Lines by name and people by name: the reply box's sentence, bubbles, previews, the profile."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from pawline import bookings, lines, people, sitters
from pawline.clock import utcnow
from pawline.db import db
from pawline.errors import DomainError
from pawline.inbound import receive_sms
from pawline.models import MessageNumber, Thread, User
from tests import factories

HX = {"HX-Request": "true"}


@pytest.fixture
def world(app):
    """A front desk and a pool number; the client Ada texted the front desk."""
    with app.app_context():
        org = factories.org()
        org.front = factories.number(org.id, "+14155550100", "front_desk")
        org.pool = factories.number(org.id, "+14155550101", "pool")
        org.client_id = factories.client(org.id, "Ada", "+14155552671")
        receive_sms("+14155550100", "+14155552671", "Is Rex okay?", "SMlines1")
        org.thread_id = db.session.scalar(sa.select(Thread.id))
        org.staff_id = db.session.scalar(sa.select(User.id).where(User.email == org.staff_email))
        return org


def user_id(email: str) -> int:
    return db.session.scalar(sa.select(User.id).where(User.email == email))


def test_unnamed_lines_take_names_from_their_class_and_sitter(ctx):
    assert lines.derived_label("+14155550100", "front_desk", None) == "Front desk"
    assert lines.derived_label("+14155550110", "sitter", "Sam") == "Sam's line"
    assert lines.derived_label("+14155550103", "pool", None) == "Pool 0103"


def test_an_owner_names_a_line_and_an_empty_name_goes_back_to_the_derived_one(ctx):
    org = factories.org()
    number_id = factories.number(org.id, "+14155550101", "pool")
    lines.rename_line(org.id, number_id, "  Pool   2 ")
    assert lines.org_lines(org.id)[number_id].label == "Pool 2"
    lines.rename_line(org.id, number_id, "")
    assert lines.org_lines(org.id)[number_id].label == "Pool 0101"
    with pytest.raises(DomainError):
        lines.rename_line(org.id, number_id, "x" * 41)


def test_the_database_refuses_a_blank_or_padded_line_name(ctx):
    org = factories.org()
    number_id = factories.number(org.id, "+14155550101", "pool", label="Pool 2")
    for bad in ("", "  ", " Pool", "x" * 41):
        with (pytest.raises(sa.exc.IntegrityError, match="ck_message_number_label_present"),
              db.session.begin_nested()):
            db.session.execute(sa.update(MessageNumber).where(
                MessageNumber.id == number_id).values(label=bad))
    db.session.execute(sa.update(MessageNumber).values(label=None))  # unnamed is allowed


def test_the_reply_box_says_the_line_and_why_in_one_sentence(client, auth, world):
    auth.sign_in(world.staff_email)
    html = client.get(f"/threads/{world.thread_id}").get_data(as_text=True)
    hint = html.split('id="route-hint"', 1)[1].split("</p>", 1)[0]
    assert "Replying from" in hint and "Front desk" in hint and "(415) 555-0100" in hint
    assert "Ada texted this line last" in hint
    assert 'id="route-warning"' not in html
    assert "<summary>Why this line</summary>" in html


def test_the_reply_box_warns_when_a_sitters_window_sends_from_another_line(app, client, auth,
                                                                          world):
    with app.app_context():
        factories.number(world.id, "+14155550110", "sitter")
        sam = sitters.create_sitter(world.id, "Sam", "+14155553001", world.sitter_email)
        sitters.activate_sitter(world.id, sam.id, None)
        now = utcnow()
        booking = bookings.create_booking(world.id, world.client_id, sam.id,
                                          now - timedelta(hours=1), now + timedelta(hours=2))
        bookings.confirm_booking(world.id, booking.id)
    auth.sign_in(world.staff_email)
    html = client.get(f"/threads/{world.thread_id}").get_data(as_text=True)
    assert "Replying from <span class=\"line\"><span class=\"line-name\">Sam&#39;s line" in html
    assert "Sam is with Ada until" in html
    warning = html.split('id="route-warning"', 1)[1].split("</p>", 1)[0]
    assert "Ada last texted" in warning and "Front desk" in warning
    # The rule's engineering name is there for whoever asks, behind "Why this line", not in the
    # sentence a front desk reads.
    hint = html.split('id="route-hint"', 1)[1].split("</p>", 1)[0]
    why = html.split('<details class="route-why">', 1)[1].split("</details>", 1)[0]
    assert "Rule" not in hint and "assignment window" not in hint
    assert "<summary>Why this line</summary>" in why
    assert "Rule 1 (active assignment window)" in why


def test_bubbles_name_their_author_and_show_the_line_only_when_it_changes(app, client, auth,
                                                                        world):
    auth.sign_in(world.staff_email)
    for body in ("On it", "Rex is fine"):
        client.post(f"/threads/{world.thread_id}/messages", data={"body": body})
    with app.app_context():
        people.set_display_name(world.id, world.staff_id, "Kim Lee")
        from pawline.outbound import queue_message
        queue_message(world.id, world.thread_id, "Reminder: walk at 8", None, "console")
    html = client.get(f"/threads/{world.thread_id}").get_data(as_text=True)
    timeline = html.split('id="timeline"', 1)[1].split("</ol>", 1)[0]
    assert timeline.count('class="line-change"') == 1  # every message on the front desk
    assert "Texted <span class=\"line\"><span class=\"line-name\">Front desk" in timeline
    assert timeline.count('<span class="author">Kim Lee</span>') == 2
    assert '<span class="author">Automatic</span>' in timeline
    assert "→" not in timeline


def test_the_inbox_preview_names_a_colleague_and_says_you_for_yourself(app, client, auth,
                                                                     world):
    auth.sign_in(world.staff_email)
    client.post(f"/threads/{world.thread_id}/messages", data={"body": "On it"})
    with app.app_context():
        people.set_display_name(world.id, world.staff_id, "Kim")
    assert "You: On it" in client.get("/inbox").get_data(as_text=True)
    auth.sign_out()
    auth.sign_in(world.owner_email)
    assert "Kim: On it" in client.get("/inbox").get_data(as_text=True)


def test_the_new_message_dialog_says_which_line_a_new_client_sees(client, auth, world):
    auth.sign_in(world.staff_email)
    html = client.get("/inbox").get_data(as_text=True)
    said = html.split('id="new-message-line"', 1)[1].split("</p>", 1)[0]
    assert "A new client sees" in said and "Pool 0101" in said


def test_a_user_changes_their_display_name_and_the_header_shows_it_with_the_role(
        client, auth, world):
    auth.sign_in(world.staff_email)
    page = client.get("/profile")
    assert page.status_code == 200 and "Display name" in page.get_data(as_text=True)
    assert client.post("/profile", data={"name": "  Kim   Lee "}).status_code == 302
    header = client.get("/inbox").get_data(as_text=True).split("</header>", 1)[0]
    assert "Kim Lee" in header and "Staff" in header
    refused = client.post("/profile", data={"name": "x" * 61})
    assert refused.status_code == 400 and "at most 60" in refused.get_data(as_text=True)


def test_the_database_refuses_an_overlong_user_name(ctx):
    org = factories.org()
    with pytest.raises(sa.exc.IntegrityError, match="ck_app_user_name_length"):
        db.session.execute(sa.update(User).where(User.org_id == org.id).values(name="x" * 101))


def test_the_new_message_dialog_names_the_line_of_the_phone_being_typed(client, auth, world):
    auth.sign_in(world.staff_email)
    page = client.get("/inbox").get_data(as_text=True)
    assert 'hx-get="/inbox/new-line"' in page
    known = client.get("/inbox/new-line", query_string={"phone": "(415) 555-2671"}, headers=HX)
    said = known.get_data(as_text=True)
    assert "<html" not in said and "Ada will hear from" in said and "Front desk" in said
    new = client.get("/inbox/new-line", query_string={"phone": "415 555 9999"}, headers=HX)
    assert "A new client sees" in new.get_data(as_text=True)
    typo = client.get("/inbox/new-line", query_string={"phone": "12"}, headers=HX)
    assert typo.status_code == 200 and "A new client sees" in typo.get_data(as_text=True)


def test_another_organizations_client_is_a_new_client_here(app, client, auth, world):
    with app.app_context():
        other = factories.org()
        factories.client(other.id, "Secret Sue", "+14155558888")
    auth.sign_in(world.staff_email)
    said = client.get("/inbox/new-line", query_string={"phone": "+14155558888"},
                      headers=HX).get_data(as_text=True)
    assert "Secret Sue" not in said and "A new client sees" in said


def test_a_bubble_shows_the_line_again_when_it_changes(app, client, auth, world):
    with app.app_context():
        factories.number(world.id, "+14155550110", "sitter")
        sam = sitters.create_sitter(world.id, "Sam", "+14155553001")
        sitters.activate_sitter(world.id, sam.id, None)
        now = utcnow()
        booking = bookings.create_booking(world.id, world.client_id, sam.id,
                                          now - timedelta(hours=1), now + timedelta(hours=2))
        bookings.confirm_booking(world.id, booking.id)
    auth.sign_in(world.staff_email)
    for body in ("Sam here", "Rex ate well"):
        client.post(f"/threads/{world.thread_id}/messages", data={"body": body})
    html = client.get(f"/threads/{world.thread_id}").get_data(as_text=True)
    changes = html.split('id="timeline"', 1)[1].split("</ol>", 1)[0].split('class="line-change"')
    assert len(changes) == 3  # the front desk the client texted, then Sam's line, once
    assert "Texted" in changes[1] and "Front desk" in changes[1]
    assert "Sent from" in changes[2] and "Sam&#39;s line" in changes[2]
