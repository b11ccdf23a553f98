"""scheduled replies carry photos

scheduled_photo: the photos of a scheduled reply, re-encoded when it was scheduled (no EXIF,
resized: pawline.images), sent as its message's attachments when it is due. Each belongs to a
scheduled reply of its own organization (composite foreign key to the new
uq_scheduled_message_id_org_id), at most five (position 0..4, one photo a position), of the
types we re-encode to. No data moves: existing scheduled replies have no photos.

Revision ID: 5c7e2b9a41d6
Revises: 8d82351f8bd5
Create Date: 2026-12-07 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '5c7e2b9a41d6'
down_revision = '8d82351f8bd5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_unique_constraint(op.f('uq_scheduled_message_id_org_id'), 'scheduled_message',
                                ['id', 'org_id'])
    op.create_table('scheduled_photo',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('scheduled_id', sa.BigInteger(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('content_type', sa.Text(), nullable=False),
    sa.Column('filename', sa.Text(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('org_id', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('position >= 0 AND position < 5',
                       name=op.f('ck_scheduled_photo_position_range')),
    sa.CheckConstraint("content_type IN ('image/jpeg', 'image/png', 'image/gif')",
                       name=op.f('ck_scheduled_photo_content_type_known')),
    sa.CheckConstraint('length(filename) BETWEEN 1 AND 255',
                       name=op.f('ck_scheduled_photo_filename_length')),
    sa.CheckConstraint('octet_length(data) BETWEEN 1 AND 5242880',
                       name=op.f('ck_scheduled_photo_size_limit')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'],
                            name=op.f('fk_scheduled_photo_org_id_organization')),
    sa.ForeignKeyConstraint(['scheduled_id', 'org_id'],
                            ['scheduled_message.id', 'scheduled_message.org_id'],
                            name=op.f('fk_scheduled_photo_scheduled_id_org_id_scheduled_message')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduled_photo')),
    sa.UniqueConstraint('scheduled_id', 'position',
                        name=op.f('uq_scheduled_photo_scheduled_id_position'))
    )


def downgrade():
    op.drop_table('scheduled_photo')
    op.drop_constraint(op.f('uq_scheduled_message_id_org_id'), 'scheduled_message',
                       type_='unique')
