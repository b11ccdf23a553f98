"""Emails are global, but adding a sign-in never says that another organization uses an email:
an address taken anywhere gets one answer, the answer a colleague's address gets."""

import html

import pytest
import sqlalchemy as sa

from pawline import accounts, sitters
from pawline.db import db
from pawline.errors import DuplicateRecord
from pawline.models import Sitter, User
from tests import factories


@pytest.fixture
def orgs(app):
    with app.app_context():
        return factories.org(), factories.org()


def add_sitter(client, email: str):
    return client.post("/sitters", data={"name": "Kim", "phone": "415 555 0134", "email": email,
                                         "password": factories.PASSWORD})


def error_on_the_form(response) -> str:
    assert response.status_code == 422
    return html.unescape(response.get_data(as_text=True))


def test_the_sitter_form_answers_alike_for_a_colleague_and_another_organization(
        app, client, auth, orgs):
    ours, theirs = orgs
    auth.sign_in(ours.staff_email)

    elsewhere = error_on_the_form(add_sitter(client, theirs.staff_email))
    colleague = error_on_the_form(add_sitter(client, ours.owner_email))

    said = f"{theirs.staff_email} cannot be used for a new sign-in; choose another email."
    assert said in elsewhere
    assert said.replace(theirs.staff_email, ours.owner_email) in colleague
    for page in (elsewhere, colleague):
        assert "exists" not in page and "not a sitter" not in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Sitter)
                                 .where(Sitter.org_id == ours.id)) == 0


def test_the_sitter_form_still_links_a_sitter_sign_in_of_the_organization(app, client, auth,
                                                                          orgs):
    ours, _ = orgs
    auth.sign_in(ours.staff_email)

    assert add_sitter(client, ours.sitter_email).status_code == 302
    assert add_sitter(client, "new.sitter@example.com").status_code == 302
    with app.app_context():
        assert db.session.scalars(sa.select(Sitter.user_id).where(
            Sitter.org_id == ours.id).order_by(Sitter.id)).all()[0] == ours.sitter_user_id


@pytest.mark.parametrize("whose", ["ours", "theirs"])
def test_creating_a_user_answers_alike_wherever_the_email_is_used(ctx, whose):
    ours, theirs = factories.org(), factories.org()
    email = (ours if whose == "ours" else theirs).staff_email

    with pytest.raises(DuplicateRecord) as refused:
        accounts.add_user(ours.slug, email.upper(), factories.PASSWORD, "staff")

    assert refused.value.message == (
        f"{email} cannot be used for a new sign-in; choose another email.")
    assert refused.value.field == "email"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)
                             .where(User.email == email)) == 1


def test_a_sitter_with_another_organizations_email_is_refused_alike_in_the_domain(ctx):
    ours, theirs = factories.org(), factories.org()

    with pytest.raises(DuplicateRecord) as refused:
        sitters.create_sitter(ours.id, "Kim", factories.phone(), email=theirs.sitter_email,
                              password=factories.PASSWORD)

    assert refused.value.message == accounts.EMAIL_UNUSABLE.format(email=theirs.sitter_email)
