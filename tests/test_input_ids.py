"""Ids past PostgreSQL's bigint are unknown ids (404) or bad parameters (400), never a 500."""

import base64

import pytest
import sqlalchemy as sa

from pawline.db import db
from pawline.inputs import BIGINT_MAX, db_id
from pawline.models import Booking, Client
from tests.booking_webhook import payload, post, tenant_with_thread

HUGE = "99999999999999999999999"
POOL = "+14155550101"


@pytest.fixture
def world(app):
    return tenant_with_thread(app, POOL, "SMids1")


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.parametrize("value, id_", [("12", 12), (" 7 ", 7), (0, 0), (BIGINT_MAX, BIGINT_MAX)])
def test_db_id_reads_ids(value, id_):
    assert db_id(value) == id_


@pytest.mark.parametrize("value", [HUGE, BIGINT_MAX + 1, -1, "-1", "1.5", 1.0, True, None, "",
                                   "٣", "0x10", [1]])
def test_db_id_refuses_what_no_id_is(value):
    with pytest.raises(ValueError):
        db_id(value)


@pytest.mark.parametrize("path", [f"/threads/{HUGE}", f"/threads/{BIGINT_MAX + 1}",
                                  f"/threads/{BIGINT_MAX}", f"/clients/{HUGE}",
                                  f"/bookings/{HUGE}", f"/sitters/{HUGE}"])
def test_an_id_past_a_bigint_in_the_url_is_a_404(client, auth, world, path):
    auth.sign_in(world.owner_email)
    assert client.get(path).status_code == 404


def test_a_post_to_an_id_past_a_bigint_is_a_404(client, auth, world):
    auth.sign_in(world.owner_email)
    assert client.post(f"/threads/{HUGE}/messages", data={"body": "hi"}).status_code == 404
    assert client.post(f"/threads/{world.thread_id}/messages/{HUGE}/retry").status_code == 404


@pytest.mark.parametrize("path", ["/threads/{thread}?before=" + HUGE,
                                  "/threads/{thread}/poll?since=2026-01-01T00:00&first=" + HUGE,
                                  "/threads/{thread}/poll?since=2026-01-01T00:00&after=" + HUGE,
                                  "/threads/{thread}?before=abc",
                                  "/clients?after_name=a&after_id=" + HUGE,
                                  "/audit?before=" + HUGE, "/audit?actor=" + HUGE])
def test_an_id_parameter_that_is_no_id_is_a_400(client, auth, world, path):
    auth.sign_in(world.owner_email)
    response = client.get(path.format(thread=world.thread_id))
    assert response.status_code == 400
    assert "must be a record id" in response.get_data(as_text=True)


def test_an_empty_id_parameter_is_no_parameter(client, auth, world):
    auth.sign_in(world.owner_email)
    assert client.get(f"/threads/{world.thread_id}?before=").status_code == 200
    assert client.get("/audit?actor=&before=").status_code == 200


def test_a_cursor_naming_an_id_past_a_bigint_reads_as_the_first_page(client, auth, world):
    auth.sign_in(world.owner_email)
    cursor = base64.urlsafe_b64encode(f"2026-01-01T00:00:00+00:00|{HUGE}".encode()).decode()
    response = client.get("/inbox/more", query_string={"cursor": cursor})
    assert response.status_code == 200
    assert "Is Rex okay?" in response.get_data(as_text=True)


def test_a_booking_for_a_client_id_past_a_bigint_is_a_form_error(app, client, auth, world):
    auth.sign_in(world.owner_email)
    response = client.post("/bookings", data={
        "client_id": HUGE, "sitter_id": str(world.sitter_id),
        "starts_at": "2030-01-01T10:00", "ends_at": "2030-01-02T10:00"})
    assert response.status_code == 422
    assert "Choose a client." in response.get_data(as_text=True)
    assert count(app, Booking) == 0


def test_the_client_picker_ignores_a_chosen_id_past_a_bigint(client, auth, world):
    auth.sign_in(world.owner_email)
    response = client.get("/bookings/client-picker", query_string={"client_id": HUGE})
    assert response.status_code == 200


def test_merging_into_a_client_id_past_a_bigint_is_a_form_error(app, client, auth, world):
    auth.sign_in(world.owner_email)
    response = client.post(f"/clients/{world.client_id}/merge", data={"into_client_id": HUGE})
    assert response.status_code == 400
    assert "Choose the client to keep." in response.get_data(as_text=True)
    assert count(app, Client) == 1


@pytest.mark.parametrize("sitter_id", [int(HUGE), HUGE, -1, 1.5, [1], {"id": 1}, True])
def test_a_booking_webhook_sitter_id_that_is_no_id_is_a_400(app, client, world, sitter_id):
    response = post(client, world, payload(world, sitter_id=sitter_id))
    assert response.status_code == 400, response.get_json()
    assert count(app, Booking) == 0


def test_before_naming_no_message_of_the_thread_shows_the_messages_before_it(client, auth,
                                                                             world):
    """Found by tests/test_fuzz.py: the events' upper bound was None, a 500."""
    auth.sign_in(world.owner_email)
    response = client.get(f"/threads/{world.thread_id}?before={10**12}")
    assert response.status_code == 200
    assert "Is Rex okay?" in response.get_data(as_text=True)
