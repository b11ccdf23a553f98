import hashlib
import hmac
import json

import pytest
import sqlalchemy as sa

from pawline import sitters
from pawline.db import db
from pawline.models import AssignmentWindow, Booking, Client, Organization, Thread
from tests import factories

STARTS, ENDS = "2026-12-01T09:00:00-05:00", "2026-12-01T17:00:00-05:00"


@pytest.fixture
def org(app):
    with app.app_context():
        made = factories.org()
        made.sitter_id = sitters.create_sitter(made.id, "Sam", factories.phone()).id
        made.secret = db.session.get(Organization, made.id).webhook_secret
    return made


def payload(tenant, **fields):
    body = {"org": tenant.slug, "external_ref": "BK-1", "client_phone": "+14155550111",
            "client_name": "Ada Lovelace", "sitter_id": tenant.sitter_id, "starts_at": STARTS,
            "ends_at": ENDS, "confirm": True}
    body.update(fields)
    return json.dumps(body).encode()


def post(client, body: bytes, secret: str | None, signature: str | None = None):
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Signature"] = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if signature is not None:
        headers["X-Signature"] = signature
    return client.post("/webhooks/bookings", data=body, headers=headers)


def counts(app, org_id):
    with app.app_context():
        return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(model)
                                       .where(model.org_id == org_id))
                     for model in (Client, Booking, Thread, AssignmentWindow))


def test_a_signed_booking_creates_client_booking_thread_and_window(app, client, org):
    response = post(client, payload(org), org.secret)

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "confirmed"
    assert counts(app, org.id) == (1, 1, 1, 1)
    with app.app_context():
        assert db.session.scalar(sa.select(Client.name).where(Client.org_id == org.id)) == (
            "Ada Lovelace")


def test_a_retried_webhook_changes_nothing(app, client, org):
    post(client, payload(org), org.secret)
    again = post(client, payload(org), org.secret)

    assert again.status_code == 200
    assert again.get_json()["changed"] is False
    assert counts(app, org.id) == (1, 1, 1, 1)


def test_a_new_time_for_the_same_reference_updates_and_moves_the_window(app, client, org):
    post(client, payload(org), org.secret)
    later = "2026-12-02T09:00:00-05:00"
    response = post(client, payload(org, starts_at=later, ends_at="2026-12-02T18:00:00-05:00"),
                    org.secret)

    assert response.status_code == 200 and response.get_json()["changed"] is True
    assert counts(app, org.id) == (1, 1, 1, 1)
    with app.app_context():
        window = db.session.scalar(sa.select(AssignmentWindow))
        assert window.starts_at.isoformat() == "2026-12-02T14:00:00+00:00"


def test_a_known_client_keeps_its_name(app, client, org):
    with app.app_context():
        factories.client(org.id, "Grace Hopper", "+14155550111")
    post(client, payload(org), org.secret)
    with app.app_context():
        assert db.session.scalar(sa.select(Client.name).where(Client.org_id == org.id)) == (
            "Grace Hopper")


@pytest.mark.parametrize("signature", [None, "", "00" * 32, "not hex", "é"])
def test_a_missing_or_wrong_signature_is_403(app, client, org, signature):
    response = post(client, payload(org), None, signature=signature)
    assert response.status_code == 403
    assert counts(app, org.id) == (0, 0, 0, 0)


def test_another_organizations_secret_is_403(app, client, org):
    with app.app_context():
        other = factories.org()
        other_secret = db.session.get(Organization, other.id).webhook_secret
    assert post(client, payload(org), other_secret).status_code == 403


def test_an_unknown_organization_is_403(client, org):
    assert post(client, payload(org, org="nobody"), org.secret).status_code == 403


def test_another_organizations_sitter_is_400(app, client, org):
    with app.app_context():
        other = factories.org()
        foreign = sitters.create_sitter(other.id, "Kim", factories.phone()).id
    response = post(client, payload(org, sitter_id=foreign), org.secret)
    assert response.status_code == 400
    assert counts(app, org.id) == (0, 0, 0, 0)


@pytest.mark.parametrize("body, reason", [
    (b"{not json", "not JSON"),
    (b"[1, 2]", "JSON object"),
    (b'{"external_ref": "x"}', "JSON object"),
])
def test_a_body_that_is_not_a_booking_is_400(client, org, body, reason):
    response = post(client, body, org.secret)
    assert response.status_code == 400
    assert reason in response.get_json()["error"]


@pytest.mark.parametrize("fields, reason", [
    ({"external_ref": ""}, "external_ref"),
    ({"client_phone": None}, "client_phone"),
    ({"client_phone": "not a phone"}, "phone"),
    ({"starts_at": "2026-12-01T09:00"}, "UTC offset"),
    ({"ends_at": "yesterday"}, "ends_at"),
    ({"ends_at": STARTS}, "end after"),
    ({"sitter_id": "abc"}, "sitter"),
])
def test_missing_or_bad_fields_are_400_with_the_reason(app, client, org, fields, reason):
    response = post(client, payload(org, **fields), org.secret)
    assert response.status_code == 400
    assert reason in response.get_json()["error"]
    assert counts(app, org.id) == (0, 0, 0, 0)
