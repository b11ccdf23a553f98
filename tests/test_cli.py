"""The admin commands: each refusal is one clear line, exit status 1, nothing half-written."""

import pytest
import sqlalchemy as sa

from pawline import demo
from pawline.db import db
from pawline.models import (
    AuditEvent,
    Client,
    ClientContact,
    Message,
    MessageNumber,
    Organization,
    Sitter,
    Thread,
    User,
)
from tests import factories

PASSWORD = factories.PASSWORD


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def lines(result) -> list[str]:
    return [line for line in result.output.splitlines() if line.strip()]


def refused_in_one_line(result, *words: str) -> str:
    assert result.exit_code != 0, result.output
    [line] = lines(result)
    for word in words:
        assert word in line
    return line


def create_org(runner, name="Happy Tails", slug=None, email="boss@tails.example",
               password=PASSWORD):
    args = ["create-org", name, "--owner-email", email, "--owner-password", password]
    return runner.invoke(args=args + (["--slug", slug] if slug else []))


@pytest.fixture
def org(app):
    with app.app_context():
        return factories.org()


# --- create-org --------------------------------------------------------------------------------

def test_create_org_prints_the_slug_and_creates_the_org_with_its_owner(app, runner):
    result = create_org(runner, "Happy Tails & Co")

    assert result.exit_code == 0, result.output
    assert lines(result) == ["happy-tails-co"]
    with app.app_context():
        org = db.session.scalars(
            sa.select(Organization).where(Organization.slug == "happy-tails-co")).one()
        owner = db.session.scalars(sa.select(User).where(User.org_id == org.id)).one()
        assert (org.name, owner.email, owner.role) == ("Happy Tails & Co", "boss@tails.example",
                                                       "owner")


def test_create_org_with_a_taken_slug_is_refused(app, runner, org):
    result = create_org(runner, slug=org.slug)

    refused_in_one_line(result, org.slug, "taken")
    assert count(app, User, User.email == "boss@tails.example") == 0


def test_create_org_with_a_taken_owner_email_leaves_no_organization_behind(app, runner, org):
    result = create_org(runner, slug="fresh-org", email=org.staff_email)

    refused_in_one_line(result, org.staff_email, "cannot be used")
    assert count(app, Organization, Organization.slug == "fresh-org") == 0


@pytest.mark.parametrize(("email", "password", "words"), [
    ("not-an-email", PASSWORD, ("not an email",)),
    ("boss@tails.example", "short", ("at least 8",)),
])
def test_create_org_with_a_bad_owner_leaves_no_organization_behind(app, runner, email,
                                                                   password, words):
    result = create_org(runner, slug="half-written", email=email, password=password)

    refused_in_one_line(result, *words)
    assert count(app, Organization, Organization.slug == "half-written") == 0


def test_create_org_with_a_malformed_slug_is_refused(app, runner):
    result = create_org(runner, slug="Not A Slug")

    refused_in_one_line(result, "Not A Slug", "not a slug")
    assert count(app, User, User.email == "boss@tails.example") == 0


# --- create-user -------------------------------------------------------------------------------

def create_user(runner, org_slug, email="new@example.com", role="staff", password=PASSWORD):
    return runner.invoke(args=["create-user", "--org", org_slug, "--email", email,
                               "--password", password, "--role", role])


def test_create_user_adds_a_user_to_the_organization(app, runner, org):
    result = create_user(runner, org.slug, email="New@Example.com", role="sitter")

    assert result.exit_code == 0, result.output
    assert lines(result) == ["Created sitter new@example.com."]
    assert count(app, User, User.org_id == org.id, User.email == "new@example.com",
                 User.role == "sitter") == 1


def test_create_user_in_an_unknown_organization_is_refused(app, runner):
    result = create_user(runner, "no-such-org")

    refused_in_one_line(result, "no-such-org")
    assert count(app, User, User.email == "new@example.com") == 0


def test_create_user_with_an_unknown_role_is_refused(app, runner, org):
    result = create_user(runner, org.slug, role="admin")

    refused_in_one_line(result, "owner", "staff", "sitter")
    assert count(app, User, User.email == "new@example.com") == 0


def test_create_user_with_a_taken_email_is_refused_even_in_another_org(app, runner, org):
    with app.app_context():
        other = factories.org()

    result = create_user(runner, other.slug, email=org.owner_email.upper())

    refused_in_one_line(result, org.owner_email, "cannot be used")
    assert count(app, User, User.email == org.owner_email) == 1


# --- add-number --------------------------------------------------------------------------------

def add_number(runner, phone, org_slug, number_class="pool"):
    return runner.invoke(args=["add-number", phone, "--org", org_slug,
                               "--class", number_class])


def test_add_number_normalizes_the_phone_and_adds_it_to_the_pool(app, runner, org):
    result = add_number(runner, "(415) 555-0188", org.slug)

    assert result.exit_code == 0, result.output
    assert lines(result) == ["Added +14155550188 (pool)."]
    assert count(app, MessageNumber, MessageNumber.org_id == org.id,
                 MessageNumber.e164 == "+14155550188") == 1


@pytest.mark.parametrize("phone", ["12", "not a phone", "+1 555"])
def test_add_number_with_a_malformed_phone_is_refused(app, runner, org, phone):
    result = add_number(runner, phone, org.slug)

    refused_in_one_line(result, "phone number")
    assert count(app, MessageNumber, MessageNumber.org_id == org.id) == 0


def test_add_number_to_an_unknown_organization_is_refused(app, runner):
    result = add_number(runner, "+14155550188", "no-such-org")

    refused_in_one_line(result, "no-such-org")
    assert count(app, MessageNumber, MessageNumber.e164 == "+14155550188") == 0


def test_add_number_with_an_unknown_class_is_refused(app, runner, org):
    result = add_number(runner, "+14155550188", org.slug, number_class="vip")

    refused_in_one_line(result, "front_desk", "pool", "sitter")
    assert count(app, MessageNumber, MessageNumber.org_id == org.id) == 0


def test_add_number_already_in_another_organization_is_refused(app, runner, org):
    with app.app_context():
        other = factories.org()
    assert add_number(runner, "+14155550188", other.slug).exit_code == 0

    result = add_number(runner, "+14155550188", org.slug)

    refused_in_one_line(result, "+14155550188", "already")
    assert count(app, MessageNumber, MessageNumber.e164 == "+14155550188",
                 MessageNumber.org_id == other.id) == 1


def test_a_second_front_desk_is_refused(app, runner, org):
    assert add_number(runner, "+14155550188", org.slug, "front_desk").exit_code == 0

    result = add_number(runner, "+14155550189", org.slug, "front_desk")

    refused_in_one_line(result, "front-desk")
    assert count(app, MessageNumber, MessageNumber.org_id == org.id) == 1


# --- doctor ------------------------------------------------------------------------------------

def test_doctor_passes_on_clean_data_and_prints_every_check(app, runner, org):
    assert add_number(runner, "+14155550188", org.slug).exit_code == 0

    result = runner.invoke(args=["doctor"])

    assert result.exit_code == 0, result.output
    checks = [line for line in lines(result) if line.startswith(("ok", "FAIL"))]
    assert checks and all(line.startswith("ok") for line in checks)
    assert {f"I{n}" for n in range(1, 10)} <= {line.split()[1] for line in checks}
    assert f"{len(checks)} of {len(checks)} checks hold." in lines(result)
    assert "  jobs waiting: 0" in lines(result)


def test_doctor_fails_and_shows_the_violation(app, runner, org):
    with app.app_context():
        db.session.execute(sa.text(
            "ALTER TABLE message_number DROP CONSTRAINT uq_message_number_e164"))
        factories.number(org.id, "+14155550188")
        factories.number(org.id, "+14155550188")

    result = runner.invoke(args=["doctor"])

    assert result.exit_code == 1
    assert "FAIL I8  the unique index uq_message_number_e164 exists and is valid" in result.output
    assert "no number is in two pools" not in result.output  # the data checks: --full

    result = runner.invoke(args=["doctor", "--full"])

    assert result.exit_code == 1
    assert "FAIL I8  no number is in two pools" in result.output
    assert "violation: ('+14155550188', 2)" in result.output


# --- demo --------------------------------------------------------------------------------------

DEMO_TABLES = (Organization, User, MessageNumber, Client, ClientContact, Thread, Message,
               Sitter, AuditEvent)


# demo runs the migrations on a connection of its own, so it commits for real (truncated after).
@pytest.mark.concurrency
def test_demo_seeds_once_and_a_second_run_changes_nothing(app, runner):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    counts = {model.__tablename__: count(app, model) for model in DEMO_TABLES}

    second = runner.invoke(args=["demo"])

    assert second.exit_code == 0, second.output
    assert {model.__tablename__: count(app, model) for model in DEMO_TABLES} == counts
    assert counts["organization"] >= 1 and counts["message_number"] >= len(demo.NUMBERS)
    assert "Seeded the demo organization." in first.output
    assert "The demo organization exists." in second.output
    for output in (first.output, second.output):
        for _, email in demo.SIGN_INS:
            assert email in output
        assert demo.PASSWORD in output
