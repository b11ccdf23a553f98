"""channels: message.channel, client identities on non-phone channels (I15), channel accounts

message.channel: where a message was written or goes; NOT NULL with default 'sms', so every
existing message reads 'sms' (PostgreSQL stores the default once: no row is rewritten and the
I10 trigger, which refuses changes to any column not listed as delivery state, never fires; the
new column is thereby immutable after insert like the others).

client_identity: a client's address on webchat, telegram, messenger or instagram, UNIQUE
(org_id, channel, address) (I15), tenant foreign key to client, CHECK on the address shape per
channel. Phones (sms and whatsapp) stay in client_contact (I1 and I2 unchanged).

channel_account: the organization's account per channel (a bot, a page, a widget key), UNIQUE
(org_id, channel) and UNIQUE (channel, account_id); its secret stored sealed.

Revision ID: 8d82351f8bd5
Revises: d5b1c7e94a3f
Create Date: 2026-12-06 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '8d82351f8bd5'
down_revision = "d5b1c7e94a3f"
branch_labels = None
depends_on = None

CHANNELS = "'sms', 'whatsapp', 'webchat', 'telegram', 'messenger', 'instagram'"
ADDRESS_SHAPE = (
    "(channel = 'telegram' AND address ~ '^-?[0-9]{1,20}$') OR "
    "(channel = 'messenger' AND address ~ '^[0-9]{1,40}$') OR "
    "(channel = 'instagram' AND address ~ '^[0-9]{1,40}$') OR "
    "(channel = 'webchat' AND address ~ '^[A-Za-z0-9_-]{16,64}$')")


def upgrade():
    op.add_column('message', sa.Column('channel', sa.Text(), server_default='sms',
                                       nullable=False))
    op.create_check_constraint(op.f('ck_message_channel_known'), 'message',
                               f"channel IN ({CHANNELS})")
    op.create_table('client_identity',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('client_id', sa.BigInteger(), nullable=False),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('display_name', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.Column('org_id', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("channel IN ('webchat', 'telegram', 'messenger', 'instagram')",
                       name=op.f('ck_client_identity_channel_known')),
    sa.CheckConstraint(ADDRESS_SHAPE, name=op.f('ck_client_identity_address_shape')),
    sa.CheckConstraint('display_name IS NULL OR length(display_name) <= 200',
                       name=op.f('ck_client_identity_display_name_length')),
    sa.ForeignKeyConstraint(['client_id', 'org_id'], ['client.id', 'client.org_id'],
                            name=op.f('fk_client_identity_client_id_org_id_client'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'],
                            name=op.f('fk_client_identity_org_id_organization')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_identity')),
    sa.UniqueConstraint('org_id', 'channel', 'address',
                        name=op.f('uq_client_identity_org_id_channel_address'))
    )
    op.create_index('ix_client_identity_client_id', 'client_identity', ['client_id'],
                    unique=False)
    op.create_table('channel_account',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('account_id', sa.Text(), nullable=False),
    sa.Column('display_name', sa.Text(), server_default='', nullable=False),
    sa.Column('secret_sealed', sa.Text(), nullable=True),
    sa.Column('settings', postgresql.JSONB(astext_type=sa.Text()),
              server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.Column('org_id', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("channel IN ('whatsapp', 'webchat', 'telegram', 'messenger', "
                       "'instagram')", name=op.f('ck_channel_account_channel_known')),
    sa.CheckConstraint('length(account_id) BETWEEN 1 AND 200',
                       name=op.f('ck_channel_account_account_id_present')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'],
                            name=op.f('fk_channel_account_org_id_organization')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_account')),
    sa.UniqueConstraint('channel', 'account_id',
                        name=op.f('uq_channel_account_channel_account_id')),
    sa.UniqueConstraint('org_id', 'channel', name=op.f('uq_channel_account_org_id_channel'))
    )


def downgrade():
    op.drop_table('channel_account')
    op.drop_index('ix_client_identity_client_id', table_name='client_identity')
    op.drop_table('client_identity')
    op.drop_constraint(op.f('ck_message_channel_known'), 'message', type_='check')
    op.drop_column('message', 'channel')
