"""The Audit page: newest first, filters, keyset pages by id, one query per page, tenancy."""

import re

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from pawline import audit, audit_log
from pawline.db import db
from pawline.models import User
from tests import factories

HTMX = {"HX-Request": "true"}
ROW = '<td data-label="When">'
WHOLE = '<span class="nowrap">{}</span>'  # a phone in a sentence never breaks across lines


@pytest.fixture
def org(app):
    with app.app_context():
        return factories.org()


def user_id(email: str) -> int:
    return db.session.scalar(sa.select(User.id).where(User.email == email))


def record_events(app, org_id: int, actor_email: str | None, count: int,
                  action: str = "number.quarantined", entity_type: str = "message_number"):
    with app.app_context():
        actor = user_id(actor_email) if actor_email else None
        for n in range(count):
            audit.record(org_id, actor, action, entity_type, n + 1,
                         {"e164": f"+1415555{n:04d}", "reason": f"reason {n}",
                          "restored_early": False, "previously_assigned_sitter_id": None})
        db.session.commit()


def test_staff_and_owner_see_events_newest_first_with_actor_and_details(app, client, auth, org):
    record_events(app, org.id, org.owner_email, 3)
    auth.sign_in(org.staff_email)
    response = client.get("/audit")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    reasons = re.findall(r"reason (\d)", page)
    assert reasons == ["2", "1", "0"]
    assert "owner" in page.lower() and "quarantined " + WHOLE.format("(415) 555-0002") in page
    auth.sign_out()
    auth.sign_in(org.owner_email)
    assert client.get("/audit").status_code == 200


def test_a_sitter_gets_404_on_the_audit_page(client, auth, org):
    auth.sign_in(org.sitter_email)
    assert client.get("/audit").status_code == 404


def test_another_organizations_events_never_show(app, client, auth, org):
    with app.app_context():
        other = factories.org()
    record_events(app, other.id, other.owner_email, 1, action="secret.thing")
    auth.sign_in(org.owner_email)
    page = client.get("/audit").get_data(as_text=True)
    assert "secret.thing" not in page and "No events" in page


def test_filters_by_action_actor_and_entity_type(app, client, auth, org):
    record_events(app, org.id, org.owner_email, 2, action="number.quarantined")
    record_events(app, org.id, org.staff_email, 1, action="number.restored")
    record_events(app, org.id, None, 1, action="client.merged", entity_type="client")
    with app.app_context():
        staff_id = user_id(org.staff_email)
    auth.sign_in(org.owner_email)
    by_action = client.get("/audit?action=number.restored", headers=HTMX).get_data(as_text=True)
    assert by_action.count(ROW) == 1 and "restored " + WHOLE.format("(415) 555-0000") in by_action
    by_actor = client.get(f"/audit?actor={staff_id}", headers=HTMX).get_data(as_text=True)
    assert by_actor.count(ROW) == 1
    by_entity = client.get("/audit?entity=client", headers=HTMX).get_data(as_text=True)
    assert by_entity.count(ROW) == 1 and "Paw-line" in by_entity
    full = client.get("/audit").get_data(as_text=True)
    assert '<option value="client.merged"' in full and f'<option value="{staff_id}"' in full


def test_older_events_come_in_keyset_pages_by_id(app, client, auth, org):
    record_events(app, org.id, org.owner_email, audit_log.PAGE_SIZE + 5)
    auth.sign_in(org.owner_email)
    first = client.get("/audit").get_data(as_text=True)
    before = int(re.search(r"before=(\d+)", first).group(1))
    assert first.count(ROW) == audit_log.PAGE_SIZE
    older = client.get(f"/audit?before={before}", headers=HTMX)
    body = older.get_data(as_text=True)
    assert body.lstrip().startswith("<tr>") and body.count(ROW) == 5
    assert "Older events" not in body


def test_one_page_is_one_query_whatever_the_number_of_actors(app, org):
    record_events(app, org.id, org.owner_email, 3)
    record_events(app, org.id, org.staff_email, 3)
    with app.app_context():
        statements = []
        engine = db.session.get_bind()
        listen = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listen)
        try:
            page = audit_log.audit_page(org.id)
        finally:
            event.remove(engine, "before_cursor_execute", listen)
    assert len(page.lines) == 6 and all(line.actor_name for line in page.lines)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
