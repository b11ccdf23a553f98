from tests import factories


def test_staff_signs_in_and_sees_the_inbox_shell(app, client, auth):
    with app.app_context():
        org = factories.org()
    auth.sign_in(org.staff_email)
    page = client.get("/inbox")
    assert page.status_code == 200
    assert b"Inbox" in page.data
