import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from pawline import bookings, sitters
from pawline.db import db
from pawline.errors import DomainError, NotFound
from pawline.models import AssignmentWindow, AuditEvent, Booking, MessageNumber, Thread
from tests import factories

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def setup_org(numbers=1):
    org = factories.org()
    for _ in range(numbers):
        factories.number(org.id, factories.phone(), "pool")
    sitter_id = sitters.create_sitter(org.id, "Sam", factories.phone(),
                                      email=org.sitter_email).id
    client_id = factories.client(org.id, "Ada", factories.phone())
    return org, sitter_id, client_id


def window(booking_id):
    return db.session.scalar(
        sa.select(AssignmentWindow).where(AssignmentWindow.booking_id == booking_id)
        .execution_options(populate_existing=True))


# ---- domain ------------------------------------------------------------------------------

def test_a_booking_must_end_after_it_starts(ctx):
    org, sitter_id, client_id = setup_org()
    with pytest.raises(DomainError) as error:
        bookings.create_booking(org.id, client_id, sitter_id, NOW, NOW)
    assert error.value.field == "ends_at"


def test_a_booking_with_another_organizations_client_or_sitter_is_not_found(ctx):
    org, sitter_id, client_id = setup_org()
    other, other_sitter, other_client = setup_org()
    with pytest.raises(NotFound):
        bookings.create_booking(org.id, other_client, sitter_id, NOW, NOW + HOUR)
    with pytest.raises(NotFound):
        bookings.create_booking(org.id, client_id, other_sitter, NOW, NOW + HOUR)


def test_confirming_makes_one_window_on_the_clients_thread_and_twice_is_once(ctx):
    org, sitter_id, client_id = setup_org()
    booking = bookings.create_booking(org.id, client_id, sitter_id, NOW, NOW + HOUR)

    bookings.confirm_booking(org.id, booking.id, now=NOW)
    bookings.confirm_booking(org.id, booking.id, now=NOW)

    thread_id = db.session.scalar(sa.select(Thread.id).where(Thread.client_id == client_id))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AssignmentWindow)
                             .where(AssignmentWindow.booking_id == booking.id)) == 1
    assert window(booking.id).thread_id == thread_id
    assert db.session.get(Booking, booking.id).status == "confirmed"
    assert db.session.scalar(sa.select(sa.func.count()).where(
        AuditEvent.action == "booking.confirmed", AuditEvent.org_id == org.id)) == 1


def test_five_bookings_for_one_client_make_one_thread(ctx):
    org, sitter_id, client_id = setup_org()
    for day in range(5):
        start = NOW + timedelta(days=day)
        booking = bookings.create_booking(org.id, client_id, sitter_id, start, start + HOUR)
        bookings.confirm_booking(org.id, booking.id, now=NOW)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Thread)
                             .where(Thread.client_id == client_id)) == 1
    thread_id = db.session.scalar(sa.select(Thread.id).where(Thread.client_id == client_id))
    rows = bookings.windows_for_thread(org.id, thread_id)
    assert [r.sitter_name for r in rows] == ["Sam"] * 5
    assert rows == sorted(rows, key=lambda r: r.starts_at)


def test_bookings_never_assign_or_reassign_numbers(ctx):
    org, sitter_id, client_id = setup_org(numbers=2)
    booking = bookings.create_booking(org.id, client_id, sitter_id, NOW, NOW + HOUR)
    bookings.confirm_booking(org.id, booking.id, now=NOW)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MessageNumber).where(
        MessageNumber.assigned_sitter_id.is_not(None))) == 0

    held = sitters.activate_sitter(org.id, sitter_id, None, now=NOW).number
    later = bookings.create_booking(org.id, client_id, sitter_id, NOW + 9 * HOUR, NOW + 10 * HOUR)
    bookings.confirm_booking(org.id, later.id, now=NOW)
    assert sitters.sitter_number(org.id, sitter_id).e164 == held


def test_editing_a_confirmed_booking_moves_its_window(ctx):
    org, sitter_id, client_id = setup_org()
    other_sitter = sitters.create_sitter(org.id, "Kim", factories.phone()).id
    booking = bookings.create_booking(org.id, client_id, sitter_id, NOW, NOW + HOUR)
    bookings.confirm_booking(org.id, booking.id, now=NOW)

    bookings.update_booking(org.id, booking.id, client_id, other_sitter, NOW + 2 * HOUR,
                            NOW + 4 * HOUR)

    moved = window(booking.id)
    assert (moved.sitter_id, moved.starts_at, moved.ends_at) == (
        other_sitter, NOW + 2 * HOUR, NOW + 4 * HOUR)


def test_cancelling_ends_a_started_window_now(ctx):
    org, sitter_id, client_id = setup_org()
    booking = bookings.create_booking(org.id, client_id, sitter_id, NOW - HOUR, NOW + HOUR)
    bookings.confirm_booking(org.id, booking.id, now=NOW)

    bookings.cancel_booking(org.id, booking.id, now=NOW)

    assert window(booking.id).ends_at == NOW
    assert db.session.get(Booking, booking.id).status == "cancelled"
    assert not sitters.sitter_can_see_thread(org.id, org.sitter_user_id,
                                             window(booking.id).thread_id, NOW)


def test_cancelling_deletes_a_window_that_has_not_started(ctx):
    org, sitter_id, client_id = setup_org()
    booking = bookings.create_booking(org.id, client_id, sitter_id, NOW + HOUR, NOW + 2 * HOUR)
    bookings.confirm_booking(org.id, booking.id, now=NOW)
    bookings.cancel_booking(org.id, booking.id, now=NOW)
    assert window(booking.id) is None


def test_a_cancelled_booking_cannot_be_confirmed_or_edited(ctx):
    org, sitter_id, client_id = setup_org()
    booking = bookings.create_booking(org.id, client_id, sitter_id, NOW, NOW + HOUR)
    bookings.cancel_booking(org.id, booking.id, now=NOW)
    with pytest.raises(DomainError):
        bookings.confirm_booking(org.id, booking.id, now=NOW)
    with pytest.raises(DomainError):
        bookings.update_booking(org.id, booking.id, client_id, sitter_id, NOW, NOW + HOUR)
    assert window(booking.id) is None


def test_form_times_are_read_in_the_organizations_zone():
    zone = ZoneInfo("America/New_York")
    assert bookings.parse_local_time("2026-11-23T09:30", zone, "starts_at") == datetime(
        2026, 11, 23, 14, 30, tzinfo=UTC)
    assert bookings.local_input_value(datetime(2026, 7, 1, 13, 0, tzinfo=UTC), zone) == (
        "2026-07-01T09:00")


@pytest.mark.parametrize("text", ["", "tomorrow", "2026-13-01T09:00"])
def test_a_malformed_form_time_is_an_error_on_its_field(text):
    with pytest.raises(DomainError) as error:
        bookings.parse_local_time(text, ZoneInfo("UTC"), "ends_at")
    assert error.value.field == "ends_at"


# ---- pages -------------------------------------------------------------------------------

def _org_with_people(app):
    with app.app_context():
        org, sitter_id, client_id = setup_org()
    return org, sitter_id, client_id


def test_a_booking_form_is_read_in_the_organizations_zone(app, client, auth):
    org, sitter_id, client_id = _org_with_people(app)  # America/New_York by default
    auth.sign_in(org.staff_email)

    response = client.post("/bookings", data={
        "client_id": client_id, "sitter_id": sitter_id,
        "starts_at": "2026-07-01T09:00", "ends_at": "2026-07-01T17:30"})

    assert response.status_code == 302
    with app.app_context():
        booking = db.session.scalar(sa.select(Booking).where(Booking.org_id == org.id))
        assert booking.starts_at == datetime(2026, 7, 1, 13, 0, tzinfo=UTC)
        assert booking.ends_at == datetime(2026, 7, 1, 21, 30, tzinfo=UTC)
        booking_id = booking.id
    edit_page = client.get(f"/bookings/{booking_id}").get_data(as_text=True)
    assert 'value="2026-07-01T09:00"' in edit_page


def test_a_malformed_time_shows_on_its_field(app, client, auth):
    org, sitter_id, client_id = _org_with_people(app)
    auth.sign_in(org.staff_email)
    response = client.post("/bookings", data={
        "client_id": client_id, "sitter_id": sitter_id,
        "starts_at": "soon", "ends_at": "2026-07-01T17:30"})
    assert response.status_code == 422
    assert "is not a date and time" in response.get_data(as_text=True)


def test_confirm_edit_and_cancel_through_the_pages(app, client, auth):
    org, sitter_id, client_id = _org_with_people(app)
    now = datetime.now(UTC)
    with app.app_context():
        booking_id = bookings.create_booking(org.id, client_id, sitter_id, now + HOUR,
                                             now + 2 * HOUR).id
    auth.sign_in(org.owner_email)

    listing = client.get("/bookings").get_data(as_text=True)
    assert "Ada" in listing and "pending" in listing
    assert client.post(f"/bookings/{booking_id}/confirm").status_code == 302
    with app.app_context():
        assert window(booking_id) is not None
    assert client.post(f"/bookings/{booking_id}/cancel").status_code == 302
    with app.app_context():
        assert db.session.get(Booking, booking_id).status == "cancelled"
        assert window(booking_id) is None


@pytest.mark.parametrize("method, path", [
    ("get", "/bookings"), ("post", "/bookings"), ("get", "/bookings/{id}"),
    ("post", "/bookings/{id}/confirm"), ("post", "/bookings/{id}/cancel"),
])
def test_sitters_get_404_on_the_bookings_pages(app, client, auth, method, path):
    org, sitter_id, client_id = _org_with_people(app)
    with app.app_context():
        booking_id = bookings.create_booking(org.id, client_id, sitter_id, NOW, NOW + HOUR).id
    auth.sign_in(org.sitter_email)
    assert getattr(client, method)(path.format(id=booking_id)).status_code == 404


@pytest.mark.parametrize("method, path", [
    ("get", "/bookings/{id}"), ("post", "/bookings/{id}"),
    ("post", "/bookings/{id}/confirm"), ("post", "/bookings/{id}/cancel"),
])
def test_another_organizations_booking_is_404(app, client, auth, method, path):
    org, sitter_id, client_id = _org_with_people(app)
    with app.app_context():
        other = factories.org()
        booking_id = bookings.create_booking(org.id, client_id, sitter_id, NOW, NOW + HOUR).id
    auth.sign_in(other.owner_email)
    assert getattr(client, method)(path.format(id=booking_id)).status_code == 404
    with app.app_context():
        assert db.session.get(Booking, booking_id).status == "pending"


def test_a_booking_cannot_name_another_organizations_client(app, client, auth):
    org, sitter_id, _ = _org_with_people(app)
    with app.app_context():
        _, _, foreign_client = setup_org()
    auth.sign_in(org.staff_email)
    response = client.post("/bookings", data={
        "client_id": foreign_client, "sitter_id": sitter_id,
        "starts_at": "2026-07-01T09:00", "ends_at": "2026-07-01T17:30"})
    assert response.status_code == 422
    assert "No such client" in response.get_data(as_text=True)


# ---- the client picker: a search, never every client -------------------------------------

def _options(html: str) -> list[str]:
    picker = html.split('id="client-picker"', 1)[1].split("</select>", 1)[0]
    return re.findall(r"<option[^>]*>([^<]*)</option>", picker)[1:]  # after "Choose a client"


def test_the_booking_form_lists_the_first_clients_by_name_not_all_of_them(app, client, auth):
    org, _, _ = _org_with_people(app)
    with app.app_context():
        for n in range(bookings.CLIENT_CHOICES + 20):
            factories.client(org.id, f"Zed {n:03d}")
    auth.sign_in(org.staff_email)

    page = client.get("/bookings").get_data(as_text=True)

    listed = _options(page)
    assert len(listed) == bookings.CLIENT_CHOICES
    assert listed[0].startswith("Ada") and listed[1] == "Zed 000"
    assert "search to find any other" in page


def test_the_picker_finds_clients_by_name_or_phone_and_keeps_the_chosen_one(app, client, auth):
    org, _, ada = _org_with_people(app)
    with app.app_context():
        factories.client(org.id, "Grace Hopper", "+14155550188")
    auth.sign_in(org.staff_email)

    by_name = client.get("/bookings/client-picker", query_string={"client_q": "grace"},
                         headers={"HX-Request": "true"}).get_data(as_text=True)
    assert _options(by_name) == ["Grace Hopper · (415) 555-0188"]
    assert "<html" not in by_name

    by_phone = client.get("/bookings/client-picker", query_string={
        "client_q": "(415) 555-0188", "client_id": ada}).get_data(as_text=True)
    assert [o.split(" · ")[0] for o in _options(by_phone)] == ["Ada", "Grace Hopper"]
    assert f'<option selected value="{ada}">' in by_phone  # the chosen client stays chosen

    nobody = client.get("/bookings/client-picker", query_string={"client_q": "nobody"})
    assert "No client matches “nobody”." in nobody.get_data(as_text=True)


def test_the_picker_never_shows_another_organizations_client(app, client, auth):
    org, _, _ = _org_with_people(app)
    with app.app_context():
        other = factories.org()
        foreign = factories.client(other.id, "Secret Client", "+14155550199")
    auth.sign_in(org.staff_email)

    html = client.get("/bookings/client-picker", query_string={
        "client_q": "secret", "client_id": foreign}).get_data(as_text=True)

    assert "Secret" not in html and _options(html) == []


def test_the_edit_page_offers_the_bookings_client_wherever_it_sorts(app, client, auth):
    org, sitter_id, _ = _org_with_people(app)
    with app.app_context():
        for n in range(bookings.CLIENT_CHOICES):
            factories.client(org.id, f"Aaron {n:03d}")
        zoe = factories.client(org.id, "Zoe Last")
        booking_id = bookings.create_booking(org.id, zoe, sitter_id, NOW, NOW + HOUR).id
    auth.sign_in(org.staff_email)

    page = client.get(f"/bookings/{booking_id}").get_data(as_text=True)

    assert _options(page)[0] == "Zoe Last"
    assert f'<option selected value="{zoe}">' in page
