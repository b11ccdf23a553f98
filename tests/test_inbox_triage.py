"""Triage in the inbox: every tab says how many threads it holds (one bounded statement), and
unread threads (inbound messages nobody has opened or answered yet) are marked."""

import re

import pytest
import sqlalchemy as sa

from pawline import inbox
from pawline.db import db
from pawline.inbound import receive_sms
from pawline.models import Thread
from pawline.threads import close_thread
from tests import factories

HX = {"HX-Request": "true"}
POOL = "+14155550101"


@pytest.fixture
def org(app):
    """Three open threads (one answered), one closed."""
    with app.app_context():
        org = factories.org()
        factories.number(org.id, POOL, "pool")
        for n in range(4):
            receive_sms(POOL, factories.phone(), f"hello {n}", f"SMtri{n}")
        first, *_, last = db.session.scalars(sa.select(Thread.id).order_by(Thread.id)).all()
        close_thread(org.id, last, None)
        db.session.commit()
        org.first_thread = first
        return org


def tab_labels(html: str) -> list[str]:
    nav = html.split('aria-label="Thread status">', 1)[1].split("</nav>", 1)[0]
    return [re.sub(r"<[^>]+>", "", a).split()[0:2] for a in nav.split("</a>")[:-1]]


def test_the_tabs_count_their_threads(app, org):
    with app.app_context():
        assert inbox.tab_counts(org.id) == {"open": 3, "snoozed": 0, "closed": 1, "all": 4}
        other = factories.org()
        assert inbox.tab_counts(other.id) == {"open": 0, "snoozed": 0, "closed": 0, "all": 0}


def test_a_count_past_the_cap_says_so(app, client, auth, org, monkeypatch):
    monkeypatch.setattr(inbox, "COUNT_CAP", 3)
    with app.app_context():
        assert inbox.tab_counts(org.id) == {"open": 3, "snoozed": 0, "closed": 1, "all": 3}
    monkeypatch.setattr(inbox, "COUNT_CAP", 4)
    auth.sign_in(org.staff_email)
    html = client.get("/inbox").get_data(as_text=True)
    assert tab_labels(html) == [["Open", "3"], ["Snoozed", "0"], ["Closed", "1"], ["All", "3+"]]


def test_the_tabs_show_the_counts_and_follow_a_refresh_of_the_list(app, client, auth, org):
    auth.sign_in(org.staff_email)
    html = client.get("/inbox").get_data(as_text=True)
    assert tab_labels(html) == [["Open", "3"], ["Snoozed", "0"], ["Closed", "1"], ["All", "4"]]
    assert "3</span><span class=\"visually-hidden\"> conversations</span>" in html
    with app.app_context():
        receive_sms(POOL, factories.phone(), "new one", "SMtri-new")
    fragment = client.get("/inbox", query_string={"q": "415"}, headers=HX)
    html = fragment.get_data(as_text=True)
    assert "<html" not in html and tab_labels(html)[0] == ["Open", "4"]
    assert 'href="/inbox?tab=closed&amp;q=415"' in html  # the tab keeps the search


def test_unread_rows_are_marked_until_opened_or_answered(client, auth, org):
    auth.sign_in(org.staff_email)
    assert client.get("/inbox").get_data(as_text=True).count('<li class="unread">') == 3
    client.get(f"/threads/{org.first_thread}")
    assert client.get("/inbox").get_data(as_text=True).count('<li class="unread">') == 2
