"""The booking webhook's content fails cleanly (400 or 413, nothing saved), never with a 500."""

import json
import random
import string

import pytest
import sqlalchemy as sa

from pawline.db import db
from pawline.inputs import json_problem
from pawline.models import Booking, Client
from tests.booking_webhook import payload, post, tenant


@pytest.fixture
def org(app):
    return tenant(app)


def saved(app) -> tuple[int, int]:
    with app.app_context():
        return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(model))
                     for model in (Booking, Client))


def noise(length: int) -> str:
    """Text that does not compress, as a real key past an index's size would not."""
    return "".join(random.Random(length).choices(string.ascii_letters, k=length))


@pytest.mark.parametrize("document, problem", [
    ({"a": ["ok", {"b": "x\x00"}]}, "body.a[1].b holds the control character U+0000."),
    ({"k\x1f": 1}, "A key in body holds the control character U+001F."),
    ("\x07", "body holds the control character U+0007."),
    ({"a": ["tab\tand\r\nbreaks", 1, None, True, 2.5]}, None),
])
def test_json_problem_finds_a_control_character_at_any_depth(document, problem):
    assert json_problem(document) == problem


@pytest.mark.parametrize("field", ["external_ref", "client_name", "org", "client_phone"])
def test_a_nul_in_any_field_is_a_400_naming_it(app, client, org, field):
    response = post(client, org, payload(org, **{field: "BK\x00-1"}))
    assert response.status_code == 400
    assert response.get_json()["error"] == f"body.{field} holds the control character U+0000."
    assert saved(app) == (0, 0)


def test_an_external_ref_longer_than_an_index_key_is_a_400(app, client, org):
    response = post(client, org, payload(org, external_ref=noise(201)))
    assert response.status_code == 400
    assert response.get_json()["error"] == "external_ref is longer than 200 characters."
    assert saved(app) == (0, 0)


def test_a_megabyte_external_ref_is_refused_413_unread(app, client, org):
    response = post(client, org, payload(org, external_ref="x" * 1_000_000))
    assert response.status_code == 413
    assert saved(app) == (0, 0)


def test_a_client_name_longer_than_any_client_name_is_a_400(app, client, org):
    response = post(client, org, payload(org, client_name="A" * 121))
    assert response.status_code == 400
    assert response.get_json()["error"] == "client_name is longer than 120 characters."
    assert saved(app) == (0, 0)


@pytest.mark.parametrize("ref", [["BK-1"], {"id": 1}, True, 1.5, 4711])
def test_an_external_ref_that_is_no_string_is_a_400(app, client, org, ref):
    response = post(client, org, payload(org, external_ref=ref))
    assert response.status_code == 400
    assert response.get_json()["error"] == "external_ref must be a string."
    assert saved(app) == (0, 0)


def test_json_nested_past_the_limit_is_refused_before_it_is_parsed(app, client, org):
    body = json.dumps({"org": org.slug})[:-1].encode() + b', "x": ' + b"[" * 5_000 + (
        b"]" * 5_000) + b"}"
    response = post(client, org, body)
    assert response.status_code == 400
    assert response.get_json()["error"] == "The body nests deeper than 4 levels."
    assert saved(app) == (0, 0)
