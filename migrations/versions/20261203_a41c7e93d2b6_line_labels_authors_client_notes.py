"""line_labels_authors_client_notes: names for lines, who wrote the last message, client notes

message_number.label: the owner's name for a line ("Front desk", "Pool 2"); when empty the app
derives one from the class and the sitter (pawline.lines). thread.last_message_user_id: who wrote
the message the inbox previews, so it can say "Sam:" rather than "You:" (composite key: never
another organization's user). client.notes: what the front desk keeps about a client. app_user.name: at most 100 characters.

Revision ID: a41c7e93d2b6
Revises: b262c8ecbb3b
Create Date: 2026-12-03 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'a41c7e93d2b6'
down_revision = "b262c8ecbb3b"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('message_number', sa.Column('label', sa.Text(), nullable=True))
    op.create_check_constraint(
        op.f('ck_message_number_label_present'), 'message_number',
        'label IS NULL OR (length(btrim(label)) BETWEEN 1 AND 40 AND label = btrim(label))')
    op.add_column('thread', sa.Column('last_message_user_id', sa.BigInteger(), nullable=True))
    op.create_foreign_key(op.f('fk_thread_last_message_user_id_org_id_app_user'), 'thread',
                          'app_user', ['last_message_user_id', 'org_id'], ['id', 'org_id'])
    # the inbox's preview names the author of the last outbound message, if one was stored
    op.execute("""
        UPDATE thread SET last_message_user_id = m.sent_by_user_id
        FROM (SELECT DISTINCT ON (thread_id) thread_id, direction, sent_by_user_id
              FROM message ORDER BY thread_id, id DESC) m
        WHERE m.thread_id = thread.id AND m.direction = 'outbound'
          AND thread.last_message_direction = 'outbound'
    """)
    op.add_column('client', sa.Column('notes', sa.Text(), server_default='', nullable=False))
    op.create_check_constraint(op.f('ck_client_notes_length'), 'client', 'length(notes) <= 2000')
    # display names are edited on the profile page now: a bound, longer than any email's local part
    op.execute("UPDATE app_user SET name = left(name, 100) WHERE length(name) > 100")
    op.create_check_constraint(op.f('ck_app_user_name_length'), 'app_user', 'length(name) <= 100')


def downgrade():
    op.drop_constraint(op.f('ck_app_user_name_length'), 'app_user', type_='check')
    op.drop_constraint(op.f('ck_client_notes_length'), 'client', type_='check')
    op.drop_column('client', 'notes')
    op.drop_constraint(op.f('fk_thread_last_message_user_id_org_id_app_user'), 'thread',
                       type_='foreignkey')
    op.drop_column('thread', 'last_message_user_id')
    op.drop_constraint(op.f('ck_message_number_label_present'), 'message_number', type_='check')
    op.drop_column('message_number', 'label')
