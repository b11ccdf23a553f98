"""The phone simulator: staff text a number as a client, through the inbound webhook's path."""

import io

import pytest
import sqlalchemy as sa

from pawline.db import db
from pawline.models import Client, Message, Thread
from tests import factories

POOL = "+14155550100"


@pytest.fixture
def org(app):
    with app.app_context():
        org = factories.org()
        factories.number(org.id, POOL)
    return org


def test_staff_text_a_number_as_a_phone_and_it_lands_in_the_thread(app, client, auth, org):
    auth.sign_in(org.staff_email)

    response = client.post("/simulator", data={"from_phone": "(415) 555-0123", "to": POOL,
                                               "body": "Is Rex ok?"})

    assert response.status_code == 200
    with app.app_context():
        message = db.session.scalar(sa.select(Message))
        thread = db.session.get(Thread, message.thread_id)
        guest = db.session.get(Client, thread.client_id)
    assert (message.provider, message.direction, message.body) == ("simulator", "inbound",
                                                                   "Is Rex ok?")
    assert message.provider_sid.startswith("SIM")
    assert (thread.org_id, thread.unread_count) == (org.id, 1)
    assert guest.name == "Guest (+14155550123)"
    assert f'href="/threads/{thread.id}"' in response.get_data(as_text=True)


def test_each_simulated_text_is_a_new_message(app, client, auth, org):
    auth.sign_in(org.owner_email)
    form = {"from_phone": "+14155550123", "to": POOL, "body": "hello"}
    client.post("/simulator", data=form)
    client.post("/simulator", data=form)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 2


def test_an_htmx_submit_swaps_only_the_panel(app, client, auth, org):
    auth.sign_in(org.staff_email)
    response = client.post("/simulator", headers={"HX-Request": "true"},
                           data={"from_phone": "+14155550123", "to": POOL, "body": "hi"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="simulator-panel"')
    assert "Message received" in html


def test_a_bad_phone_is_a_form_error(app, client, auth, org):
    auth.sign_in(org.staff_email)
    response = client.post("/simulator", data={"from_phone": "not a phone", "to": POOL,
                                               "body": "hi"})
    assert response.status_code == 400
    assert "is not a phone number" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0


def test_another_organizations_number_is_not_a_choice(app, client, auth, org):
    with app.app_context():
        other = factories.org()
        factories.number(other.id, "+14155550177")
    auth.sign_in(org.staff_email)
    page = client.get("/simulator").get_data(as_text=True)
    assert "(415) 555-0177" not in page
    response = client.post("/simulator", data={"from_phone": "+14155550123",
                                               "to": "+14155550177", "body": "hi"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0


def test_the_page_lists_the_organizations_lines_by_name_then_digits(app, client, auth, org):
    auth.sign_in(org.staff_email)
    page = client.get("/simulator").get_data(as_text=True)
    assert "Pool 0100 · (415) 555-0100" in page
    assert '<label for="from_phone">From phone</label>' in page


def test_sitters_get_404(client, auth, org):
    auth.sign_in(org.sitter_email)
    assert client.get("/simulator").status_code == 404
    assert client.post("/simulator", data={}).status_code == 404


def test_the_simulator_does_not_exist_with_a_real_provider(app, client, auth, org):
    auth.sign_in(org.staff_email)
    app.config["SMS_PROVIDER"] = "twilio"
    try:
        assert client.get("/simulator").status_code == 404
    finally:
        app.config["SMS_PROVIDER"] = "console"


def test_a_photo_from_the_simulator_waits_at_a_signed_local_url_for_the_fetch_job(app, client,
                                                                                  auth, org):
    from pawline.media_models import Attachment
    from tests import photos

    auth.sign_in(org.staff_email)
    photo = photos.gps_jpeg()

    response = client.post("/simulator", data={
        "from_phone": "(415) 555-0123", "to": POOL, "body": "",
        "photo": (io.BytesIO(photo), "rex.jpg")}, content_type="multipart/form-data")

    assert response.status_code == 200
    assert "with its photo" in response.get_data(as_text=True)
    with app.app_context():
        attachment = db.session.scalar(sa.select(Attachment))
        preview = db.session.scalar(sa.select(Thread.last_message_preview))
    assert (attachment.status, attachment.content_type, preview) == (
        "pending", "image/jpeg", "📷 Photo")
    assert attachment.source_url.startswith("http://localhost/media/simulated/")
    client.post("/sign-out")  # the job has no session
    served = client.get(attachment.source_url.removeprefix("http://localhost"))
    assert served.status_code == 200 and served.data == photo
    tampered = attachment.source_url.removeprefix("http://localhost")[:-2] + "zz"
    assert client.get(tampered).status_code == 404


def test_the_simulator_needs_words_or_a_photo(client, auth, org):
    auth.sign_in(org.staff_email)

    response = client.post("/simulator", data={"from_phone": "(415) 555-0123", "to": POOL,
                                               "body": " "})

    assert response.status_code == 400
    assert "Type a message or attach a photo." in response.get_data(as_text=True)
