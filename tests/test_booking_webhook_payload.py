"""The booking webhook's body: bounded in size and nesting, every field of its exact type, and
nothing parsed before the signature holds."""

import json

import pytest
import sqlalchemy as sa

from blueprints.booking_webhook import MAX_BODY_BYTES, MAX_NESTING, nesting
from pawline.db import db
from pawline.models import Booking
from tests.booking_webhook import STARTS, payload, post, tenant


@pytest.fixture
def org(app):
    return tenant(app)


def bookings_of(app, org_id) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Booking)
                                 .where(Booking.org_id == org_id))


@pytest.mark.parametrize("fields, reason", [
    ({"sitter_id": 1.9}, "sitter_id must be a whole number"),
    ({"sitter_id": True}, "sitter_id must be a whole number"),
    ({"sitter_id": "1"}, "sitter_id must be a whole number"),
    ({"sitter_id": [1]}, "sitter_id must be a whole number"),
    ({"sitter_id": 2**63}, "no such sitter"),
    ({"sitter_id": 0}, "no such sitter"),
    ({"external_ref": 12345}, "external_ref must be a string"),
    ({"external_ref": ["BK-1"]}, "external_ref must be a string"),
    ({"client_phone": 14155550111}, "client_phone must be a string"),
    ({"client_name": {"first": "Ada"}}, "client_name must be a string"),
    ({"confirm": "yes"}, "confirm must be a boolean"),
    ({"confirm": 1}, "confirm must be a boolean"),
    ({"updated_at": 1764000000}, "updated_at must be a string"),
    ({"external_ref": "x" * 201}, "longer than 200"),
])
def test_a_field_of_the_wrong_type_is_400_and_stores_nothing(app, client, org, fields, reason):
    response = post(client, org, payload(org, **fields))

    assert response.status_code == 400
    assert reason in response.get_json()["error"]
    assert bookings_of(app, org.id) == 0


@pytest.mark.parametrize("fields, reason", [
    ({"external_ref": ""}, "external_ref"),
    ({"external_ref": "   "}, "external_ref"),
    ({"client_phone": None}, "client_phone"),
    ({"updated_at": None}, "updated_at"),
    ({"client_phone": "not a phone"}, "phone"),
    ({"starts_at": "2029-12-01T09:00"}, "UTC offset"),
    ({"updated_at": "2026-11-20T10:00"}, "UTC offset"),
    ({"ends_at": "yesterday"}, "ends_at"),
    ({"ends_at": STARTS}, "end after"),
    ({"sitter_id": 987654321}, "sitter"),
])
def test_missing_or_bad_fields_are_400_with_the_reason(app, client, org, fields, reason):
    response = post(client, org, payload(org, **fields))
    assert response.status_code == 400
    assert reason in response.get_json()["error"]
    assert bookings_of(app, org.id) == 0


@pytest.mark.parametrize("body, reason", [
    (b"{not json", "not JSON"),
    (b'{"sitter_id": NaN}', "not JSON"),
    (b"[1, 2]", "JSON object"),
    (b'{"external_ref": "x"}', "Missing fields"),
])
def test_a_body_that_is_not_a_booking_is_400(client, org, body, reason):
    response = post(client, org, body)
    assert response.status_code == 400
    assert reason in response.get_json()["error"]


def test_deeply_nested_json_with_a_bad_signature_is_403_before_any_parsing(client, org):
    """Issue 16: this raised RecursionError in the parser before authentication."""
    response = post(client, org, b"[" * 8000 + b"]" * 8000, signature="00" * 32)
    assert response.status_code == 403

    body = b'{"external_ref": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    assert post(client, org, body, signature="00" * 32).status_code == 403


def test_signed_json_nested_deeper_than_the_bound_is_400(client, org):
    body = json.loads(payload(org))
    body["extra"] = [[[["deep"]]]]
    response = post(client, org, json.dumps(body).encode())
    assert response.status_code == 400
    assert f"deeper than {MAX_NESTING}" in response.get_json()["error"]

    body["extra"] = [[["fine"]]]
    assert post(client, org, json.dumps(body).encode()).status_code == 201


def test_a_body_over_the_size_bound_is_413_and_stores_nothing(app, client, org):
    body = json.loads(payload(org))
    body["notes"] = "x" * MAX_BODY_BYTES
    response = post(client, org, json.dumps(body).encode())
    assert response.status_code == 413
    assert bookings_of(app, org.id) == 0


@pytest.mark.parametrize("text, depth", [
    (b'{"a": 1}', 1),
    (b'{"a": [1, {"b": []}]}', 4),
    (b'{"a": "[[[[[[{{{{"}', 1),
    (b'{"a": "quote \\" then [[[["}', 1),
    (b'{"a": "backslash \\\\", "b": [[]]}', 3),
    (b"5", 0),
])
def test_nesting_counts_brackets_outside_strings_only(text, depth):
    assert nesting(text) == depth
