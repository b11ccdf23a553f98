"""booking_versions_and_append_only_messages: rules the database now keeps for bookings

A booking from the booking system carries the version it was sent at
(`booking.external_updated_at`, the system's own `updated_at`): an older payload, replayed or
delivered late, must never overwrite a newer one, and the trigger `booking_versions_only_advance`
refuses any write that moves it back. A cancelled booking is final, as the UI has always said:
`booking_cancelled_is_final` refuses a change to its status, sitter, times or versions (a
client merge may still move it to the surviving client).

The audit trail (I9) refused UPDATE and DELETE but not TRUNCATE: `audit_event_never_truncated`
refuses that too. Messages are kept as they were sent or received (I10): `message_never_rewritten`
refuses a DELETE, and an UPDATE of anything but the delivery state and the thread (a client
merge moves messages between threads); `message_never_truncated` refuses TRUNCATE. Columns
added later are protected unless added to MESSAGE_MAY_CHANGE. These hold for the tables' owner
too, who can still drop or disable them: the app runs as a role that owns nothing
(docs/operations.md), which cannot.

Revision ID: e6a0668d2684
Revises: 9d2c4a6e8b13
Create Date: 2026-11-30 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'e6a0668d2684'
down_revision = '9d2c4a6e8b13'
branch_labels = None
depends_on = None

BOOKING_RULES = ["""
CREATE FUNCTION booking_refuse_older_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.external_updated_at IS NOT NULL AND (NEW.external_updated_at IS NULL
            OR NEW.external_updated_at < OLD.external_updated_at) THEN
        RAISE EXCEPTION 'booking %: version % cannot replace the newer %', OLD.id,
            NEW.external_updated_at, OLD.external_updated_at
            USING ERRCODE = 'restrict_violation', CONSTRAINT = 'booking_versions_only_advance';
    END IF;
    RETURN NEW;
END $$""", """
CREATE TRIGGER booking_versions_only_advance BEFORE UPDATE ON booking
FOR EACH ROW EXECUTE FUNCTION booking_refuse_older_version()""", """
CREATE FUNCTION booking_refuse_cancelled_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'cancelled' AND (NEW.status, NEW.sitter_id, NEW.starts_at, NEW.ends_at,
            NEW.external_ref, NEW.external_updated_at) IS DISTINCT FROM (OLD.status,
            OLD.sitter_id, OLD.starts_at, OLD.ends_at, OLD.external_ref,
            OLD.external_updated_at) THEN
        RAISE EXCEPTION 'booking % is cancelled: it cannot be changed', OLD.id
            USING ERRCODE = 'restrict_violation', CONSTRAINT = 'booking_cancelled_is_final';
    END IF;
    RETURN NEW;
END $$""", """
CREATE TRIGGER booking_cancelled_is_final BEFORE UPDATE ON booking
FOR EACH ROW EXECUTE FUNCTION booking_refuse_cancelled_change()"""]

# What code may change in a message row (pawline.delivery, pawline.inbound's status callbacks,
# pawline.clients' merge); every other column keeps the value it was inserted with.
MESSAGE_MAY_CHANGE = ("thread_id", "status", "status_updated_at", "provider_sid", "error_code",
                      "error_message", "attempts", "next_attempt_at", "queued_at")

APPEND_ONLY_RULES = ["""
CREATE TRIGGER audit_event_never_truncated BEFORE TRUNCATE ON audit_event
FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse_change()""", f"""
CREATE FUNCTION message_refuse_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    may_change CONSTANT text[] := ARRAY[{", ".join(f"'{c}'" for c in MESSAGE_MAY_CHANGE)}];
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION 'messages are kept: TRUNCATE refused'
            USING ERRCODE = 'restrict_violation', CONSTRAINT = 'message_never_truncated';
    ELSIF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'messages are kept: DELETE of message % refused', OLD.id
            USING ERRCODE = 'restrict_violation', CONSTRAINT = 'message_never_rewritten';
    ELSIF to_jsonb(NEW) - may_change IS DISTINCT FROM to_jsonb(OLD) - may_change
            OR (OLD.provider_sid IS NOT NULL
                AND NEW.provider_sid IS DISTINCT FROM OLD.provider_sid) THEN
        RAISE EXCEPTION 'message %: only its delivery state and thread may change', OLD.id
            USING ERRCODE = 'restrict_violation', CONSTRAINT = 'message_never_rewritten';
    END IF;
    RETURN NEW;
END $$""", """
CREATE TRIGGER message_never_rewritten BEFORE UPDATE OR DELETE ON message
FOR EACH ROW EXECUTE FUNCTION message_refuse_rewrite()""", """
CREATE TRIGGER message_never_truncated BEFORE TRUNCATE ON message
FOR EACH STATEMENT EXECUTE FUNCTION message_refuse_rewrite()"""]

DROP_APPEND_ONLY_RULES = [
    "DROP TRIGGER IF EXISTS message_never_truncated ON message",
    "DROP TRIGGER IF EXISTS message_never_rewritten ON message",
    "DROP FUNCTION IF EXISTS message_refuse_rewrite()",
    "DROP TRIGGER IF EXISTS audit_event_never_truncated ON audit_event",
]

DROP_BOOKING_RULES = [
    "DROP TRIGGER IF EXISTS booking_cancelled_is_final ON booking",
    "DROP FUNCTION IF EXISTS booking_refuse_cancelled_change()",
    "DROP TRIGGER IF EXISTS booking_versions_only_advance ON booking",
    "DROP FUNCTION IF EXISTS booking_refuse_older_version()",
]


def upgrade():
    op.add_column('booking', sa.Column('external_updated_at', sa.DateTime(timezone=True),
                                       nullable=True))
    for statement in BOOKING_RULES + APPEND_ONLY_RULES:
        op.execute(statement)


def downgrade():
    for statement in DROP_APPEND_ONLY_RULES + DROP_BOOKING_RULES:
        op.execute(statement)
    op.drop_column('booking', 'external_updated_at')
