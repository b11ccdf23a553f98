from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from pawline import bookings, sitters
from pawline.accounts import authenticate
from pawline.db import db
from pawline.errors import DomainError, InvalidPhone, NotFound
from pawline.models import AuditEvent, MessageNumber, Sitter, Thread
from tests import factories

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def make_sitter(org_id, name="Sam Sitter", **kwargs):
    return sitters.create_sitter(org_id, name, factories.phone(), **kwargs).id


def actions(org_id, action):
    return db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.org_id == org_id, AuditEvent.action == action)).all()


# ---- domain ------------------------------------------------------------------------------

def test_a_new_sitter_is_inactive_with_a_normalized_phone_and_an_audit_event(ctx):
    org = factories.org()
    sitter = sitters.create_sitter(org.id, "  Sam  ", "(415) 555-0134")
    assert (sitter.name, sitter.phone_e164, sitter.active) == ("Sam", "+14155550134", False)
    assert len(actions(org.id, "sitter.created")) == 1


def test_a_sitter_phone_must_be_a_phone(ctx):
    org = factories.org()
    with pytest.raises(InvalidPhone):
        sitters.create_sitter(org.id, "Sam", "not a phone")


def test_a_sitter_email_links_the_existing_sitter_sign_in(ctx):
    org = factories.org()
    sitter = sitters.create_sitter(org.id, "Sam", factories.phone(), email=org.sitter_email)
    assert sitter.user_id == org.sitter_user_id
    assert sitters.sitter_for_user(org.id, org.sitter_user_id).id == sitter.id


def test_a_new_sitter_email_creates_a_sitter_sign_in_with_the_given_password(ctx):
    org = factories.org()
    sitter = sitters.create_sitter(org.id, "Kim Park", factories.phone(),
                                   email="kim@example.com", password=factories.PASSWORD)
    user = authenticate("kim@example.com", factories.PASSWORD)
    assert user.id == sitter.user_id and user.role == "sitter"
    assert user.name == "Kim Park"  # shown at the top of every page, not "kim"


def test_a_new_sign_in_needs_a_password(ctx):
    org = factories.org()
    with pytest.raises(DomainError) as error:
        sitters.create_sitter(org.id, "Kim", factories.phone(), email="kim@example.com")
    assert error.value.field == "password"


def test_a_staff_email_cannot_become_a_sitter_sign_in(ctx):
    org = factories.org()
    with pytest.raises(DomainError) as error:
        sitters.create_sitter(org.id, "Kim", factories.phone(), email=org.staff_email)
    assert error.value.field == "email"


def test_one_sign_in_links_to_one_sitter(ctx):
    org = factories.org()
    sitters.create_sitter(org.id, "Sam", factories.phone(), email=org.sitter_email)
    with pytest.raises(DomainError) as error:
        sitters.create_sitter(org.id, "Sam again", factories.phone(), email=org.sitter_email)
    assert error.value.field == "email"


def test_activation_assigns_one_number_once_and_reactivation_keeps_it(ctx):
    org = factories.org()
    factories.number(org.id, factories.phone(), "pool")
    factories.number(org.id, factories.phone(), "pool")
    sitter_id = make_sitter(org.id)

    first = sitters.activate_sitter(org.id, sitter_id, None, now=NOW)
    again = sitters.activate_sitter(org.id, sitter_id, None, now=NOW)

    assert first.newly_assigned and first.number is not None
    assert again == sitters.ActivationResult(first.number, False)
    assert db.session.scalar(sa.select(sa.func.count()).where(
        MessageNumber.assigned_sitter_id == sitter_id)) == 1
    assert actions(org.id, "sitter.activated")[0].data["number"] == first.number


def test_activation_prefers_a_sitter_number_and_never_takes_front_desk_or_quarantined(ctx):
    org = factories.org()
    factories.number(org.id, factories.phone(), "front_desk")
    factories.number(org.id, factories.phone(), "pool", status="quarantined",
                     quarantine_release_at=NOW + timedelta(days=3))
    pool = factories.number(org.id, factories.phone(), "pool")
    sitter_class = factories.number(org.id, factories.phone(), "sitter")

    first = sitters.activate_sitter(org.id, make_sitter(org.id, "A"), None, now=NOW)
    second = sitters.activate_sitter(org.id, make_sitter(org.id, "B"), None, now=NOW)
    third = sitters.activate_sitter(org.id, make_sitter(org.id, "C"), None, now=NOW)

    assert first.number == db.session.get(MessageNumber, sitter_class).e164
    assert second.number == db.session.get(MessageNumber, pool).e164
    assert third == sitters.ActivationResult(None, False)


def test_activation_prefers_a_pool_number_that_is_no_threads_default(ctx):
    org = factories.org()
    in_use = factories.number(org.id, factories.phone(), "pool")
    spare = factories.number(org.id, factories.phone(), "pool", )
    client_id = factories.client(org.id, "Ada", factories.phone())
    db.session.add(Thread(org_id=org.id, client_id=client_id, default_number_id=in_use))
    db.session.commit()

    result = sitters.activate_sitter(org.id, make_sitter(org.id), None, now=NOW)

    assert result.number == db.session.get(MessageNumber, spare).e164


def test_without_a_free_number_the_sitter_is_still_activated(ctx):
    org = factories.org()
    sitter_id = make_sitter(org.id)
    result = sitters.activate_sitter(org.id, sitter_id, None, now=NOW)
    assert result.number is None
    assert db.session.get(Sitter, sitter_id).active


def test_deactivation_quarantines_the_number_for_90_days_with_audit(ctx):
    org = factories.org()
    number_id = factories.number(org.id, factories.phone(), "sitter")
    sitter_id = make_sitter(org.id, "Sam")
    sitters.activate_sitter(org.id, sitter_id, None, now=NOW)

    sitters.deactivate_sitter(org.id, sitter_id, None, now=NOW)

    number = db.session.get(MessageNumber, number_id)
    assert (number.status, number.assigned_sitter_id) == ("quarantined", None)
    assert number.quarantine_release_at == NOW + timedelta(days=90)
    assert number.quarantine_reason == "Sitter Sam deactivated"
    assert not db.session.get(Sitter, sitter_id).active
    assert actions(org.id, "number.quarantined")[0].data["duration"] == "90"
    assert actions(org.id, "sitter.deactivated")[0].data["quarantined_number"] == number.e164


def test_a_reactivated_sitter_gets_a_fresh_number_not_its_quarantined_one(ctx):
    org = factories.org()
    old = factories.number(org.id, factories.phone(), "sitter")
    fresh = factories.number(org.id, factories.phone(), "pool")
    sitter_id = make_sitter(org.id)
    sitters.activate_sitter(org.id, sitter_id, None, now=NOW)
    sitters.deactivate_sitter(org.id, sitter_id, None, now=NOW)

    result = sitters.activate_sitter(org.id, sitter_id, None, now=NOW)

    assert result.number == db.session.get(MessageNumber, fresh).e164
    assert db.session.get(MessageNumber, old).assigned_sitter_id is None


def test_another_organizations_sitter_is_not_found(ctx):
    mine, theirs = factories.org(), factories.org()
    sitter_id = make_sitter(theirs.id)
    with pytest.raises(NotFound):
        sitters.activate_sitter(mine.id, sitter_id, None, now=NOW)
    with pytest.raises(NotFound):
        sitters.deactivate_sitter(mine.id, sitter_id, None, now=NOW)


def _covered_thread(org, start, end):
    sitter_id = sitters.create_sitter(org.id, "Sam", factories.phone(),
                                      email=org.sitter_email).id
    sitters.activate_sitter(org.id, sitter_id, None, now=NOW)
    client_id = factories.client(org.id, "Ada", factories.phone())
    booking = bookings.create_booking(org.id, client_id, sitter_id, start, end)
    bookings.confirm_booking(org.id, booking.id, now=NOW)
    thread_id = db.session.scalar(sa.select(Thread.id).where(Thread.client_id == client_id))
    return sitter_id, booking.id, thread_id


def test_a_sitter_sees_a_thread_only_while_its_window_is_active(ctx):
    org = factories.org()
    start, end = NOW + timedelta(hours=1), NOW + timedelta(hours=5)
    _, _, thread_id = _covered_thread(org, start, end)
    user = org.sitter_user_id

    assert sitters.visible_thread_ids(org.id, user, NOW) == set()
    assert sitters.visible_thread_ids(org.id, user, start) == {thread_id}
    assert sitters.sitter_can_see_thread(org.id, user, thread_id, start + timedelta(hours=2))
    assert not sitters.sitter_can_see_thread(org.id, user, thread_id, end)


def test_a_deactivated_sitter_sees_no_thread(ctx):
    org = factories.org()
    sitter_id, _, thread_id = _covered_thread(org, NOW - timedelta(hours=1),
                                              NOW + timedelta(hours=1))
    sitters.deactivate_sitter(org.id, sitter_id, None, now=NOW)
    assert not sitters.sitter_can_see_thread(org.id, org.sitter_user_id, thread_id, NOW)


def test_another_organization_never_sees_the_thread(ctx):
    org, other = factories.org(), factories.org()
    _, _, thread_id = _covered_thread(org, NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    assert sitters.visible_thread_ids(other.id, org.sitter_user_id, NOW) == set()
    assert not sitters.sitter_can_see_thread(other.id, other.sitter_user_id, thread_id, NOW)


# ---- pages -------------------------------------------------------------------------------

def test_staff_adds_a_sitter_and_sees_it_listed(app, client, auth):
    with app.app_context():
        org = factories.org()
    auth.sign_in(org.staff_email)

    response = client.post("/sitters", data={"name": "Sam Sitter", "phone": "415 555 0134"})
    assert response.status_code == 302
    page = client.get("/sitters").get_data(as_text=True)

    assert "Sam Sitter" in page and "(415) 555-0134" in page
    assert "Sitters receive a dedicated masked number when activated." in page


def test_a_bad_phone_is_shown_on_the_form(app, client, auth):
    with app.app_context():
        org = factories.org()
    auth.sign_in(org.owner_email)
    response = client.post("/sitters", data={"name": "Sam", "phone": "nope"})
    assert response.status_code == 422
    assert "is not a phone number" in response.get_data(as_text=True)


def test_activating_without_a_free_number_says_so(app, client, auth):
    with app.app_context():
        org = factories.org()
        sitter_id = make_sitter(org.id)
    auth.sign_in(org.owner_email)
    response = client.post(f"/sitters/{sitter_id}/activate", follow_redirects=True)
    assert "No masked number available: add one to the pool." in response.get_data(as_text=True)


def test_activate_then_deactivate_through_the_pages(app, client, auth):
    with app.app_context():
        org = factories.org()
        number_id = factories.number(org.id, "+14155550199", "sitter")
        sitter_id = make_sitter(org.id)
    auth.sign_in(org.staff_email)

    activated = client.post(f"/sitters/{sitter_id}/activate", follow_redirects=True)
    assert "(415) 555-0199" in activated.get_data(as_text=True)
    deactivated = client.post(f"/sitters/{sitter_id}/deactivate", follow_redirects=True)
    assert "quarantine" in deactivated.get_data(as_text=True)

    with app.app_context():
        assert db.session.get(MessageNumber, number_id).status == "quarantined"


def test_editing_a_sitter_changes_name_and_phone(app, client, auth):
    with app.app_context():
        org = factories.org()
        sitter_id = make_sitter(org.id)
    auth.sign_in(org.staff_email)
    assert client.get(f"/sitters/{sitter_id}").status_code == 200
    response = client.post(f"/sitters/{sitter_id}", data={"name": "Kim", "phone": "4155550177"})
    assert response.status_code == 302
    with app.app_context():
        sitter = db.session.get(Sitter, sitter_id)
        assert (sitter.name, sitter.phone_e164) == ("Kim", "+14155550177")


@pytest.mark.parametrize("method, path", [
    ("get", "/sitters"), ("post", "/sitters"), ("get", "/sitters/{id}"),
    ("post", "/sitters/{id}/activate"), ("post", "/sitters/{id}/deactivate"),
])
def test_sitters_get_404_on_the_sitters_pages(app, client, auth, method, path):
    with app.app_context():
        org = factories.org()
        sitter_id = make_sitter(org.id)
    auth.sign_in(org.sitter_email)
    response = getattr(client, method)(path.format(id=sitter_id), data={"name": "x"})
    assert response.status_code == 404


@pytest.mark.parametrize("method, path", [
    ("get", "/sitters/{id}"), ("post", "/sitters/{id}"),
    ("post", "/sitters/{id}/activate"), ("post", "/sitters/{id}/deactivate"),
])
def test_another_organizations_sitter_is_404(app, client, auth, method, path):
    with app.app_context():
        mine, theirs = factories.org(), factories.org()
        factories.number(theirs.id, factories.phone(), "pool")
        sitter_id = make_sitter(theirs.id)
    auth.sign_in(mine.owner_email)
    response = getattr(client, method)(path.format(id=sitter_id),
                                       data={"name": "x", "phone": "4155550100"})
    assert response.status_code == 404
    with app.app_context():
        assert not db.session.get(Sitter, sitter_id).active
