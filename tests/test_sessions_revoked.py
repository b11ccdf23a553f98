"""A change to a user ends every session of theirs (OWASP ASVS 7.4.3): a new password, another
role, deactivation (a sitter's too), from the domain, the commands or a console."""

import pytest
import sqlalchemy as sa

from pawline import accounts, sitters
from pawline.db import db
from pawline.models import AuditEvent, User
from tests import factories
from tests.conftest import Auth
from tests.test_sessions import opens_inbox, signed_in


@pytest.fixture
def org(app):
    with app.app_context():
        return factories.org()


@pytest.mark.parametrize("change", [
    lambda email: accounts.change_password(email, "a brand new password"),
    lambda email: accounts.change_role(email, "owner"),
    lambda email: accounts.set_active(email, False),
], ids=["password", "role", "deactivated"])
def test_a_change_to_a_user_ends_every_session_of_theirs(app, org, change):
    laptop, phone = signed_in(app, org.staff_email), signed_in(app, org.staff_email)
    colleague = signed_in(app, org.owner_email)

    with app.app_context():
        change(org.staff_email)

    assert not opens_inbox(laptop) and not opens_inbox(phone)
    assert opens_inbox(colleague)


@pytest.mark.parametrize("sql", [
    "UPDATE app_user SET password_hash = 'changed' WHERE email = :email",
    "UPDATE app_user SET role = 'owner' WHERE email = :email",
    "UPDATE app_user SET active = false WHERE email = :email",
], ids=["password", "role", "deactivated"])
def test_the_database_ends_the_sessions_whatever_code_or_console_changes_the_user(app, org, sql):
    browser = signed_in(app, org.staff_email)

    with app.app_context():
        db.session.execute(sa.text(sql), {"email": org.staff_email})
        db.session.execute(sa.text("UPDATE app_user SET active = true"))  # back on: still ended
        db.session.commit()

    assert not opens_inbox(browser)


def test_a_change_of_name_ends_no_session(app, org):
    browser = signed_in(app, org.staff_email)

    with app.app_context():
        db.session.execute(sa.update(User).where(User.email == org.staff_email)
                           .values(name="Renamed"))
        db.session.commit()

    assert opens_inbox(browser)


def test_the_new_password_signs_in_and_the_change_is_audited(app, client, org):
    with app.app_context():
        accounts.change_password(org.staff_email, "a brand new password")
        assert db.session.scalar(sa.select(AuditEvent.action).where(
            AuditEvent.action == "user.password_changed")) == "user.password_changed"

    Auth(client).sign_in(org.staff_email, "a brand new password")
    assert opens_inbox(client)


def test_deactivating_a_sitter_signs_out_its_sign_in_until_it_is_active_again(app, org):
    with app.app_context():
        sitter_id = sitters.create_sitter(org.id, "Sam", factories.phone(),
                                          email=org.sitter_email).id
        sitters.activate_sitter(org.id, sitter_id, None)
    browser = signed_in(app, org.sitter_email)
    assert browser.get("/me").status_code == 200

    with app.app_context():
        sitters.deactivate_sitter(org.id, sitter_id, None)

    assert browser.get("/me").status_code == 302
    refused = app.test_client().post("/sign-in", data={"email": org.sitter_email,
                                                       "password": factories.PASSWORD})
    assert refused.status_code == 400
    with app.app_context():
        sitters.activate_sitter(org.id, sitter_id, None)
    assert signed_in(app, org.sitter_email).get("/me").status_code == 200


# --- the commands -----------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["set-password", "--password", "a brand new password"],
    ["set-role", "--role", "owner"],
    ["deactivate-user"],
], ids=["set-password", "set-role", "deactivate-user"])
def test_each_command_ends_the_users_sessions(app, runner, org, args):
    browser = signed_in(app, org.staff_email)

    result = runner.invoke(args=[*args, "--email", org.staff_email.upper()])

    assert result.exit_code == 0, result.output
    assert "every session of theirs has ended" in result.output
    assert not opens_inbox(browser)


def test_a_deactivated_user_signs_in_again_after_undo(app, runner, org):
    assert runner.invoke(args=["deactivate-user", "--email", org.staff_email]).exit_code == 0
    result = runner.invoke(args=["deactivate-user", "--email", org.staff_email, "--undo"])

    assert result.output.strip() == f"{org.staff_email} can sign in again."
    assert opens_inbox(signed_in(app, org.staff_email))


@pytest.mark.parametrize(("args", "reason"), [
    (["set-role", "--email", "nobody@example.com", "--role", "staff"], "No user has the email"),
    (["set-role", "--email", "owner1@example.com", "--role", "admin"], "Role must be one of"),
    (["set-password", "--email", "nobody@example.com", "--password", "long enough"],
     "No user has the email"),
])
def test_a_refused_command_says_why_in_one_line(runner, args, reason):
    result = runner.invoke(args=args)

    assert result.exit_code == 1
    assert reason in result.output and len(result.output.strip().splitlines()) == 1
