"""indexes for the inbox at scale: client name words (GIN full-text), snoozed threads

Measured at 100,000 threads against 1,000 (docs/benchmarks.md):
- search by name matched LIKE '%...%', a scan of the organization's clients: 33 ms against
  5.5 ms. It now matches word prefixes through ix_client_name_words.
- every list view first wakes the threads whose snooze ended, which read all snoozed threads
  through ix_thread_inbox: 2.9 ms of each inbox page against 0.3 ms. ix_thread_snoozed reads
  only the ones due.
Both are built CONCURRENTLY, so a live database keeps taking messages while they build.

Revision ID: 7c1e2b9d4f10
Revises: 48adc4ef32ce
Create Date: 2026-11-23 11:20:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '7c1e2b9d4f10'
down_revision = '48adc4ef32ce'
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index('ix_client_name_words', 'client',
                        [sa.text("to_tsvector('simple'::regconfig, name)")],
                        unique=False, postgresql_using='gin', postgresql_concurrently=True)
        op.create_index('ix_thread_snoozed', 'thread', ['org_id', 'snoozed_until'],
                        unique=False, postgresql_where=sa.text("status = 'snoozed'"),
                        postgresql_concurrently=True)


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index('ix_thread_snoozed', table_name='thread', postgresql_concurrently=True)
        op.drop_index('ix_client_name_words', table_name='client',
                      postgresql_concurrently=True)
