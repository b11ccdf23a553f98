"""The booking webhook: signed with a timestamp, versions only move forward, cancelled is final."""

import pytest
import sqlalchemy as sa

from pawline import bookings, sitters
from pawline.db import db
from pawline.models import AssignmentWindow, Booking, Client, Organization, Thread
from tests import factories
from tests.booking_webhook import ENDS, STARTS, payload, post, sign, tenant

NEWER = "2026-11-21T10:00:00+00:00"
LATER_STARTS, LATER_ENDS = "2029-12-02T09:00:00-05:00", "2029-12-02T18:00:00-05:00"


@pytest.fixture
def org(app):
    return tenant(app)


def counts(app, org_id):
    with app.app_context():
        return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(model)
                                       .where(model.org_id == org_id))
                     for model in (Client, Booking, Thread, AssignmentWindow))


def stored(app, org_id):
    """(status, starts_at, window starts_at or None) of the organization's one booking."""
    with app.app_context():
        booking = db.session.scalar(sa.select(Booking).where(Booking.org_id == org_id))
        window = db.session.scalar(sa.select(AssignmentWindow.starts_at)
                                   .where(AssignmentWindow.booking_id == booking.id))
        return (booking.status, booking.starts_at.isoformat(),
                window.isoformat() if window else None)


def test_a_signed_booking_creates_client_booking_thread_and_window(app, client, org):
    response = post(client, org, payload(org))

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "confirmed"
    assert counts(app, org.id) == (1, 1, 1, 1)
    with app.app_context():
        assert db.session.scalar(sa.select(Client.name).where(Client.org_id == org.id)) == (
            "Ada Lovelace")


def test_a_retried_webhook_changes_nothing(app, client, org):
    post(client, org, payload(org))
    again = post(client, org, payload(org))

    assert again.status_code == 200
    assert again.get_json()["changed"] is False
    assert counts(app, org.id) == (1, 1, 1, 1)


def test_a_newer_version_updates_and_moves_the_window(app, client, org):
    post(client, org, payload(org))
    response = post(client, org, payload(org, starts_at=LATER_STARTS, ends_at=LATER_ENDS,
                                         updated_at=NEWER))

    assert response.status_code == 200 and response.get_json()["changed"] is True
    assert counts(app, org.id) == (1, 1, 1, 1)
    assert stored(app, org.id) == ("confirmed", "2029-12-02T14:00:00+00:00",
                                   "2029-12-02T14:00:00+00:00")


def test_an_older_version_arriving_late_moves_nothing_back(app, client, org):
    """The replayed payload of issue 16: it moved the booking and its window back."""
    first = payload(org)
    post(client, org, first)
    post(client, org, payload(org, starts_at=LATER_STARTS, ends_at=LATER_ENDS, updated_at=NEWER))

    replayed = post(client, org, first)

    assert replayed.status_code == 200
    assert replayed.get_json() | {"booking_id": 0} == {
        "booking_id": 0, "status": "confirmed", "created": False, "changed": False,
        "stale": True}
    assert stored(app, org.id) == ("confirmed", "2029-12-02T14:00:00+00:00",
                                   "2029-12-02T14:00:00+00:00")


def test_a_request_signed_more_than_five_minutes_ago_is_refused(app, client, org):
    post(client, org, payload(org))
    newer = payload(org, starts_at=LATER_STARTS, ends_at=LATER_ENDS, updated_at=NEWER)

    response = post(client, org, newer, sent_ago=301)

    assert response.status_code == 403
    assert "5 minutes" in response.get_json()["error"]
    assert stored(app, org.id)[1] == "2029-12-01T14:00:00+00:00"
    assert post(client, org, newer, sent_ago=290).status_code == 200  # its neighbour


def test_a_timestamp_from_the_future_is_refused_too(client, org):
    assert post(client, org, payload(org), sent_ago=-301).status_code == 403


def test_a_cancelled_booking_is_not_changed_or_confirmed_by_the_webhook(app, client, org):
    post(client, org, payload(org, confirm=False))
    with app.app_context():
        booking_id = db.session.scalar(sa.select(Booking.id).where(Booking.org_id == org.id))
        bookings.cancel_booking(org.id, booking_id)

    response = post(client, org, payload(org, starts_at=LATER_STARTS, ends_at=LATER_ENDS,
                                         updated_at=NEWER))

    assert response.status_code == 409
    assert "cancelled" in response.get_json()["error"]
    assert stored(app, org.id) == ("cancelled", "2029-12-01T14:00:00+00:00", None)
    assert post(client, org, payload(org, confirm=True)).get_json()["changed"] is False


def test_a_known_client_keeps_its_name(app, client, org):
    with app.app_context():
        factories.client(org.id, "Grace Hopper", "+14155550111")
    post(client, org, payload(org))
    with app.app_context():
        assert db.session.scalar(sa.select(Client.name).where(Client.org_id == org.id)) == (
            "Grace Hopper")


@pytest.mark.parametrize("signature", ["", "00" * 32, "not hex", "é"])
def test_a_missing_or_wrong_signature_is_403(app, client, org, signature):
    response = post(client, org, payload(org), signature=signature)
    assert response.status_code == 403
    assert counts(app, org.id) == (0, 0, 0, 0)


@pytest.mark.parametrize("timestamp", ["", "soon", "1e9", "-5"])
def test_a_missing_or_malformed_timestamp_is_403(app, client, org, timestamp):
    body = payload(org)
    response = post(client, org, body, timestamp=timestamp,
                    signature=sign(org.secret, timestamp, body))
    assert response.status_code == 403
    assert counts(app, org.id) == (0, 0, 0, 0)


def test_a_signature_of_the_body_alone_is_403(client, org):
    """The old scheme signed no time, so a captured request stayed valid for ever."""
    import hashlib
    import hmac

    body = payload(org)
    old = hmac.new(org.secret.encode(), body, hashlib.sha256).hexdigest()
    assert post(client, org, body, signature=old).status_code == 403


def test_a_signature_moved_to_another_timestamp_is_403(client, org):
    body = payload(org)
    response = post(client, org, body, signature=sign(org.secret, "1000", body))
    assert response.status_code == 403


def test_another_organizations_secret_is_403(app, client, org):
    with app.app_context():
        other = factories.org()
        other_secret = db.session.get(Organization, other.id).webhook_secret
    assert post(client, org, payload(org), other_secret).status_code == 403


def test_an_unknown_organization_is_403(client, org):
    assert post(client, org, payload(org), slug="nobody").status_code == 403


def test_the_old_address_without_an_organization_is_gone(client, org):
    response = client.post("/webhooks/bookings", data=payload(org, org=org.slug),
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 404


def test_another_organizations_sitter_is_400(app, client, org):
    with app.app_context():
        other = factories.org()
        foreign = sitters.create_sitter(other.id, "Kim", factories.phone()).id
    response = post(client, org, payload(org, sitter_id=foreign))
    assert response.status_code == 400
    assert counts(app, org.id) == (0, 0, 0, 0)


def test_the_body_may_name_its_organization_but_only_the_urls(client, org):
    assert post(client, org, payload(org, org=org.slug)).status_code == 201
    response = post(client, org, payload(org, org="another", updated_at=NEWER))
    assert response.status_code == 400 and "org" in response.get_json()["error"]


def test_stored_times_are_utc(app, client, org):
    post(client, org, payload(org, starts_at=STARTS, ends_at=ENDS))
    assert stored(app, org.id)[1] == "2029-12-01T14:00:00+00:00"
