"""a scheduled reply may be photos alone, never nothing at all

ck_scheduled_message_body_length keeps the length bound only; whether a reply has words or
photos spans two tables, so two constraint triggers (deferred to the commit, when a new reply's
photos are in) refuse a scheduled reply with neither: one on scheduled_message (insert, or its
words changed), one on scheduled_photo (a photo removed, or moved to another reply). Existing
rows all have words.

Revision ID: 9e4b1d7c2a55
Revises: 5c7e2b9a41d6
Create Date: 2026-12-07 18:00:00.000000

"""
from alembic import op

revision = '9e4b1d7c2a55'
down_revision = '5c7e2b9a41d6'
branch_labels = None
depends_on = None

BODY_MAX = 1600
FUNCTION = """
CREATE FUNCTION scheduled_message_says_something(scheduled bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM scheduled_message m WHERE m.id = scheduled
               AND length(btrim(m.body)) = 0
               AND NOT EXISTS (SELECT 1 FROM scheduled_photo p WHERE p.scheduled_id = m.id))
    THEN
        RAISE EXCEPTION 'scheduled reply % has neither words nor photos', scheduled
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'scheduled_message_words_or_photos';
    END IF;
END $$;

CREATE FUNCTION scheduled_message_words_or_photos() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'scheduled_message' THEN
        PERFORM scheduled_message_says_something(NEW.id);
    ELSE
        PERFORM scheduled_message_says_something(OLD.scheduled_id);
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER scheduled_message_words_or_photos
    AFTER INSERT OR UPDATE OF body ON scheduled_message
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION scheduled_message_words_or_photos();

CREATE CONSTRAINT TRIGGER scheduled_photo_keeps_a_reply_saying_something
    AFTER DELETE OR UPDATE OF scheduled_id ON scheduled_photo
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION scheduled_message_words_or_photos();
"""


def upgrade():
    op.drop_constraint(op.f('ck_scheduled_message_body_length'), 'scheduled_message',
                       type_='check')
    op.create_check_constraint(op.f('ck_scheduled_message_body_length'), 'scheduled_message',
                               f'length(body) <= {BODY_MAX}')
    op.execute(FUNCTION)


def downgrade():
    op.execute("DROP TRIGGER scheduled_photo_keeps_a_reply_saying_something ON scheduled_photo")
    op.execute("DROP TRIGGER scheduled_message_words_or_photos ON scheduled_message")
    op.execute("DROP FUNCTION scheduled_message_words_or_photos()")
    op.execute("DROP FUNCTION scheduled_message_says_something(bigint)")
    op.drop_constraint(op.f('ck_scheduled_message_body_length'), 'scheduled_message',
                       type_='check')
    op.create_check_constraint(op.f('ck_scheduled_message_body_length'), 'scheduled_message',
                               f'length(btrim(body)) > 0 AND length(body) <= {BODY_MAX}')
