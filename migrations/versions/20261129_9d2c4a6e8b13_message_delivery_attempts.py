"""message_delivery_attempts: attempts, next try, and the two statuses a queue needs

Delivery moves to a job queue: a message now shows how many times it was handed to the
provider, when the next automatic try is due, when it was (re)queued (automatic retries stop an
hour after), and two more statuses: `unconfirmed` (a send
was cut off after the request left, so the provider may have it: a person checks before
resending) and `canceled` (a person stopped it before it went).

Revision ID: 9d2c4a6e8b13
Revises: 5b8e1f0c2a71
Create Date: 2026-11-29 12:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '9d2c4a6e8b13'
down_revision = '5b8e1f0c2a71'
branch_labels = None
depends_on = None

OLD = ('received', 'queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed')
NEW = OLD + ('unconfirmed', 'canceled')


def _statuses(values):
    return "status IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade():
    op.add_column('message', sa.Column('attempts', sa.Integer(), server_default='0',
                                       nullable=False))
    op.add_column('message', sa.Column('next_attempt_at', sa.DateTime(timezone=True),
                                       nullable=True))
    op.add_column('message', sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint(op.f('ck_message_attempts_not_negative'), 'message',
                               'attempts >= 0')
    op.drop_constraint(op.f('ck_message_status_known'), 'message', type_='check')
    op.create_check_constraint(op.f('ck_message_status_known'), 'message', _statuses(NEW))


def downgrade():
    op.execute("UPDATE message SET status = 'failed' WHERE status IN ('unconfirmed', 'canceled')")
    op.drop_constraint(op.f('ck_message_status_known'), 'message', type_='check')
    op.create_check_constraint(op.f('ck_message_status_known'), 'message', _statuses(OLD))
    op.drop_constraint(op.f('ck_message_attempts_not_negative'), 'message', type_='check')
    op.drop_column('message', 'queued_at')
    op.drop_column('message', 'next_attempt_at')
    op.drop_column('message', 'attempts')
