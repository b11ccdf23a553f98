"""Many texts after hours at once on one thread, real threads and connections: one reply."""

import pytest
import sqlalchemy as sa

from pawline import after_hours
from pawline.db import db
from pawline.inbound import receive_sms
from pawline.models import Message
from tests import factories
from tests.concurrency import pool_capped_app, race_ok
from tests.test_after_hours import ADA, EVENING, POOL, REPLY, WEEKDAYS_9_TO_5

pytestmark = pytest.mark.concurrency
RACERS = 12


@pytest.fixture(scope="module")
def racing_app(database_url):
    with pool_capped_app(database_url, RACERS) as app:
        yield app


def test_simultaneous_texts_after_hours_on_one_thread_get_exactly_one_reply(racing_app, app):
    with app.app_context():
        org = factories.org()
        factories.number(org.id, POOL)
        after_hours.save(org.id, WEEKDAYS_9_TO_5, REPLY, None)
        receive_sms(POOL, ADA, "first", "SMfirst", now=EVENING)  # the thread exists, replied
        db.session.execute(sa.text("UPDATE thread SET after_hours_replied_at = NULL"))
        db.session.commit()

    results = race_ok(racing_app, [
        lambda i=i: receive_sms(POOL, ADA, f"text {i}", f"SMrace{i}", now=EVENING)
        for i in range(RACERS)])

    assert len({result.thread_id for result in results}) == 1
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
            Message.auto_reply == "after_hours"))
        assert count == 2  # the first text's, and exactly one of the racers'
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
            Message.direction == "inbound")) == RACERS + 1
