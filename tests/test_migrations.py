"""The migrations build exactly the schema the models describe, and unwind cleanly."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from pawline.db import db, ours
from tests.conftest import make_app


@pytest.fixture
def fresh_app(make_database):
    """An app on a new, empty database (not the suite's migrated one)."""
    app = make_app(make_database())
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def tables() -> set[str]:
    """Our tables (the job queue's procrastinate_* tables come from its own schema file)."""
    names = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
    return {name for name in names if not name.startswith("procrastinate_")}


TRIGGERS = ("audit_event_append_only", "app_user_ends_sessions")


def trigger_installed() -> bool:
    """Our triggers, all of them (or, when False, at least one is missing)."""
    with db.engine.connect() as conn:
        return conn.scalar(sa.text("SELECT count(*) FROM pg_trigger WHERE tgname IN :names")
                           .bindparams(sa.bindparam("names", expanding=True)),
                           {"names": list(TRIGGERS)}) == len(TRIGGERS)


def differences() -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "compare_server_default": True, "include_name": ours})
        return compare_metadata(context, db.metadata)


def test_upgrade_on_an_empty_database_builds_every_table(fresh_app):
    with fresh_app.app_context():
        assert tables() == set()

        upgrade()

        assert tables() == set(db.metadata.tables)
        assert trigger_installed()


def test_models_and_migrations_agree(fresh_app):
    with fresh_app.app_context():
        upgrade()

        assert differences() == []


def test_the_comparison_sees_a_schema_drift(fresh_app):
    with fresh_app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP INDEX ix_thread_inbox"))
            conn.execute(sa.text("ALTER TABLE thread ALTER COLUMN unread_count DROP DEFAULT"))

        found = {(d[0] if isinstance(d, tuple) else d[0][0]) for d in differences()}

        assert {"add_index", "modify_default"} <= found


def test_downgrade_to_base_leaves_nothing_and_upgrade_works_again(fresh_app):
    with fresh_app.app_context():
        upgrade()

        downgrade(revision="base")
        assert tables() == set()
        with db.engine.connect() as conn:
            assert conn.scalar(sa.text(
                "SELECT count(*) FROM pg_trigger WHERE tgname IN :names").bindparams(
                sa.bindparam("names", expanding=True)), {"names": list(TRIGGERS)}) == 0
            assert conn.scalar(sa.text(
                "SELECT count(*) FROM pg_proc WHERE proname IN "
                "('audit_event_refuse_change', 'app_user_revoke_sessions')")) == 0

        upgrade()
        assert tables() == set(db.metadata.tables)
        assert trigger_installed()
        assert differences() == []


def test_the_channels_migration_gives_every_existing_message_the_sms_channel(fresh_app):
    with fresh_app.app_context():
        upgrade(revision="f3a8c2d17e90")
        with db.engine.begin() as conn:
            conn.execute(sa.text("""
                WITH o AS (INSERT INTO organization (name, slug, webhook_secret)
                           VALUES ('Paws', 'paws', 's') RETURNING id),
                     c AS (INSERT INTO client (org_id, name) SELECT id, 'Ada' FROM o
                           RETURNING id, org_id),
                     t AS (INSERT INTO thread (org_id, client_id) SELECT org_id, id FROM c
                           RETURNING id, org_id)
                INSERT INTO message (org_id, thread_id, direction, body, from_e164, to_e164,
                                     status, provider, provider_sid)
                SELECT org_id, id, 'inbound', 'hi ' || n, '+14155552671', '+14155550100',
                       'received', 'twilio', 'SM' || n FROM t, generate_series(1, 3) n"""))

        upgrade()

        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT channel, count(*) FROM message GROUP BY 1")
                                ).all() == [("sms", 3)]
            # the new column is protected like the others (I10): it never changes
            with pytest.raises(sa.exc.DBAPIError, match="only its delivery state"):
                conn.execute(sa.text("UPDATE message SET channel = 'whatsapp'"))
        downgrade(revision="f3a8c2d17e90")
        with db.engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT count(*) FROM message")) == 3


def test_the_scheduled_photos_migration_keeps_scheduled_replies_and_ties_photos_to_them(
        fresh_app):
    with fresh_app.app_context():
        upgrade(revision="8d82351f8bd5")
        with db.engine.begin() as conn:
            ids = conn.execute(sa.text("""
                WITH o AS (INSERT INTO organization (name, slug, webhook_secret)
                           VALUES ('Paws', 'paws', 's'), ('Mews', 'mews', 's') RETURNING id),
                     c AS (INSERT INTO client (org_id, name) SELECT id, 'Ada' FROM o
                           RETURNING id, org_id),
                     t AS (INSERT INTO thread (org_id, client_id) SELECT org_id, id FROM c
                           RETURNING id, org_id)
                INSERT INTO scheduled_message (org_id, thread_id, body, send_at)
                SELECT org_id, id, 'Walk at 9', now() + interval '1 day' FROM t
                RETURNING id, org_id""")).all()

        upgrade()

        (ours, org), (theirs, _) = sorted(ids)
        photo = ("INSERT INTO scheduled_photo (org_id, scheduled_id, position, content_type, "
                 "filename, data) VALUES (:o, :s, 0, 'image/png', 'a.png', 'png')")
        with db.engine.begin() as conn:
            assert conn.scalar(sa.text("SELECT count(*) FROM scheduled_message")) == 2
            conn.execute(sa.text(photo), {"o": org, "s": ours})
        refused = pytest.raises(sa.exc.IntegrityError, match="fk_scheduled_photo_scheduled_id")
        with refused, db.engine.begin() as conn:  # another organization's scheduled reply
            conn.execute(sa.text(photo), {"o": org, "s": theirs})
        downgrade(revision="8d82351f8bd5")
        with db.engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT count(*) FROM scheduled_message")) == 2
            assert "scheduled_photo" not in tables()
