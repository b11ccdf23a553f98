"""a scheduled reply keeps its photos only while it is still to send

Once sent, its photos are its message's attachments; once cancelled or failed, they will never
be sent: either way keeping them is keeping clients' private photos for nothing, so the code
deletes them in the transaction that sends or stops the reply. Two changes let it and hold it:

- scheduled_message_words_or_photos asked every reply, whatever its status, for words or
  photos, so deleting the photos of a sent or cancelled reply of photos alone was refused at the
  commit. It now asks only a reply still to send (status 'scheduled'), and also when a reply's
  status changes (a row put back to 'scheduled' must say something again).
- scheduled_photo_only_while_scheduled (deferred to the commit, like its twin) refuses a photo
  of a reply that is no longer scheduled: a sent or stopped reply whose photos were not deleted,
  or a photo added to one.

Existing photos of replies already sent, cancelled or failed are deleted.

Revision ID: 2f6d8a3c5e19
Revises: 9e4b1d7c2a55
Create Date: 2026-12-07 21:00:00.000000

"""
from alembic import op

revision = '2f6d8a3c5e19'
down_revision = '9e4b1d7c2a55'
branch_labels = None
depends_on = None

SAYS_SOMETHING = """
CREATE OR REPLACE FUNCTION scheduled_message_says_something(scheduled bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM scheduled_message m WHERE m.id = scheduled
               {still_to_send}AND length(btrim(m.body)) = 0
               AND NOT EXISTS (SELECT 1 FROM scheduled_photo p WHERE p.scheduled_id = m.id))
    THEN
        RAISE EXCEPTION 'scheduled reply % has neither words nor photos', scheduled
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'scheduled_message_words_or_photos';
    END IF;
END $$;
"""

WORDS_TRIGGER = """
DROP TRIGGER scheduled_message_words_or_photos ON scheduled_message;
CREATE CONSTRAINT TRIGGER scheduled_message_words_or_photos
    AFTER INSERT OR UPDATE OF {columns} ON scheduled_message
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION scheduled_message_words_or_photos();
"""

STILL_TO_SEND = "AND m.status = 'scheduled'\n               "
ONLY_WHILE_SCHEDULED = """
CREATE FUNCTION scheduled_photo_only_while_scheduled() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    scheduled bigint;
BEGIN
    IF TG_TABLE_NAME = 'scheduled_message' THEN
        scheduled := NEW.id;
    ELSE
        scheduled := NEW.scheduled_id;
    END IF;
    IF EXISTS (SELECT 1 FROM scheduled_message m WHERE m.id = scheduled
               AND m.status <> 'scheduled'
               AND EXISTS (SELECT 1 FROM scheduled_photo p WHERE p.scheduled_id = m.id))
    THEN
        RAISE EXCEPTION 'scheduled reply % is no longer scheduled and still has photos', scheduled
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'scheduled_photo_only_while_scheduled';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER scheduled_photo_only_while_scheduled
    AFTER UPDATE OF status ON scheduled_message
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION scheduled_photo_only_while_scheduled();

CREATE CONSTRAINT TRIGGER scheduled_photo_only_while_scheduled
    AFTER INSERT OR UPDATE OF scheduled_id ON scheduled_photo
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION scheduled_photo_only_while_scheduled();
"""


def upgrade():
    op.execute(SAYS_SOMETHING.format(still_to_send=STILL_TO_SEND))
    op.execute(WORDS_TRIGGER.format(columns="body, status"))
    op.execute("DELETE FROM scheduled_photo p USING scheduled_message m "
               "WHERE m.id = p.scheduled_id AND m.status <> 'scheduled'")
    op.execute(ONLY_WHILE_SCHEDULED)


def downgrade():
    op.execute("DROP TRIGGER scheduled_photo_only_while_scheduled ON scheduled_photo")
    op.execute("DROP TRIGGER scheduled_photo_only_while_scheduled ON scheduled_message")
    op.execute("DROP FUNCTION scheduled_photo_only_while_scheduled()")
    op.execute(WORDS_TRIGGER.format(columns="body"))
    op.execute(SAYS_SOMETHING.format(still_to_send=""))
