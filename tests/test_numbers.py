"""The Numbers panel and its routes: who may see and change what, forms, front desk, one query."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from pawline import numbers
from pawline.db import db
from pawline.errors import DomainError
from pawline.models import AuditEvent, MessageNumber, Sitter
from tests import factories

HTMX = {"HX-Request": "true"}


@pytest.fixture
def org(app):
    with app.app_context():
        return factories.org()


def make_number(app, org_id: int, number_class: str = "pool", **fields) -> int:
    with app.app_context():
        return factories.number(org_id, factories.phone(), number_class, **fields)


def read_number(app, number_id: int) -> MessageNumber:
    with app.app_context():
        number = db.session.get(MessageNumber, number_id)
        db.session.expunge(number)
        return number


def quarantined(app, org_id: int, days: str = "30", now: datetime | None = None) -> int:
    number_id = make_number(app, org_id)
    with app.app_context():
        numbers.quarantine_number(org_id, number_id, None, days, None, "test", now=now)
    return number_id


# -- viewing -------------------------------------------------------------------------------------

def test_the_owner_sees_numbers_with_sitter_and_days_left_and_actions(app, client, auth, org):
    sat = make_number(app, org.id)
    with app.app_context():
        sitter = Sitter(org_id=org.id, name="Sam Sitter", active=True)
        db.session.add(sitter)
        db.session.flush()
        db.session.get(MessageNumber, sat).assigned_sitter_id = sitter.id
        db.session.commit()
    quarantined(app, org.id, "14")
    auth.sign_in(org.owner_email)
    page = client.get("/numbers").get_data(as_text=True)
    assert "Sam Sitter" in page
    assert "This number is assigned to Sam Sitter. Quarantining it unassigns it" in page
    assert "14 days left" in page or "13 days left" in page
    assert "Quarantined" in page and "Add number" in page and "Restore now" in page
    assert 'data-show-when="duration=custom"' in page


def test_staff_can_view_the_panel_without_action_buttons(app, client, auth, org):
    make_number(app, org.id)
    auth.sign_in(org.staff_email)
    response = client.get("/numbers")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Active" in page
    assert "Add number" not in page and ">Quarantine<" not in page


def test_a_sitter_gets_404_on_the_numbers_page_and_its_actions(app, client, auth, org):
    number_id = make_number(app, org.id)
    auth.sign_in(org.sitter_email)
    assert client.get("/numbers").status_code == 404
    assert client.post(f"/numbers/{number_id}/quarantine", data={}).status_code == 404


@pytest.mark.parametrize("action", ["quarantine", "restore", "front-desk"])
def test_staff_get_403_on_owner_actions(app, client, auth, org, action):
    number_id = make_number(app, org.id)
    auth.sign_in(org.staff_email)
    response = client.post(f"/numbers/{number_id}/{action}", data={"duration": "7"})
    assert response.status_code == 403
    assert b"Only an owner" in response.data
    assert client.post("/numbers", data={"e164": factories.phone()}).status_code == 403


@pytest.mark.parametrize("role", ["owner", "staff"])
@pytest.mark.parametrize("action", ["quarantine", "restore", "front-desk"])
def test_another_organizations_number_is_404(app, client, auth, org, action, role):
    with app.app_context():
        other = factories.org()
    theirs = make_number(app, other.id)
    auth.sign_in(org.owner_email if role == "owner" else org.staff_email)
    response = client.post(f"/numbers/{theirs}/{action}",
                           data={"duration": "7", "force_restore": "1", "restore_reason": "x"})
    assert response.status_code == 404
    assert read_number(app, theirs).status == "active"


def test_the_panel_reads_its_numbers_and_their_use_in_two_queries(app, org):
    for _ in range(3):
        make_number(app, org.id)
    with app.app_context():
        for _ in range(2):
            sitter = Sitter(org_id=org.id, name="S", active=True)
            db.session.add(sitter)
            db.session.flush()
            db.session.add(MessageNumber(org_id=org.id, e164=factories.phone(),
                                         number_class="sitter", assigned_sitter_id=sitter.id))
        db.session.commit()
        statements = []
        engine = db.session.get_bind()
        listen = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listen)
        try:
            rows = numbers.list_numbers(org.id)
        finally:
            event.remove(engine, "before_cursor_execute", listen)
    assert len(rows) == 5 and sum(r.sitter_name == "S" for r in rows) == 2
    # the lines with their sitters, then how many conversations use each (whatever the count)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2


# -- quarantine ----------------------------------------------------------------------------------

def test_owner_quarantines_with_htmx_and_gets_the_fresh_panel(app, client, auth, org):
    number_id = make_number(app, org.id)
    auth.sign_in(org.owner_email)
    response = client.post(f"/numbers/{number_id}/quarantine", headers=HTMX,
                           data={"duration": "7", "reason": "spam"})
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#numbers-panel"
    assert 'id="numbers-panel"' in response.get_data(as_text=True)
    assert "<html" not in response.get_data(as_text=True)
    number = read_number(app, number_id)
    assert number.status == "quarantined"
    assert number.quarantine_release_at - number.quarantined_at == timedelta(days=7)


def test_a_plain_form_post_redirects_to_the_panel_with_a_flash(app, client, auth, org):
    number_id = make_number(app, org.id)
    auth.sign_in(org.owner_email)
    response = client.post(f"/numbers/{number_id}/quarantine", data={"duration": ""})
    assert response.status_code == 302 and response.headers["Location"].endswith("/numbers")
    assert b"is quarantined" in client.get("/numbers").data
    number = read_number(app, number_id)
    assert number.quarantine_release_at - number.quarantined_at == timedelta(days=90)


def test_a_past_custom_date_re_renders_the_form_with_its_error(app, client, auth, org):
    number_id = make_number(app, org.id)
    auth.sign_in(org.owner_email)
    response = client.post(f"/numbers/{number_id}/quarantine", headers=HTMX,
                           data={"duration": "custom", "custom_release_date": "2020-01-01"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith("<form") and "must be in the future" in body
    assert 'value="2020-01-01"' in body
    assert read_number(app, number_id).status == "active"


def test_an_unknown_duration_is_a_form_error(app, client, auth, org):
    number_id = make_number(app, org.id)
    auth.sign_in(org.owner_email)
    response = client.post(f"/numbers/{number_id}/quarantine", data={"duration": "2"})
    assert response.status_code == 422
    assert b"Choose 1, 3, 7, 14, 30, 90 days" in response.data


# -- restore -------------------------------------------------------------------------------------

def test_a_forced_restore_without_a_reason_is_400_naming_the_reason_field(app, client, auth, org):
    number_id = quarantined(app, org.id)
    auth.sign_in(org.owner_email)
    response = client.post(f"/numbers/{number_id}/restore", headers=HTMX,
                           data={"force_restore": "1", "restore_reason": "  "})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "restore_reason" in body and "Give a reason" in body
    assert read_number(app, number_id).status == "quarantined"


def test_an_early_restore_without_force_is_400_naming_the_release_date(app, client, auth, org):
    number_id = quarantined(app, org.id)
    auth.sign_in(org.owner_email)
    response = client.post(f"/numbers/{number_id}/restore", data={})
    assert response.status_code == 400
    assert b"stays quarantined until" in response.data and b"give a reason" in response.data


def test_owner_restores_early_with_a_reason(app, client, auth, org):
    number_id = quarantined(app, org.id)
    auth.sign_in(org.owner_email)
    response = client.post(f"/numbers/{number_id}/restore", headers=HTMX,
                           data={"force_restore": "1", "restore_reason": "Carrier confirmed"})
    assert response.status_code == 200
    assert read_number(app, number_id).status == "active"
    with app.app_context():
        event_row = db.session.scalar(sa.select(AuditEvent).where(
            AuditEvent.action == "number.restored", AuditEvent.entity_id == number_id))
        assert event_row.data["restored_early"] is True
        assert event_row.actor_user_id is not None


def test_a_number_past_its_release_date_restores_plainly(app, client, auth, org):
    past = datetime.now(UTC) - timedelta(days=10)
    number_id = quarantined(app, org.id, "1", now=past)
    auth.sign_in(org.owner_email)
    page = client.get("/numbers").get_data(as_text=True)
    assert "ready to restore" in page
    response = client.post(f"/numbers/{number_id}/restore", data={})
    assert response.status_code == 302
    assert read_number(app, number_id).status == "active"


# -- adding and the front desk -------------------------------------------------------------------

def test_owner_adds_a_number_and_a_duplicate_is_a_form_error(app, client, auth, org):
    auth.sign_in(org.owner_email)
    phone = factories.phone()
    added = client.post("/numbers", headers=HTMX, data={"e164": phone, "number_class": "pool"})
    assert added.status_code == 200 and "Added" in added.get_data(as_text=True)
    again = client.post("/numbers", headers=HTMX, data={"e164": phone, "number_class": "pool"})
    assert again.status_code == 422 and b"already in use" in again.data


def test_set_front_desk_swaps_the_front_desk(app, org):
    old = make_number(app, org.id, "front_desk")
    new = make_number(app, org.id)
    with app.app_context():
        numbers.set_front_desk(org.id, new, None)
    assert read_number(app, old).number_class == "pool"
    assert read_number(app, new).number_class == "front_desk"
    with app.app_context():
        [event_row] = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.action == "number.front_desk_set")).all()
        assert event_row.data["previous_front_desk_id"] == old


def test_a_quarantined_number_cannot_become_the_front_desk(app, org):
    number_id = quarantined(app, org.id)
    with app.app_context(), pytest.raises(DomainError, match="quarantined"):
        numbers.set_front_desk(org.id, number_id, None)


def test_owner_makes_a_number_the_front_desk_from_the_panel(app, client, auth, org):
    make_number(app, org.id, "front_desk")
    new = make_number(app, org.id)
    auth.sign_in(org.owner_email)
    response = client.post(f"/numbers/{new}/front-desk", headers=HTMX)
    assert response.status_code == 200 and b"is now the front desk" in response.data
    assert read_number(app, new).number_class == "front_desk"
