"""front desk: saved replies, internal notes, thread assignment, send later

saved_reply: an organization's replies with variables, one name per organization
(uq_saved_reply_org_id_name); a body naming an unknown {variable} is refused by
ck_saved_reply_variables_known. message gains ck_message_no_unfilled_variable: an outbound
message never carries a known variable left as typed ({booking_start}).

thread_note: staff's internal notes on a thread, append-only (the trigger
thread_note_append_only refuses a DELETE and any UPDATE but a merge's move of thread_id),
searchable by word prefix through ix_thread_note_body_words, like client names.

thread.assignee_user_id: who a thread is assigned to, a user of the thread's own organization
(composite foreign key), with the indexes the inbox's Mine and Unassigned filters read (partial
ones for Unassigned).

scheduled_message: replies to send later. A worker claims one with a conditional UPDATE in the
transaction that stores its message (client_token 'scheduled-<id>', unique per organization),
so each is sent once however many workers sweep.

Revision ID: 888a865db82a
Revises: 3ae0a9b6a1fc
Create Date: 2026-12-03 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '888a865db82a'
down_revision = "3ae0a9b6a1fc"
branch_labels = None
depends_on = None

VARIABLES = "client_first_name|client_name|sitter_name|booking_start|booking_end|business_name"
UNKNOWN_VARIABLE = rf"\{{(?!({VARIABLES})\}})[A-Za-z_][A-Za-z0-9_]*\}}"
UNFILLED_VARIABLE = rf"\{{({VARIABLES})\}}"

NOTE_RULES = ["""
CREATE FUNCTION thread_note_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'thread notes are kept: DELETE of note % refused', OLD.id
            USING ERRCODE = 'restrict_violation', CONSTRAINT = 'thread_note_append_only';
    ELSIF to_jsonb(NEW) - 'thread_id' IS DISTINCT FROM to_jsonb(OLD) - 'thread_id' THEN
        RAISE EXCEPTION 'thread note %: only its thread may change (a merge)', OLD.id
            USING ERRCODE = 'restrict_violation', CONSTRAINT = 'thread_note_append_only';
    END IF;
    RETURN NEW;
END $$""", """
CREATE TRIGGER thread_note_append_only BEFORE UPDATE OR DELETE ON thread_note
FOR EACH ROW EXECUTE FUNCTION thread_note_refuse_change()"""]


def upgrade():
    op.create_table('saved_reply',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.Column('org_id', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('length(btrim(name)) > 0 AND length(name) <= 80',
                       name=op.f('ck_saved_reply_name_length')),
    sa.CheckConstraint('length(btrim(body)) > 0 AND length(body) <= 1600',
                       name=op.f('ck_saved_reply_body_length')),
    sa.CheckConstraint(f"body !~ '{UNKNOWN_VARIABLE}'",
                       name=op.f('ck_saved_reply_variables_known')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'],
                            name=op.f('fk_saved_reply_org_id_organization')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_reply')),
    sa.UniqueConstraint('org_id', 'name', name=op.f('uq_saved_reply_org_id_name'))
    )
    op.create_table('thread_note',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('thread_id', sa.BigInteger(), nullable=False),
    sa.Column('author_user_id', sa.BigInteger(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.Column('org_id', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('length(btrim(body)) > 0 AND length(body) <= 2000',
                       name=op.f('ck_thread_note_body_length')),
    sa.ForeignKeyConstraint(['author_user_id', 'org_id'], ['app_user.id', 'app_user.org_id'],
                            name=op.f('fk_thread_note_author_user_id_org_id_app_user')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'],
                            name=op.f('fk_thread_note_org_id_organization')),
    sa.ForeignKeyConstraint(['thread_id', 'org_id'], ['thread.id', 'thread.org_id'],
                            name=op.f('fk_thread_note_thread_id_org_id_thread')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_thread_note'))
    )
    op.create_index('ix_thread_note_thread_id_created_at', 'thread_note',
                    ['thread_id', 'created_at'], unique=False)
    op.create_index('ix_thread_note_body_words', 'thread_note',
                    [sa.text("to_tsvector('simple'::regconfig, body)")], unique=False,
                    postgresql_using='gin')
    for statement in NOTE_RULES:
        op.execute(statement)

    op.add_column('thread', sa.Column('assignee_user_id', sa.BigInteger(), nullable=True))
    op.create_foreign_key(op.f('fk_thread_assignee_user_id_org_id_app_user'), 'thread',
                          'app_user', ['assignee_user_id', 'org_id'], ['id', 'org_id'])
    op.create_index('ix_thread_assignee_inbox', 'thread',
                    ['org_id', 'assignee_user_id', 'status', 'last_activity_at', 'id'],
                    unique=False)
    op.create_index('ix_thread_assignee_activity', 'thread',
                    ['org_id', 'assignee_user_id', 'last_activity_at', 'id'], unique=False)
    # An IS NULL condition cannot lead an ordered index scan: Unassigned reads partial indexes.
    op.create_index('ix_thread_unassigned_inbox', 'thread',
                    ['org_id', 'status', 'last_activity_at', 'id'], unique=False,
                    postgresql_where=sa.text('assignee_user_id IS NULL'))
    op.create_index('ix_thread_unassigned_activity', 'thread',
                    ['org_id', 'last_activity_at', 'id'], unique=False,
                    postgresql_where=sa.text('assignee_user_id IS NULL'))

    op.create_table('scheduled_message',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('thread_id', sa.BigInteger(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('send_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Text(), server_default='scheduled', nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_by_user_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('org_id', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("status IN ('scheduled', 'sent', 'canceled', 'failed')",
                       name=op.f('ck_scheduled_message_status_known')),
    sa.CheckConstraint('length(btrim(body)) > 0 AND length(body) <= 1600',
                       name=op.f('ck_scheduled_message_body_length')),
    sa.CheckConstraint(f"body !~ '{UNFILLED_VARIABLE}'",
                       name=op.f('ck_scheduled_message_no_unfilled_variable')),
    sa.CheckConstraint("status <> 'failed' OR reason IS NOT NULL",
                       name=op.f('ck_scheduled_message_failed_has_reason')),
    sa.CheckConstraint("(status = 'sent') = (sent_at IS NOT NULL)",
                       name=op.f('ck_scheduled_message_sent_has_time')),
    sa.ForeignKeyConstraint(['created_by_user_id', 'org_id'], ['app_user.id', 'app_user.org_id'],
                            name=op.f('fk_scheduled_message_created_by_user_id_org_id_app_user')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'],
                            name=op.f('fk_scheduled_message_org_id_organization')),
    sa.ForeignKeyConstraint(['thread_id', 'org_id'], ['thread.id', 'thread.org_id'],
                            name=op.f('fk_scheduled_message_thread_id_org_id_thread')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduled_message'))
    )
    op.create_index('ix_scheduled_message_due', 'scheduled_message', ['send_at'], unique=False,
                    postgresql_where=sa.text("status = 'scheduled'"))
    op.create_index('ix_scheduled_message_thread_id_send_at', 'scheduled_message',
                    ['thread_id', 'send_at'], unique=False)

    # NOT VALID first, then VALIDATE: the scan of old messages takes no lock that stops writes.
    op.execute(f"ALTER TABLE message ADD CONSTRAINT ck_message_no_unfilled_variable "
               f"CHECK (direction = 'inbound' OR body !~ '{UNFILLED_VARIABLE}') NOT VALID")
    op.execute("ALTER TABLE message VALIDATE CONSTRAINT ck_message_no_unfilled_variable")


def downgrade():
    op.drop_index('ix_scheduled_message_thread_id_send_at', table_name='scheduled_message')
    op.drop_index('ix_scheduled_message_due', table_name='scheduled_message',
                  postgresql_where=sa.text("status = 'scheduled'"))
    op.drop_table('scheduled_message')
    op.drop_constraint(op.f('ck_message_no_unfilled_variable'), 'message', type_='check')
    op.drop_index('ix_thread_unassigned_activity', table_name='thread')
    op.drop_index('ix_thread_unassigned_inbox', table_name='thread')
    op.drop_index('ix_thread_assignee_activity', table_name='thread')
    op.drop_index('ix_thread_assignee_inbox', table_name='thread')
    op.drop_constraint(op.f('fk_thread_assignee_user_id_org_id_app_user'), 'thread',
                       type_='foreignkey')
    op.drop_column('thread', 'assignee_user_id')
    op.execute("DROP TRIGGER IF EXISTS thread_note_append_only ON thread_note")
    op.execute("DROP FUNCTION IF EXISTS thread_note_refuse_change()")
    op.drop_index('ix_thread_note_body_words', table_name='thread_note',
                  postgresql_using='gin')
    op.drop_index('ix_thread_note_thread_id_created_at', table_name='thread_note')
    op.drop_table('thread_note')
    op.drop_table('saved_reply')
