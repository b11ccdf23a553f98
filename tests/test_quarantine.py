"""Quarantine and restore of masked numbers: durations, custom dates, early restore, audit."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from pawline import numbers
from pawline.db import db
from pawline.errors import DomainError, NotFound
from pawline.models import AuditEvent, MessageNumber, Sitter
from tests import factories

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def org(ctx):
    return factories.org()


@pytest.fixture
def number_id(org):
    return factories.number(org.id, factories.phone())


def owner_id(org) -> int:
    from pawline.models import User
    return db.session.scalar(sa.select(User.id).where(User.email == org.owner_email))


def audit_events(org_id: int, action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.org_id == org_id, AuditEvent.action == action).order_by(AuditEvent.id)))


def sitter_with_number(org_id: int, number_id: int) -> int:
    sitter = Sitter(org_id=org_id, name="Sam Sitter", active=True)
    db.session.add(sitter)
    db.session.flush()
    db.session.get(MessageNumber, number_id).assigned_sitter_id = sitter.id
    db.session.commit()
    return sitter.id


@pytest.mark.parametrize("duration", numbers.QUARANTINE_DURATIONS)
def test_each_duration_releases_that_many_days_later(org, number_id, duration):
    number = numbers.quarantine_number(org.id, number_id, None, duration, None, "aging", now=NOW)
    assert number.status == "quarantined"
    assert number.quarantine_release_at == NOW + timedelta(days=int(duration))
    assert number.quarantined_at == NOW


def test_an_empty_duration_means_the_90_day_default(org, number_id):
    number = numbers.quarantine_number(org.id, number_id, None, "", None, "", now=NOW)
    assert number.quarantine_release_at == NOW + timedelta(days=90)
    assert numbers.DEFAULT_QUARANTINE_DAYS == 90


def test_a_future_custom_date_releases_at_the_start_of_that_day_in_the_org_zone(org, number_id):
    number = numbers.quarantine_number(org.id, number_id, None, "custom", "2026-04-01", "x",
                                       now=NOW)
    assert number.quarantine_release_at == datetime(2026, 4, 1, tzinfo=NEW_YORK)


def test_a_custom_date_wins_over_the_duration(org, number_id):
    number = numbers.quarantine_number(org.id, number_id, None, "7", "2026-05-20", "x", now=NOW)
    assert number.quarantine_release_at == datetime(2026, 5, 20, tzinfo=NEW_YORK)


@pytest.mark.parametrize("custom", ["2026-03-01", "2026-03-10", "03/20/2026", "soon", ""])
def test_a_past_today_malformed_or_missing_custom_date_is_refused(org, number_id, custom):
    with pytest.raises(DomainError) as refused:
        numbers.quarantine_number(org.id, number_id, None, "custom", custom, "x", now=NOW)
    assert refused.value.field == "custom_release_date"
    assert db.session.get(MessageNumber, number_id).status == "active"


def test_an_unknown_duration_is_refused(org, number_id):
    with pytest.raises(DomainError) as refused:
        numbers.quarantine_number(org.id, number_id, None, "5", None, "x", now=NOW)
    assert refused.value.field == "duration"


def test_a_quarantined_number_cannot_be_quarantined_again(org, number_id):
    numbers.quarantine_number(org.id, number_id, None, "7", None, "x", now=NOW)
    with pytest.raises(DomainError, match="already quarantined"):
        numbers.quarantine_number(org.id, number_id, None, "7", None, "x", now=NOW)


def test_another_organizations_number_is_not_found(org, number_id):
    other = factories.org()
    with pytest.raises(NotFound):
        numbers.quarantine_number(other.id, number_id, None, "7", None, "x", now=NOW)
    with pytest.raises(NotFound):
        numbers.restore_number(other.id, number_id, None, True, "why", now=NOW)


def test_quarantine_writes_an_audit_event_with_who_duration_date_and_reason(org, number_id):
    actor = owner_id(org)
    number = numbers.quarantine_number(org.id, number_id, actor, "custom", "2026-04-01",
                                       "client complained", now=NOW)
    [event] = audit_events(org.id, "number.quarantined")
    assert (event.actor_user_id, event.entity_type, event.entity_id) == (
        actor, "message_number", number_id)
    assert event.created_at == NOW
    assert event.data == {
        "e164": number.e164, "duration": "custom", "custom_release_date": "2026-04-01",
        "release_at": datetime(2026, 4, 1, tzinfo=NEW_YORK).isoformat(),
        "reason": "client complained", "previously_assigned_sitter_id": None,
    }


def test_quarantining_a_sitters_number_unassigns_it(org, number_id):
    sitter_id = sitter_with_number(org.id, number_id)
    number = numbers.quarantine_number(org.id, number_id, None, "30", None, "left", now=NOW)
    assert number.assigned_sitter_id is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MessageNumber).where(
        MessageNumber.assigned_sitter_id == sitter_id)) == 0
    [event] = audit_events(org.id, "number.quarantined")
    assert event.data["previously_assigned_sitter_id"] == sitter_id


def test_the_internal_helper_does_not_commit(org, number_id):
    release = NOW + timedelta(days=90)
    numbers.quarantine(org.id, number_id, None, release, "sitter deactivated", NOW, "90 days")
    db.session.rollback()
    assert db.session.get(MessageNumber, number_id).status == "active"
    assert audit_events(org.id, "number.quarantined") == []


def test_restore_before_release_without_force_is_refused_naming_the_date(org, number_id):
    numbers.quarantine_number(org.id, number_id, None, "30", None, "x", now=NOW)
    with pytest.raises(numbers.NumberStillQuarantined) as refused:
        numbers.restore_number(org.id, number_id, None, False, "", now=NOW + timedelta(days=1))
    assert "2026-04-09" in refused.value.message and "reason" in refused.value.message
    assert db.session.get(MessageNumber, number_id).status == "quarantined"


@pytest.mark.parametrize("reason", ["", "   "])
def test_forced_restore_without_a_reason_is_refused(org, number_id, reason):
    numbers.quarantine_number(org.id, number_id, None, "30", None, "x", now=NOW)
    with pytest.raises(numbers.NumberStillQuarantined) as refused:
        numbers.restore_number(org.id, number_id, None, True, reason, now=NOW)
    assert refused.value.field == "restore_reason"


def test_forced_restore_with_a_reason_returns_the_number_to_the_pool_and_audits_it(
        org, number_id):
    actor = owner_id(org)
    sitter_with_number(org.id, number_id)
    db.session.get(MessageNumber, number_id).number_class = "sitter"
    db.session.commit()
    numbers.quarantine_number(org.id, number_id, actor, "90", None, "x", now=NOW)
    later = NOW + timedelta(days=2)
    number = numbers.restore_number(org.id, number_id, actor, True, " Client asked ", now=later)
    assert (number.status, number.number_class, number.assigned_sitter_id) == (
        "active", "pool", None)
    assert number.quarantine_release_at is None and number.restored_at == later
    assert number.restore_reason == "Client asked"
    [event] = audit_events(org.id, "number.restored")
    assert event.actor_user_id == actor
    assert event.data == {
        "e164": number.e164, "force_restore": True, "restore_reason": "Client asked",
        "release_at": (NOW + timedelta(days=90)).isoformat(), "restored_early": True,
    }


def test_restore_after_the_release_date_is_plain(org, number_id):
    numbers.quarantine_number(org.id, number_id, None, "1", None, "x", now=NOW)
    number = numbers.restore_number(org.id, number_id, None, False, "", now=NOW + timedelta(1))
    assert number.status == "active"
    [event] = audit_events(org.id, "number.restored")
    assert event.data["restored_early"] is False and event.data["force_restore"] is False


def test_restoring_an_active_number_is_refused(org, number_id):
    with pytest.raises(DomainError, match="not quarantined"):
        numbers.restore_number(org.id, number_id, None, True, "why", now=NOW)


def test_a_restored_front_desk_stays_the_front_desk(org):
    desk = factories.number(org.id, factories.phone(), "front_desk")
    numbers.quarantine_number(org.id, desk, None, "1", None, "x", now=NOW)
    number = numbers.restore_number(org.id, desk, None, False, "", now=NOW + timedelta(days=2))
    assert number.number_class == "front_desk"


def test_list_numbers_shows_sitter_release_date_and_days_left(org, number_id):
    sitter_with_number(org.id, number_id)
    desk = factories.number(org.id, factories.phone(), "front_desk")
    quarantined = factories.number(org.id, factories.phone())
    numbers.quarantine_number(org.id, quarantined, None, "14", None, "x", now=NOW)
    rows = numbers.list_numbers(org.id, now=NOW + timedelta(hours=1))
    assert [r.id for r in rows][0] == desk
    by_id = {r.id: r for r in rows}
    assert by_id[number_id].sitter_name == "Sam Sitter"
    assert by_id[quarantined].days_left == 14 and not by_id[quarantined].release_passed
    later = numbers.list_numbers(org.id, now=NOW + timedelta(days=15))
    assert {r.id: r for r in later}[quarantined].release_passed

