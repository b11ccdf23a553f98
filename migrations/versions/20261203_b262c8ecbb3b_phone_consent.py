"""phone_consent: opt-out and opt-in per phone within an organization

A client who texts STOP (or STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT) to any of an
organization's numbers is opted out for the whole organization, until they text START, UNSTOP
or YES. Each change is a row of `consent_event`, only ever added (`consent_event_append_only`,
`consent_event_never_truncated`); `consent_event_sets_state` writes the phone's state into
`phone_consent`, one row per (org_id, e164), in the same statement, and
`phone_consent_follows_events` refuses a state its latest event does not say. A send holds the
phone's row while it is decided and handed over (pawline.consent, pawline.delivery).

Also: `organization.help_reply`, the owner's answer to HELP, and `message.auto_reply`, which
marks that answer (a phone gets it even when opted out).

Revision ID: b262c8ecbb3b
Revises: 8970d352ecb1
Create Date: 2026-12-03 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'b262c8ecbb3b'
down_revision = '8970d352ecb1'
branch_labels = None
depends_on = None

E164 = r"^\+[1-9][0-9]{6,14}$"

RULES = ["""
CREATE FUNCTION consent_event_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'consent_event is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation', CONSTRAINT = 'consent_event_append_only';
END $$""", """
CREATE TRIGGER consent_event_append_only BEFORE UPDATE OR DELETE ON consent_event
FOR EACH ROW EXECUTE FUNCTION consent_event_refuse_change()""", """
CREATE TRIGGER consent_event_never_truncated BEFORE TRUNCATE ON consent_event
FOR EACH STATEMENT EXECUTE FUNCTION consent_event_refuse_change()""", """
CREATE FUNCTION consent_event_set_state() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Waits while a send holds the row (FOR SHARE): the state is stored after that send.
    INSERT INTO phone_consent (org_id, e164, opted_out, changed_at, last_event_id, stored_at)
    VALUES (NEW.org_id, NEW.e164, NEW.opted_out, NEW.created_at, NEW.id, clock_timestamp())
    ON CONFLICT (org_id, e164) DO UPDATE SET opted_out = excluded.opted_out,
        changed_at = excluded.changed_at, last_event_id = excluded.last_event_id,
        stored_at = clock_timestamp()
    WHERE phone_consent.last_event_id IS NULL
       OR phone_consent.last_event_id < excluded.last_event_id;
    RETURN NULL;
END $$""", """
CREATE TRIGGER consent_event_sets_state AFTER INSERT ON consent_event
FOR EACH ROW EXECUTE FUNCTION consent_event_set_state()""", """
CREATE FUNCTION phone_consent_refuse_other_state() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    said consent_event%ROWTYPE;
BEGIN
    SELECT * INTO said FROM consent_event WHERE id = NEW.last_event_id;
    -- The state is its event's, and a phone's row only moves to later events (each new event
    -- moves it, consent_event_sets_state): so it is always its latest event's.
    IF (NEW.last_event_id IS NULL AND NEW.opted_out)
            OR (NEW.last_event_id IS NOT NULL AND (said.id IS NULL
                OR (said.org_id, said.e164, said.opted_out, said.created_at)
                   IS DISTINCT FROM (NEW.org_id, NEW.e164, NEW.opted_out, NEW.changed_at)))
            OR (TG_OP = 'UPDATE' AND OLD.last_event_id IS NOT NULL
                AND (NEW.last_event_id IS NULL OR NEW.last_event_id < OLD.last_event_id)) THEN
        RAISE EXCEPTION 'phone_consent of %: the state must be its latest consent event''s',
            NEW.e164
            USING ERRCODE = 'restrict_violation', CONSTRAINT = 'phone_consent_follows_events';
    END IF;
    RETURN NEW;
END $$""", """
CREATE TRIGGER phone_consent_follows_events BEFORE INSERT OR UPDATE ON phone_consent
FOR EACH ROW EXECUTE FUNCTION phone_consent_refuse_other_state()"""]

DROP_RULES = [
    "DROP TRIGGER IF EXISTS phone_consent_follows_events ON phone_consent",
    "DROP FUNCTION IF EXISTS phone_consent_refuse_other_state()",
    "DROP TRIGGER IF EXISTS consent_event_sets_state ON consent_event",
    "DROP FUNCTION IF EXISTS consent_event_set_state()",
    "DROP TRIGGER IF EXISTS consent_event_never_truncated ON consent_event",
    "DROP TRIGGER IF EXISTS consent_event_append_only ON consent_event",
    "DROP FUNCTION IF EXISTS consent_event_refuse_change()",
]


def upgrade():
    op.create_table('consent_event',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('e164', sa.Text(), nullable=False),
    sa.Column('opted_out', sa.Boolean(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('keyword', sa.Text(), nullable=True),
    sa.Column('message_id', sa.BigInteger(), nullable=True),
    sa.Column('detail', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.Column('org_id', sa.BigInteger(), nullable=False),
    sa.CheckConstraint(f"e164 ~ '{E164}'", name=op.f('ck_consent_event_e164_format')),
    sa.CheckConstraint("source <> 'keyword' OR keyword IS NOT NULL",
                       name=op.f('ck_consent_event_keyword_named')),
    sa.CheckConstraint("source IN ('keyword', 'provider')",
                       name=op.f('ck_consent_event_source_known')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'],
                            name=op.f('fk_consent_event_org_id_organization')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_event'))
    )
    op.create_index('ix_consent_event_org_id_e164_id', 'consent_event',
                    ['org_id', 'e164', 'id'], unique=False)
    op.create_table('phone_consent',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('e164', sa.Text(), nullable=False),
    sa.Column('opted_out', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_event_id', sa.BigInteger(), nullable=True),
    sa.Column('stored_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'),
              nullable=False),
    sa.Column('org_id', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('(last_event_id IS NULL) = (changed_at IS NULL)',
                       name=op.f('ck_phone_consent_change_has_event')),
    sa.CheckConstraint(f"e164 ~ '{E164}'", name=op.f('ck_phone_consent_e164_format')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'],
                            name=op.f('fk_phone_consent_org_id_organization')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phone_consent')),
    sa.UniqueConstraint('org_id', 'e164', name=op.f('uq_phone_consent_org_id_e164'))
    )
    op.add_column('organization', sa.Column('help_reply', sa.Text(), nullable=True))
    op.create_check_constraint(
        op.f('ck_organization_help_reply_length'), 'organization',
        'help_reply IS NULL OR length(btrim(help_reply)) BETWEEN 1 AND 320')
    op.add_column('message', sa.Column('auto_reply', sa.Text(), nullable=True))
    op.create_check_constraint(
        op.f('ck_message_auto_reply_known'), 'message',
        "auto_reply IS NULL OR (auto_reply = 'help' AND direction = 'outbound')")
    for statement in RULES:
        op.execute(statement)


def downgrade():
    for statement in DROP_RULES:
        op.execute(statement)
    op.drop_constraint(op.f('ck_message_auto_reply_known'), 'message', type_='check')
    op.drop_column('message', 'auto_reply')
    op.drop_constraint(op.f('ck_organization_help_reply_length'), 'organization', type_='check')
    op.drop_column('organization', 'help_reply')
    op.drop_table('phone_consent')
    op.drop_index('ix_consent_event_org_id_e164_id', table_name='consent_event')
    op.drop_table('consent_event')
