"""Client pages and their domain: search, create, phones (I1, I2), tenancy, query count."""

import pytest
import sqlalchemy as sa

from pawline import clients
from pawline.db import db
from pawline.errors import DomainError, InvalidPhone
from pawline.models import Client, ClientContact
from pawline.threads import find_or_create_thread
from tests import factories

ADA_PHONE = "+14155550123"


# --- search ---------------------------------------------------------------------------------

def test_search_matches_a_name_prefix_whatever_the_case(ctx):
    org = factories.org()
    ada = factories.client(org.id, "Ada Lovelace")
    factories.client(org.id, "Grace Hopper")
    factories.client(org.id, "Adam Smith")
    assert {r.name for r in clients.search_clients(org.id, "ada").rows} == {
        "Ada Lovelace", "Adam Smith"}
    assert [r.id for r in clients.search_clients(org.id, "LOVEL").rows] == [ada]
    assert clients.search_clients(org.id, "velace").rows == []  # a prefix, not a substring


@pytest.mark.parametrize("typed", ["(415) 555-0123", "415.555.0123", "+14155550123",
                                   "415 555 0123", "1-415-555-0123"])
def test_search_finds_a_client_by_phone_in_any_format(ctx, typed):
    org = factories.org()
    ada = factories.client(org.id, "Ada Lovelace", ADA_PHONE)
    factories.client(org.id, "Grace Hopper", factories.phone())
    rows = clients.search_clients(org.id, typed).rows
    assert [(r.id, r.phones) for r in rows] == [(ada, [ADA_PHONE])]


def test_search_by_part_of_a_phone_matches_its_digits(ctx):
    org = factories.org()
    ada = factories.client(org.id, "Ada Lovelace", ADA_PHONE)
    factories.client(org.id, "Grace Hopper", "+14155559999")
    assert [r.id for r in clients.search_clients(org.id, "0123").rows] == [ada]
    assert len(clients.search_clients(org.id, "555").rows) == 2


def test_search_rows_carry_every_phone_and_the_thread(ctx):
    org = factories.org()
    ada = factories.client(org.id, "Ada Lovelace", ADA_PHONE)
    clients.add_contact(org.id, ada, "415-555-0124", "home")
    thread_id = find_or_create_thread(org.id, ada)
    db.session.commit()
    (row,) = clients.search_clients(org.id, "").rows
    assert row.phones == [ADA_PHONE, "+14155550124"]
    assert row.thread_id == thread_id


def test_search_never_shows_another_organizations_clients(ctx):
    mine, theirs = factories.org(), factories.org()
    factories.client(theirs.id, "Ada Lovelace", ADA_PHONE)
    assert clients.search_clients(mine.id, "ada").rows == []
    assert clients.search_clients(mine.id, ADA_PHONE).rows == []


def test_pages_without_offset_return_every_client_exactly_once(ctx):
    org = factories.org()
    names = ["bob", "Bob", "BOB", "alice", "Zed", "carol", "bob", "Álvaro", "dave", "eve", "b"]
    ids = {factories.client(org.id, name) for name in names}
    seen, after, pages = [], None, 0
    while True:
        page = clients.search_clients(org.id, "", after, limit=3)
        seen += [row.id for row in page.rows]
        pages += 1
        if page.after is None:
            break
        after = page.after
    assert sorted(seen) == sorted(ids) and len(seen) == len(ids)
    assert pages == 4


# --- create and phones ------------------------------------------------------------------------

def test_create_client_normalizes_the_phone(ctx):
    org = factories.org()
    client_id = clients.create_client(org.id, "  Ada   Lovelace ", "(415) 555-0123")
    assert db.session.get(Client, client_id).name == "Ada Lovelace"
    assert [c.e164 for c in clients.client_contacts(org.id, client_id)] == [ADA_PHONE]


def test_a_phone_of_another_client_is_refused_naming_that_client(ctx):
    org = factories.org()
    factories.client(org.id, "Ada Lovelace", ADA_PHONE)
    with pytest.raises(clients.DuplicatePhone) as refused:
        clients.create_client(org.id, "Grace Hopper", "415.555.0123")
    assert refused.value.message == "(415) 555-0123 already belongs to Ada Lovelace."
    assert refused.value.field == "phone"
    names = db.session.scalars(sa.select(Client.name).where(Client.org_id == org.id)).all()
    assert names == ["Ada Lovelace"]  # no half-made Grace left behind


def test_adding_a_phone_another_client_has_names_that_client(ctx):
    org = factories.org()
    factories.client(org.id, "Ada Lovelace", ADA_PHONE)
    grace = factories.client(org.id, "Grace Hopper")
    with pytest.raises(clients.DuplicatePhone, match="already belongs to Ada Lovelace"):
        clients.add_contact(org.id, grace, ADA_PHONE, "mobile")


def test_adding_the_same_phone_to_the_same_client_says_already_listed(ctx):
    org = factories.org()
    ada = factories.client(org.id, "Ada Lovelace", ADA_PHONE)
    with pytest.raises(clients.DuplicatePhone, match="already listed for this client"):
        clients.add_contact(org.id, ada, "(415) 555-0123", "work")


def test_the_same_phone_in_another_organization_is_fine(ctx):
    a, b = factories.org(), factories.org()
    factories.client(a.id, "Ada Lovelace", ADA_PHONE)
    assert clients.create_client(b.id, "Ada Lovelace", ADA_PHONE)


def test_contacts_are_added_labelled_and_removed_down_to_none(ctx):
    org = factories.org()
    ada = factories.client(org.id, "Ada Lovelace", ADA_PHONE)
    home = clients.add_contact(org.id, ada, "415 555 0124", "home")
    clients.set_contact_label(org.id, ada, home, "work")
    assert {(c.e164, c.label) for c in clients.client_contacts(org.id, ada)} == {
        (ADA_PHONE, "mobile"), ("+14155550124", "work")}
    for contact in clients.client_contacts(org.id, ada):
        clients.remove_contact(org.id, ada, contact.id)
    assert clients.client_contacts(org.id, ada) == []


@pytest.mark.parametrize("bad", [
    lambda org, c: clients.create_client(org, "   "),
    lambda org, c: clients.add_contact(org, c, "12", "mobile"),
    lambda org, c: clients.add_contact(org, c, ADA_PHONE, "fax"),
    lambda org, c: clients.rename_client(org, c, ""),
])
def test_bad_input_is_a_domain_error_not_a_crash(ctx, bad):
    org = factories.org()
    ada = factories.client(org.id, "Ada Lovelace")
    with pytest.raises(DomainError):
        bad(org.id, ada)


def test_rename_names_a_guest(ctx):
    org = factories.org()
    guest = db.session.get(Client, factories.client(org.id, "Guest (+14155550123)"))
    guest.is_guest = True
    db.session.commit()
    clients.rename_client(org.id, guest.id, "Ada Lovelace")
    refreshed = db.session.get(Client, guest.id)
    assert (refreshed.name, refreshed.is_guest) == ("Ada Lovelace", False)


def test_invalid_phone_names_the_phone_field(ctx):
    org = factories.org()
    with pytest.raises(InvalidPhone) as refused:
        clients.create_client(org.id, "Ada", "not a phone")
    assert refused.value.field == "phone"


# --- routes ---------------------------------------------------------------------------------

@pytest.fixture
def staff(app, client, auth):
    """A signed-in staff member of an organization with one client (Ada, with a phone)."""
    with app.app_context():
        org = factories.org()
        ada = factories.client(org.id, "Ada Lovelace", ADA_PHONE)
        contact = db.session.scalar(sa.select(ClientContact.id).where(
            ClientContact.client_id == ada))
    auth.sign_in(org.staff_email)
    return type("Staff", (), {"org": org, "ada": ada, "contact": contact})


def test_clients_page_lists_and_searches(client, staff):
    page = client.get("/clients")
    assert page.status_code == 200 and "Ada Lovelace" in page.text
    found = client.get("/clients?q=(415) 555-0123", headers={"HX-Request": "true"})
    assert found.status_code == 200
    assert "Ada Lovelace" in found.text and "<html" not in found.text
    assert "No client matches" in client.get("/clients?q=zzz").text


def test_load_more_answers_only_the_next_rows(app, client, staff):
    with app.app_context():
        for n in range(55):
            factories.client(staff.org.id, f"Client {n:02d}")
    first = client.get("/clients")
    assert first.text.count('href="/clients/') == 50 and "Load more" in first.text
    more = client.get("/clients?after_name=client+48&after_id=0",
                      headers={"HX-Request": "true"})
    assert more.status_code == 200 and "<table" not in more.text
    assert "Client 49" in more.text and "Ada Lovelace" not in more.text


def test_creating_a_client_redirects_to_its_page(client, staff):
    response = client.post("/clients", data={"name": "Grace Hopper", "phone": "415 555 0199"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert "Grace Hopper" in page.text and "(415) 555-0199" in page.text


def test_creating_a_client_with_a_taken_phone_is_a_400_naming_the_owner(client, staff):
    response = client.post("/clients", data={"name": "Grace Hopper", "phone": "+14155550123"})
    assert response.status_code == 400
    assert "(415) 555-0123 already belongs to Ada Lovelace." in response.text


def test_creating_a_client_without_a_name_is_a_400(client, staff):
    assert client.post("/clients", data={"name": " ", "phone": ""}).status_code == 400


def test_client_page_shows_phones_and_the_thread_link(app, client, staff):
    with app.app_context():
        thread_id = find_or_create_thread(staff.org.id, staff.ada)
        db.session.commit()
    page = client.get(f"/clients/{staff.ada}")
    assert page.status_code == 200
    assert "(415) 555-0123" in page.text and f'href="/threads/{thread_id}"' in page.text


def test_rename_redirects_and_a_blank_name_is_a_400(client, staff):
    assert client.post(f"/clients/{staff.ada}", data={"name": "Ada King"}).status_code == 302
    assert "Ada King" in client.get(f"/clients/{staff.ada}").text
    assert client.post(f"/clients/{staff.ada}", data={"name": ""}).status_code == 400


def test_adding_a_phone_by_htmx_answers_the_phones_block(client, staff):
    response = client.post(f"/clients/{staff.ada}/contacts",
                           data={"phone": "415-555-0124", "label": "home"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'id="contacts"' in response.text and "<html" not in response.text
    assert "(415) 555-0124" in response.text


def test_adding_another_clients_phone_is_a_400_naming_them_never_a_500(app, client, staff):
    with app.app_context():
        grace = factories.client(staff.org.id, "Grace Hopper")
    for headers in ({}, {"HX-Request": "true"}):
        response = client.post(f"/clients/{grace}/contacts",
                               data={"phone": "(415) 555-0123", "label": "mobile"},
                               headers=headers)
        assert response.status_code == 400
        assert "already belongs to Ada Lovelace" in response.text


def test_adding_the_same_phone_again_is_a_400_already_listed(client, staff):
    response = client.post(f"/clients/{staff.ada}/contacts",
                           data={"phone": ADA_PHONE, "label": "mobile"})
    assert response.status_code == 400 and "already listed" in response.text


def test_label_and_remove_routes_change_the_phone(app, client, staff):
    url = f"/clients/{staff.ada}/contacts/{staff.contact}"
    assert client.post(f"{url}/label", data={"label": "work"}).status_code == 302
    assert client.post(f"{url}/label", data={"label": "fax"}).status_code == 400
    removed = client.post(f"{url}/delete", headers={"HX-Request": "true"})
    assert removed.status_code == 200 and "No phone listed" in removed.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ClientContact)
                                 .where(ClientContact.client_id == staff.ada)) == 0


def test_every_route_answers_404_for_another_organizations_client(app, client, auth):
    with app.app_context():
        mine, theirs = factories.org(), factories.org()
        own = factories.client(mine.id, "Mine", factories.phone())
        own_contact = db.session.scalar(sa.select(ClientContact.id).where(
            ClientContact.client_id == own))
        other = factories.client(theirs.id, "Theirs", factories.phone())
        contact = db.session.scalar(sa.select(ClientContact.id).where(
            ClientContact.client_id == other))
    auth.sign_in(mine.staff_email)
    requests = [
        ("get", f"/clients/{other}", {}),
        ("get", f"/clients/{other}?merge_q=a", {}),
        ("post", f"/clients/{other}", {"name": "x"}),
        ("post", f"/clients/{other}/contacts", {"phone": factories.phone(), "label": "home"}),
        ("post", f"/clients/{other}/contacts/{contact}/delete", {}),
        ("post", f"/clients/{other}/contacts/{contact}/label", {"label": "home"}),
        ("post", f"/clients/{other}/merge", {"into_client_id": own}),
        ("post", f"/clients/{own}/merge", {"into_client_id": other}),
        ("post", f"/clients/{own}/contacts/{contact}/delete", {}),
        ("post", f"/clients/{own}/contacts/{contact}/label", {"label": "home"}),
        ("post", f"/clients/{other}/contacts/{own_contact}/label", {"label": "home"}),
    ]
    for method, url, data in requests:
        response = getattr(client, method)(url, data=data)
        assert response.status_code == 404, (method, url)
    with app.app_context():
        assert db.session.get(Client, other).name == "Theirs"
        assert db.session.get(ClientContact, contact) is not None


@pytest.mark.parametrize("path", ["/clients", "/clients/1"])
def test_sitters_get_404_on_client_pages(client, auth, app, path):
    with app.app_context():
        org = factories.org()
    auth.sign_in(org.sitter_email)
    assert client.get(path).status_code == 404
    assert client.post("/clients", data={"name": "x"}).status_code == 404


# --- query count ------------------------------------------------------------------------------

def test_the_clients_page_issues_the_same_statements_for_3_or_40_clients(
        app, client, staff, statements):
    def page_cost() -> int:
        statements.clear()
        assert client.get("/clients").status_code == 200
        return len(statements)

    with app.app_context():
        for _ in range(2):
            guest = factories.client(staff.org.id, f"Client {factories.phone()}", factories.phone())
            find_or_create_thread(staff.org.id, guest)
            db.session.commit()
    few = page_cost()
    with app.app_context():
        for _ in range(37):
            guest = factories.client(staff.org.id, f"Client {factories.phone()}", factories.phone())
            clients.add_contact(staff.org.id, guest, factories.phone(), "home")
            find_or_create_thread(staff.org.id, guest)
            db.session.commit()
    assert page_cost() == few
    assert few <= 6
    assert not any("OFFSET" in statement.upper() for statement in statements)
