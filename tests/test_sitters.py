from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from pawline import bookings, sitters
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
    sitter = sitters.create_sitter(org.id, "Kim", factories.phone(), email="kim@example.com",
                                   password=factories.PASSWORD)
    from pawline.accounts import authenticate
    user = authenticate("kim@example.com", factories.PASSWORD)
    assert user.id == sitter.user_id and user.role == "sitter"


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
