"""automatic booking messages: a confirmation and a reminder per booking, each sent once

booking_message_setting: per organization and kind, on or off, the template (saved-reply
variables only: ck_booking_message_setting_variables_known) and a reminder's lead in minutes.

booking_message: one row per booking and kind (uq_booking_message_org_id_booking_id_kind), so
however many workers sweep or retries happen each kind goes out at most once; a worker claims a
due row 'pending' to 'sent' in the transaction that stores its message.

message.auto_reply also allows 'booking_confirmation' and 'booking_reminder'.

Revision ID: d5b1c7e94a3f
Revises: d41be7a0c93f
Create Date: 2026-12-05 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

revision = 'd5b1c7e94a3f'
down_revision = "d41be7a0c93f"
branch_labels = None
depends_on = None

VARIABLES = "client_first_name|client_name|sitter_name|booking_start|booking_end|business_name"
UNKNOWN_VARIABLE = rf"\{{(?!({VARIABLES})\}})[A-Za-z_][A-Za-z0-9_]*\}}"
KINDS = "kind IN ('confirmation', 'reminder')"


def _auto_reply(kinds: str) -> None:
    op.drop_constraint(op.f('ck_message_auto_reply_known'), 'message', type_='check')
    op.execute(f"ALTER TABLE message ADD CONSTRAINT ck_message_auto_reply_known CHECK "
               f"(auto_reply IS NULL OR (auto_reply IN ({kinds}) AND direction = 'outbound')) "
               f"NOT VALID")
    op.execute("ALTER TABLE message VALIDATE CONSTRAINT ck_message_auto_reply_known")


def upgrade():
    op.create_table('booking_message_setting',
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('lead_minutes', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.Column('org_id', sa.BigInteger(), nullable=False),
    sa.CheckConstraint(KINDS, name=op.f('ck_booking_message_setting_kind_known')),
    sa.CheckConstraint('length(btrim(body)) > 0 AND length(body) <= 1600',
                       name=op.f('ck_booking_message_setting_body_length')),
    sa.CheckConstraint(f"body !~ '{UNKNOWN_VARIABLE}'",
                       name=op.f('ck_booking_message_setting_variables_known')),
    sa.CheckConstraint("(kind = 'reminder') = (lead_minutes IS NOT NULL) AND "
                       "(lead_minutes IS NULL OR lead_minutes BETWEEN 15 AND 20160)",
                       name=op.f('ck_booking_message_setting_lead_for_reminders')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'],
                            name=op.f('fk_booking_message_setting_org_id_organization')),
    sa.PrimaryKeyConstraint('org_id', 'kind', name=op.f('pk_booking_message_setting'))
    )
    op.create_table('booking_message',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('booking_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), server_default='pending', nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('org_id', sa.BigInteger(), nullable=False),
    sa.CheckConstraint(KINDS, name=op.f('ck_booking_message_kind_known')),
    sa.CheckConstraint("status IN ('pending', 'sent', 'canceled', 'failed')",
                       name=op.f('ck_booking_message_status_known')),
    sa.CheckConstraint("status IN ('pending', 'sent') OR reason IS NOT NULL",
                       name=op.f('ck_booking_message_stopped_has_reason')),
    sa.CheckConstraint("(status = 'sent') = (sent_at IS NOT NULL)",
                       name=op.f('ck_booking_message_sent_has_time')),
    sa.ForeignKeyConstraint(['booking_id', 'org_id'], ['booking.id', 'booking.org_id'],
                            name=op.f('fk_booking_message_booking_id_org_id_booking')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'],
                            name=op.f('fk_booking_message_org_id_organization')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_message')),
    sa.UniqueConstraint('org_id', 'booking_id', 'kind',
                        name=op.f('uq_booking_message_org_id_booking_id_kind'))
    )
    op.create_index('ix_booking_message_due', 'booking_message', ['due_at'], unique=False,
                    postgresql_where=sa.text("status = 'pending'"))
    _auto_reply("'help', 'after_hours', 'booking_confirmation', 'booking_reminder'")


def downgrade():
    _auto_reply("'help', 'after_hours'")
    op.drop_index('ix_booking_message_due', table_name='booking_message',
                  postgresql_where=sa.text("status = 'pending'"))
    op.drop_table('booking_message')
    op.drop_table('booking_message_setting')
