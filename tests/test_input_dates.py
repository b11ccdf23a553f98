"""Times far from today are form errors: year 9999 overflowed, or was saved and broke reads."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from pawline.clock import utcnow
from pawline.db import db
from pawline.models import Booking, Thread
from tests.booking_webhook import payload, post, tenant_with_thread
from tests.conftest import make_app

POOL = "+14155550101"


@pytest.fixture
def world(app):
    return tenant_with_thread(app, POOL, "SMdates1")


def bookings(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Booking))


def local(delta: timedelta) -> str:
    return (utcnow() + delta).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize("starts, ends", [
    ("2030-01-01T10:00", "9999-12-31T23:59"),
    ("0001-01-01T00:00", "2030-01-02T10:00"),
    (None, "+6y"),
])
def test_a_booking_form_time_years_away_is_a_form_error(app, client, auth, world, starts, ends):
    auth.sign_in(world.owner_email)
    starts = starts or local(timedelta(days=1))
    ends = local(timedelta(days=6 * 366)) if ends == "+6y" else ends

    response = client.post("/bookings", data={
        "client_id": str(world.client_id), "sitter_id": str(world.sitter_id),
        "starts_at": starts, "ends_at": ends})

    assert response.status_code == 422
    assert "Pick a time within five years of today." in response.get_data(as_text=True)
    assert bookings(app) == 0


def test_a_booking_a_few_years_ahead_is_saved(app, client, auth, world):
    auth.sign_in(world.owner_email)
    response = client.post("/bookings", data={
        "client_id": str(world.client_id), "sitter_id": str(world.sitter_id),
        "starts_at": local(timedelta(days=4 * 365)),
        "ends_at": local(timedelta(days=4 * 365 + 2))})
    assert response.status_code == 302
    assert bookings(app) == 1


@pytest.mark.parametrize("field, value", [
    ("ends_at", "9999-12-31T23:59:59-05:00"), ("starts_at", "0001-01-01T00:00:00+14:00"),
    ("ends_at", "9999-12-31T23:59:59+00:00")])
def test_a_booking_webhook_time_years_away_is_a_400(app, client, world, field, value):
    response = post(client, world, payload(world, **{field: value}))
    assert response.status_code == 400
    assert response.get_json()["error"] == f"{field}: Pick a time within five years of today."
    assert bookings(app) == 0


def test_a_snooze_until_year_9999_is_refused_and_every_view_still_reads(app, client, auth,
                                                                        world):
    auth.sign_in(world.owner_email)

    response = client.post(f"/threads/{world.thread_id}/snooze",
                           data={"until": "custom", "custom_until": "9999-12-31T23:59"})

    assert response.status_code == 400
    assert "Snooze for a year at most." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(Thread.status)) == "open"
    for path in (f"/threads/{world.thread_id}", "/inbox?tab=snoozed", "/inbox?tab=all"):
        assert client.get(path).status_code == 200, path


def test_a_snooze_of_eleven_months_is_kept(app, client, auth, world):
    auth.sign_in(world.owner_email)
    response = client.post(f"/threads/{world.thread_id}/snooze",
                           data={"until": "custom", "custom_until": local(timedelta(days=330))})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(Thread.status)) == "snoozed"
    assert client.get("/inbox?tab=snoozed").status_code == 200


@pytest.fixture
def fresh_app(make_database):
    app = make_app(make_database())
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_migration_shortens_a_snooze_saved_past_what_can_be_read(fresh_app):
    with fresh_app.app_context():
        upgrade(revision="9d2c4a6e8b13")
        with db.engine.begin() as conn:
            conn.execute(sa.text("""
                WITH o AS (INSERT INTO organization (name, slug, webhook_secret)
                           VALUES ('Paws', 'paws', 's') RETURNING id),
                     c AS (INSERT INTO client (org_id, name) SELECT id, 'Ada' FROM o
                           RETURNING id, org_id)
                INSERT INTO thread (org_id, client_id, status, snoozed_until)
                SELECT org_id, id, 'snoozed', '10000-01-01 04:59+00' FROM c"""))

        upgrade()

        with db.engine.connect() as conn:
            left = conn.scalar(sa.text("SELECT snoozed_until - now() FROM thread"))
        assert timedelta(days=364) < left <= timedelta(days=366)
