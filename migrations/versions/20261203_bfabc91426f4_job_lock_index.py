"""job lock index: procrastinate's fetch finds a waiting job's lock-mates by an index

Every delivery job carries its message's lock (`message:<id>`). procrastinate's fetch_job skips
a waiting job whose lock has an earlier waiting or a running job, and looks those up by `lock`;
its own indexes lead with `id` (or cover running jobs only), so each lookup read the whole index
of waiting jobs: with 2,000 waiting, 12-15 pages a candidate, and a fetch on a table without
statistics (a new database, before autovacuum's first pass) probed every waiting job that way:
257 ms a fetch, 23 ms with this index (EXPLAIN ANALYZE, docs/benchmarks.md). Built
CONCURRENTLY, so a live queue keeps taking jobs while it builds.

Revision ID: bfabc91426f4
Revises: 888a865db82a
Create Date: 2026-11-29 19:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'bfabc91426f4'
down_revision = "888a865db82a"
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index('ix_procrastinate_jobs_lock_waiting', 'procrastinate_jobs', ['lock'],
                        unique=False, postgresql_where=sa.text("status IN ('todo', 'doing')"),
                        postgresql_concurrently=True)


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index('ix_procrastinate_jobs_lock_waiting', table_name='procrastinate_jobs',
                      postgresql_concurrently=True)
