"""Actions that are hard to take back ask first: cancelling a booking, deactivating a sitter."""

from datetime import timedelta

import pytest

from pawline import bookings, sitters
from pawline.clock import utcnow
from tests import factories


@pytest.fixture
def world(app):
    """Ada's booking with Sam: one past, one happening now, one upcoming."""
    with app.app_context():
        org = factories.org()
        factories.number(org.id, factories.phone(), "pool")
        sam = sitters.create_sitter(org.id, "Sam", factories.phone())
        sitters.activate_sitter(org.id, sam.id, None)
        ada = factories.client(org.id, "Ada", factories.phone())
        now, hour = utcnow(), timedelta(hours=1)
        org.past = bookings.create_booking(org.id, ada, sam.id, now - 3 * hour, now - hour).id
        org.current = bookings.create_booking(org.id, ada, sam.id, now - hour, now + hour).id
        org.upcoming = bookings.create_booking(org.id, ada, sam.id, now + 5 * hour,
                                               now + 6 * hour).id
        org.sam = sam.id
        return org


def row_of(page: str, booking_id: int) -> str:
    return page.split(f"/bookings/{booking_id}\"", 1)[1].split("</tr>", 1)[0]


def test_a_past_booking_offers_no_cancel(client, auth, world):
    auth.sign_in(world.staff_email)
    page = client.get("/bookings").get_data(as_text=True)
    assert "Cancel booking" not in row_of(page, world.past)
    assert "Cancel booking" in row_of(page, world.upcoming)


def test_cancelling_a_current_booking_asks_first_and_says_what_it_does(client, auth, world):
    auth.sign_in(world.staff_email)
    page = client.get("/bookings").get_data(as_text=True)
    row = row_of(page, world.current)
    assert f'data-open-dialog="cancel-booking-{world.current}"' in row
    dialog = row.split(f'id="cancel-booking-{world.current}"', 1)[1].split("</dialog>", 1)[0]
    assert "This booking is happening now." in dialog and "Sam stops covering" in dialog
    assert "Keep booking" in dialog and f"/bookings/{world.current}/cancel" in dialog
    # the row's own button only opens the question: the form lives in the dialog
    assert f"/bookings/{world.current}/cancel" not in row.split("<dialog", 1)[0]
    upcoming = row_of(page, world.upcoming)
    assert "happening now" not in upcoming and "It starts" in upcoming


def test_deactivating_a_sitter_asks_first_and_names_the_number_that_goes(client, auth, world):
    auth.sign_in(world.owner_email)
    page = client.get("/sitters").get_data(as_text=True)
    dialog = page.split(f'id="deactivate-{world.sam}"', 1)[1].split("</dialog>", 1)[0]
    assert "Deactivate Sam?" in dialog and "goes into quarantine for 90 days" in dialog
    assert "Sam&#39;s line" in dialog
    assert "Keep active" in dialog
