"""after-hours auto-reply: business hours per weekday, the reply, once per thread per 12 hours

business_hours: an organization's opening hours, at most one row per weekday (primary key
org_id, weekday; Monday is 0), each opening before it closes, in the organization's zone. A
weekday with no row is closed all day.

organization.after_hours_reply: what a client who texts outside those hours is told; empty
means no automatic reply.

thread.after_hours_replied_at: when the thread last got the after-hours reply. An inbound
message claims it with one conditional UPDATE (NULL or 12 hours old), so concurrent messages
send it once. message.auto_reply gains the kind 'after_hours'.

Revision ID: d41be7a0c93f
Revises: bfabc91426f4
Create Date: 2026-12-05 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'd41be7a0c93f'
down_revision = "bfabc91426f4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('business_hours',
    sa.Column('org_id', sa.BigInteger(), nullable=False),
    sa.Column('weekday', sa.SmallInteger(), nullable=False),
    sa.Column('opens', sa.Time(), nullable=False),
    sa.Column('closes', sa.Time(), nullable=False),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_business_hours_weekday_range')),
    sa.CheckConstraint('opens < closes', name=op.f('ck_business_hours_opens_before_closes')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'],
                            name=op.f('fk_business_hours_org_id_organization')),
    sa.PrimaryKeyConstraint('org_id', 'weekday', name=op.f('pk_business_hours'))
    )
    op.add_column('organization', sa.Column('after_hours_reply', sa.Text(), nullable=True))
    op.create_check_constraint(
        op.f('ck_organization_after_hours_reply_length'), 'organization',
        'after_hours_reply IS NULL OR length(btrim(after_hours_reply)) BETWEEN 1 AND 320')
    op.add_column('thread', sa.Column('after_hours_replied_at', sa.DateTime(timezone=True),
                                      nullable=True))
    op.drop_constraint(op.f('ck_message_auto_reply_known'), 'message', type_='check')
    op.create_check_constraint(
        op.f('ck_message_auto_reply_known'), 'message',
        "auto_reply IS NULL OR (auto_reply IN ('help', 'after_hours') "
        "AND direction = 'outbound')")


def downgrade():
    op.drop_constraint(op.f('ck_message_auto_reply_known'), 'message', type_='check')
    op.create_check_constraint(
        op.f('ck_message_auto_reply_known'), 'message',
        "auto_reply IS NULL OR (auto_reply = 'help' AND direction = 'outbound')")
    op.drop_column('thread', 'after_hours_replied_at')
    op.drop_constraint(op.f('ck_organization_after_hours_reply_length'), 'organization',
                       type_='check')
    op.drop_column('organization', 'after_hours_reply')
    op.drop_table('business_hours')
