"""the Closed tab's Conversations: an index of each organization's closes, newest first

A conversation is derived (pawline/conversations.py), named by the 'closed' event that ended it,
so the list of closed conversations is a keyset walk of an organization's closes. The only index
of thread_event was (thread_id, created_at): the list would read every event of the
organization and sort it. ix_thread_event_closed (org_id, created_at, id) WHERE kind = 'closed'
is read backwards and its nested loops stop at the page's LIMIT; partial, because closes are a
small share of the events (assignments, snoozes, opt-outs...). Built CONCURRENTLY, so a live
database keeps taking messages while it builds. No data moves.

Revision ID: f3a8c2d17e90
Revises: d5b1c7e94a3f
Create Date: 2026-12-06 22:20:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'f3a8c2d17e90'
down_revision = 'd5b1c7e94a3f'
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index('ix_thread_event_closed', 'thread_event', ['org_id', 'created_at', 'id'],
                        unique=False, postgresql_where=sa.text("kind = 'closed'"),
                        postgresql_concurrently=True)
        op.create_index('ix_message_thread_id_created_at', 'message',
                        ['thread_id', 'created_at', 'id'], unique=False,
                        postgresql_concurrently=True)


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index('ix_message_thread_id_created_at', table_name='message',
                      postgresql_concurrently=True)
        op.drop_index('ix_thread_event_closed', table_name='thread_event',
                      postgresql_concurrently=True)
