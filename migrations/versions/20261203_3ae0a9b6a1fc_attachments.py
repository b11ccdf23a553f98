"""attachment and simulator_upload: the photos and files of MMS messages, in PostgreSQL

Twilio's MediaUrlN of an inbound MMS becomes an attachment row, pending, in the transaction that
stores the message; a job fetches it into `data` with its size and SHA-256 (the check
constraint proves they agree), with a small JPEG thumbnail for a photo. A photo a person sends
is re-encoded and stored at once.

The bytes are kept in PostgreSQL, not on a disk: the web process that shows a photo and the
worker that fetched it may run on different hosts, and the database is the store they share.

message gains UNIQUE (id, org_id), the target of the attachments' composite foreign key (I4).

The trigger attachment_settled_is_final refuses any change to an attachment once it is fetched
or failed: the bytes whose SHA-256 was recorded stay the bytes, and a status never goes back.

Revision ID: 3ae0a9b6a1fc
Revises: a41c7e93d2b6
Create Date: 2026-12-03 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '3ae0a9b6a1fc'
down_revision = "a41c7e93d2b6"
branch_labels = None
depends_on = None

SETTLED_IS_FINAL = ["""
CREATE FUNCTION attachment_refuse_settled_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'pending' THEN
        RAISE EXCEPTION 'attachment % is %: it no longer changes', OLD.id, OLD.status
            USING ERRCODE = 'restrict_violation', CONSTRAINT = 'attachment_settled_is_final';
    END IF;
    RETURN NEW;
END $$""", """
CREATE TRIGGER attachment_settled_is_final BEFORE UPDATE ON attachment
FOR EACH ROW EXECUTE FUNCTION attachment_refuse_settled_change()"""]
CONTENT_TYPE = r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$"


def upgrade():
    op.create_unique_constraint(op.f('uq_message_id_org_id'), 'message', ['id', 'org_id'])
    op.create_table('attachment',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('source_url', sa.Text(), nullable=True),
    sa.Column('content_type', sa.Text(), nullable=False),
    sa.Column('filename', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), server_default='pending', nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=True),
    sa.Column('size_bytes', sa.Integer(), nullable=True),
    sa.Column('sha256', sa.LargeBinary(), nullable=True),
    sa.Column('thumbnail', sa.LargeBinary(), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.Column('org_id', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'fetched', 'failed')",
                       name=op.f('ck_attachment_status_known')),
    sa.CheckConstraint('position >= 0 AND position < 100',
                       name=op.f('ck_attachment_position_range')),
    sa.CheckConstraint(f"content_type ~ '{CONTENT_TYPE}'",
                       name=op.f('ck_attachment_content_type_format')),
    sa.CheckConstraint('length(source_url) <= 2048', name=op.f('ck_attachment_source_url_length')),
    sa.CheckConstraint('length(filename) BETWEEN 1 AND 255',
                       name=op.f('ck_attachment_filename_length')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_attachment_attempts_not_negative')),
    sa.CheckConstraint(
        "(status = 'fetched' AND data IS NOT NULL AND size_bytes IS NOT NULL "
        "AND sha256 IS NOT NULL AND size_bytes = octet_length(data) AND sha256 = sha256(data)) "
        "OR "
        "(status <> 'fetched' AND data IS NULL AND size_bytes IS NULL AND sha256 IS NULL)",
        name=op.f('ck_attachment_fetched_is_measured')),
    sa.CheckConstraint('size_bytes BETWEEN 1 AND 10485760', name=op.f('ck_attachment_size_limit')),
    sa.CheckConstraint(
        "thumbnail IS NULL OR (status = 'fetched' AND octet_length(thumbnail) BETWEEN 1 AND "
        "262144)", name=op.f('ck_attachment_thumbnail_of_fetched')),
    sa.CheckConstraint("status <> 'failed' OR error IS NOT NULL",
                       name=op.f('ck_attachment_failed_says_why')),
    sa.CheckConstraint(
        "source_url IS NOT NULL OR (status = 'fetched' AND "
        "content_type IN ('image/jpeg', 'image/png', 'image/gif'))",
        name=op.f('ck_attachment_upload_is_stored_image')),
    sa.ForeignKeyConstraint(['message_id', 'org_id'], ['message.id', 'message.org_id'],
                            name=op.f('fk_attachment_message_id_org_id_message')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'],
                            name=op.f('fk_attachment_org_id_organization')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment')),
    sa.UniqueConstraint('message_id', 'position', name=op.f('uq_attachment_message_id_position'))
    )
    op.create_table('simulator_upload',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('content_type', sa.Text(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.Column('org_id', sa.BigInteger(), nullable=False),
    sa.CheckConstraint(f"content_type ~ '{CONTENT_TYPE}'",
                       name=op.f('ck_simulator_upload_content_type_format')),
    sa.CheckConstraint('octet_length(data) BETWEEN 1 AND 5242880',
                       name=op.f('ck_simulator_upload_size_limit')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'],
                            name=op.f('fk_simulator_upload_org_id_organization')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_simulator_upload'))
    )
    for statement in SETTLED_IS_FINAL:
        op.execute(statement)


def downgrade():
    op.execute("DROP TRIGGER IF EXISTS attachment_settled_is_final ON attachment")
    op.execute("DROP FUNCTION IF EXISTS attachment_refuse_settled_change()")
    op.drop_table('simulator_upload')
    op.drop_table('attachment')
    op.drop_constraint(op.f('uq_message_id_org_id'), 'message', type_='unique')
