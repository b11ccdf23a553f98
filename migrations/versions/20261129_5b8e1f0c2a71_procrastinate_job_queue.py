"""procrastinate_job_queue: the job queue's tables and functions, in our database

Delivery, retries and periodic jobs run as procrastinate tasks on the PostgreSQL we already
run, so a message row and its delivery job commit in one transaction (an outbox). The schema is
procrastinate 3.10.0's own `schema.sql`, kept beside the migrations (migrations/sql/) so this
revision builds the same thing whatever procrastinate version is installed later; an upgrade of
procrastinate adds a revision that applies its migration files in order.

Revision ID: 5b8e1f0c2a71
Revises: 3a9d5e7f1b24
Create Date: 2026-11-29 12:00:00.000000

"""
from pathlib import Path

from alembic import op

# revision identifiers, used by Alembic.
revision = '5b8e1f0c2a71'
down_revision = '3a9d5e7f1b24'
branch_labels = None
depends_on = None

SCHEMA = Path(__file__).resolve().parent.parent / "sql" / "procrastinate-3.10.0-schema.sql"

DROP = """
DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
    procrastinate_workers CASCADE;
DO $$
DECLARE routine regprocedure;
BEGIN
    FOR routine IN
        SELECT p.oid::regprocedure FROM pg_proc p
        WHERE p.pronamespace = current_schema()::regnamespace
          AND p.proname LIKE 'procrastinate\\_%'
    LOOP
        EXECUTE 'DROP ROUTINE ' || routine || ' CASCADE';
    END LOOP;
END $$;
DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type,
    procrastinate_job_status CASCADE;
"""


def _run_script(sql: str) -> None:
    # Straight to psycopg without parameters: the script has several statements, `%` and `:`.
    op.get_bind().connection.driver_connection.execute(sql)


def upgrade():
    _run_script(SCHEMA.read_text())


def downgrade():
    _run_script(DROP)
