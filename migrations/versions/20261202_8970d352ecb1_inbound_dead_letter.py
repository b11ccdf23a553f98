"""inbound_dead_letter: signed inbound SMS that could not be stored as a message

Twilio does not resend an SMS whose webhook failed. A text from a short code or an alphanumeric
sender, to a number in no pool, or with a field we cannot read is kept here with the form as
posted and the reason, for the owners (pawline.dead_letters).

Also: a snooze now lasts a year at most. A snooze saved before that rule, until a time the
database driver cannot read back (year 9999 in a zone west of UTC is year 10000 in UTC), broke
every read of its thread; such snoozes end a year from now instead.

Revision ID: 8970d352ecb1
Revises: c4e7a1d93b52
Create Date: 2026-11-29 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '8970d352ecb1'
down_revision = 'c4e7a1d93b52'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('inbound_dead_letter',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('org_id', sa.BigInteger(), nullable=True),
    sa.Column('provider', sa.Text(), nullable=False),
    sa.Column('provider_sid', sa.Text(), nullable=True),
    sa.Column('raw', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'],
                            name=op.f('fk_inbound_dead_letter_org_id_organization')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_dead_letter')),
    sa.UniqueConstraint('provider', 'provider_sid',
                        name=op.f('uq_inbound_dead_letter_provider_provider_sid'))
    )
    op.create_index('ix_inbound_dead_letter_org_id_received_at', 'inbound_dead_letter',
                    ['org_id', 'received_at'], unique=False)
    op.execute("UPDATE thread SET snoozed_until = now() + interval '1 year' "
               "WHERE status = 'snoozed' AND snoozed_until > now() + interval '1 year'")


def downgrade():
    op.drop_index('ix_inbound_dead_letter_org_id_received_at', table_name='inbound_dead_letter')
    op.drop_table('inbound_dead_letter')
