"""conversations: an index of each organization's closes, and messages by thread and time

A conversation is derived (pawline/conversations.py), named by the 'closed' event that ended it.
- The Closed tab's Conversations walk an organization's closes newest first by keyset. The only
  index of thread_event was (thread_id, created_at): each page read every close of the
  organization and sorted them. ix_thread_event_closed (org_id, created_at, id) WHERE kind =
  'closed' is read backwards and the page's nested loops stop at its LIMIT; partial, since
  closes are a share of the events (assignments, snoozes, opt-outs...).
- Each conversation's first message, first inbound message and first reply are the first
  message of a thread after a time. By ix_message_thread_id_id (thread_id, id) each of those
  reads sorted the thread's every message; ix_message_thread_id_created_at (thread_id,
  created_at, id) reads a range and stops at its first row.
Measured by bench/closed_conversations.py on inbox_scale's large organization (100,000 threads,
1,009,990 messages, 395,100 events, 85,050 closes; EXPLAIN ANALYZE, warm): a page of the list
1.4 ms (page 2 or 22) against 117 ms without ix_thread_event_closed; the conversations of the
10,000-message thread closed and reopened 50 times 36 ms against 855 ms without
ix_message_thread_id_created_at (and 1.3 s before the statement bounded its ranges).
Both are built CONCURRENTLY, so a live database keeps taking messages while they build. No data
moves.

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
