"""What a quarantine would touch: the conversations that use each line now."""

from datetime import datetime

import sqlalchemy as sa

from pawline.db import db

# A conversation uses a line when its client last texted it, when it is the conversation's
# default pool line, or when the line's sitter is booked with the client now (pawline.routing).
THREADS_USING = sa.text("""
    SELECT number_id, count(DISTINCT thread_id) AS threads FROM (
        SELECT t.id AS thread_id, t.default_number_id AS number_id
        FROM thread t WHERE t.org_id = :org AND t.default_number_id IS NOT NULL
      UNION ALL
        SELECT t.id, (SELECT m.number_id FROM message m
                      WHERE m.thread_id = t.id AND m.direction = 'inbound'
                      ORDER BY m.id DESC LIMIT 1)
        FROM thread t WHERE t.org_id = :org
      UNION ALL
        SELECT w.thread_id, n.id
        FROM assignment_window w
        JOIN message_number n ON n.assigned_sitter_id = w.sitter_id AND n.org_id = w.org_id
        WHERE w.org_id = :org AND w.starts_at <= :now AND w.ends_at > :now
    ) uses
    WHERE number_id IS NOT NULL
    GROUP BY number_id""")


def threads_using(org_id: int, now: datetime) -> dict[int, int]:
    """How many conversations use each line now, by number id, in one query."""
    rows = db.session.execute(THREADS_USING, {"org": org_id, "now": now}).all()
    return {row.number_id: row.threads for row in rows}

