"""sign_in_throttle: failed sign-ins per email in the current window

Five wrong passwords for one email within 15 minutes refuse that email's sign-ins until the
window ends (OWASP ASVS 2.2.1), counted in one upsert so concurrent guesses cannot slip past.

Revision ID: 3a9d5e7f1b24
Revises: 7c1e2b9d4f10
Create Date: 2026-11-23 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '3a9d5e7f1b24'
down_revision = '7c1e2b9d4f10'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sign_in_throttle',
    sa.Column('email', sa.Text(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_started_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('failures > 0', name=op.f('ck_sign_in_throttle_failures_positive')),
    sa.PrimaryKeyConstraint('email', name=op.f('pk_sign_in_throttle'))
    )
    op.create_index('ix_sign_in_throttle_window_started_at', 'sign_in_throttle',
                    ['window_started_at'], unique=False)


def downgrade():
    op.drop_index('ix_sign_in_throttle_window_started_at', table_name='sign_in_throttle')
    op.drop_table('sign_in_throttle')
