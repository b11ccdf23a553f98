"""user_session and rate_limit: sessions the server can end, limits every worker shares

Sessions were signed cookies only, so sign-out could not end a copy of one. Now each signed-in
browser has a row; sign-out revokes it. The trigger `app_user_ends_sessions` revokes every
session of a user whose password or role changes or who is deactivated, in the same
transaction, whatever code or console makes the change (OWASP ASVS 7.4.1, 7.4.3).

rate_limit counts per (scope, key) in a window, in one upsert: failed sign-ins per client
address, webhook requests per sender. In PostgreSQL, so every gunicorn worker and host shares it.

Revision ID: c4e7a1d93b52
Revises: e6a0668d2684
Create Date: 2026-12-01 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'c4e7a1d93b52'
down_revision = 'e6a0668d2684'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('user_session',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('token_hash', sa.Text(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('org_id', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("token_hash ~ '^[0-9a-f]{64}$'",
                       name=op.f('ck_user_session_token_hash_is_sha256')),
    sa.CheckConstraint('last_seen_at >= created_at',
                       name=op.f('ck_user_session_seen_after_created')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'],
                            name=op.f('fk_user_session_org_id_organization')),
    sa.ForeignKeyConstraint(['user_id', 'org_id'], ['app_user.id', 'app_user.org_id'],
                            name=op.f('fk_user_session_user_id_org_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_user_session_token_hash'))
    )
    op.create_index('ix_user_session_user_id', 'user_session', ['user_id'], unique=False)
    op.create_table('rate_limit',
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.Column('window_ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('hits >= 0', name=op.f('ck_rate_limit_hits_not_negative')),
    sa.PrimaryKeyConstraint('scope', 'key', name=op.f('pk_rate_limit'))
    )
    op.create_index('ix_rate_limit_window_ends_at', 'rate_limit', ['window_ends_at'],
                    unique=False)
    op.execute("""
        CREATE FUNCTION app_user_revoke_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE user_session SET revoked_at = now()
            WHERE user_id = NEW.id AND revoked_at IS NULL;
            RETURN NULL;
        END $$;
    """)
    op.execute("""
        CREATE TRIGGER app_user_ends_sessions AFTER UPDATE OF password_hash, role, active
        ON app_user FOR EACH ROW
        WHEN (OLD.password_hash IS DISTINCT FROM NEW.password_hash
              OR OLD.role IS DISTINCT FROM NEW.role
              OR (OLD.active AND NOT NEW.active))
        EXECUTE FUNCTION app_user_revoke_sessions();
    """)


def downgrade():
    op.execute("DROP TRIGGER IF EXISTS app_user_ends_sessions ON app_user")
    op.execute("DROP FUNCTION IF EXISTS app_user_revoke_sessions()")
    op.drop_index('ix_rate_limit_window_ends_at', table_name='rate_limit')
    op.drop_table('rate_limit')
    op.drop_index('ix_user_session_user_id', table_name='user_session')
    op.drop_table('user_session')
