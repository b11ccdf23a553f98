"""An inbound message racing a client merge lands in the surviving client's thread, not lost."""

import threading
import time

import psycopg
import pytest
import sqlalchemy as sa

from pawline.db import db
from pawline.inbound import receive_sms
from pawline.models import Message, Thread
from pawline.threads import find_or_create_client_by_phone, find_or_create_thread
from tests import factories

pytestmark = pytest.mark.concurrency


def test_a_message_to_a_guest_being_merged_is_retried_into_the_survivor(app, database_url):
    with app.app_context():
        org = factories.org()
        factories.number(org.id, "+14155550101", "pool")
        survivor = factories.client(org.id, "Ada Lovelace")
        guest, _ = find_or_create_client_by_phone(org.id, "+14155552671")
        find_or_create_thread(org.id, guest)
        db.session.commit()
    # Another connection is half-way through merging the guest away (as merge_client does).
    merging = psycopg.connect(database_url.replace("postgresql+psycopg", "postgresql"))
    merging.execute("UPDATE client_contact SET client_id = %s WHERE client_id = %s",
                    (survivor, guest))
    merging.execute("UPDATE thread SET client_id = %s WHERE client_id = %s", (survivor, guest))
    merging.execute("DELETE FROM client WHERE id = %s", (guest,))
    results = []

    def inbound():
        with app.app_context():
            results.append(receive_sms("+14155550101", "+14155552671", "Still there?", "SMrace1"))

    worker = threading.Thread(target=inbound)
    worker.start()
    time.sleep(0.5)  # the webhook is now waiting on the merge's locks
    merging.commit()
    merging.close()
    worker.join(timeout=20)
    assert results and results[0].client_id == survivor
    with app.app_context():
        thread = db.session.scalar(sa.select(Thread))
        assert thread.client_id == survivor
        assert db.session.scalar(sa.select(Message.thread_id)) == thread.id
