"""The Closed tab's Conversations at scale: EXPLAIN ANALYZE of its page statement on
inbox_scale's large organization (100,000 threads, ~1,000,000 messages, a close per closed
thread) with more events beside the closes (three assignments per thread, and every tenth
thread reopened and closed again), read through ix_thread_event_closed and without it.

python -m bench.closed_conversations [--server URL] [--tiny]
"""

import argparse
import tempfile
from pathlib import Path

import sqlalchemy as sa

from bench import inbox_scale
from bench.ingest import bench_app, create_database, drop_database

NOISE = [
    """INSERT INTO thread_event (org_id, thread_id, kind, detail, created_at)
       SELECT org_id, id, 'assigned', 'Assigned', last_activity_at - k * interval '1 hour'
       FROM thread, generate_series(1, 3) k WHERE org_id = :org""",
    """INSERT INTO thread_event (org_id, thread_id, kind, detail, created_at)
       SELECT org_id, id, kind, initcap(kind), last_activity_at - interval '1 day' + d
       FROM thread, (VALUES ('closed', interval '0'), ('reopened', interval '1 hour')) v(kind, d)
       WHERE org_id = :org AND id % 10 = 0""",
    # the 10,000-message thread closed and reopened 50 times along its 500 hours
    """INSERT INTO thread_event (org_id, thread_id, kind, detail, created_at)
       SELECT org_id, id, kind, initcap(kind),
              last_activity_at - k * interval '10 hours' + d
       FROM thread, generate_series(1, 50) k,
            (VALUES ('closed', interval '0'), ('reopened', interval '5 hours')) v(kind, d)
       WHERE id = :hot""",
]


def explain(session, sql: str, params: dict) -> tuple[float, str]:
    plan = session.scalars(sa.text("EXPLAIN (ANALYZE, BUFFERS) " + sql), params).all()
    ms = float(plan[-1].split(":")[1].split()[0])
    return ms, "\n".join(plan)


def run(server: str, size) -> None:
    from pawline import conversations

    name = "pawline_bench_conversations"
    url = create_database(server, name)
    try:
        org = inbox_scale.build(url, size)
        app = bench_app(url)
        with app.app_context():
            from pawline.db import db

            for step in NOISE:
                db.session.execute(sa.text(step), {"org": org.org_id, "hot": org.hot_thread_id})
            db.session.commit()
            db.session.execute(sa.text("ANALYZE thread_event"))
            events = db.session.scalar(sa.text("SELECT count(*) FROM thread_event"))
            closes = db.session.scalar(sa.text(
                "SELECT count(*) FROM thread_event WHERE kind = 'closed'"))
            print(f"{org.threads:,} threads, {org.messages:,} messages, {events:,} events, "
                  f"{closes:,} closes")
            page = conversations.closed(org.org_id)
            deep = conversations._after(page.next_cursor)
            for _ in range(20):  # twenty pages in
                page = conversations.closed(org.org_id, page.next_cursor)
            statement = conversations.closed_statement(after=True)
            params = {"org": org.org_id, "limit": conversations.PAGE_SIZE + 1}
            first = conversations.closed_statement(after=False)
            thread_sql = conversations.THREAD_CLOSES + conversations.CONVERSATIONS
            hot = {"thread": org.hot_thread_id, "current": conversations.CURRENT}
            later = dict(zip(("at", "id"), conversations._after(page.next_cursor), strict=True))
            for label, sql, extra, index in (
                    ("the hot thread's 51 conversations", thread_sql, hot,
                     "ix_message_thread_id_created_at"),
                    ("first page", first, {}, "ix_thread_event_closed"),
                    ("first page", first, {}, "ix_message_thread_id_created_at"),
                    ("page 2", statement, {"at": deep[0], "id": deep[1]},
                     "ix_thread_event_closed"),
                    ("page 22", statement, later, "ix_thread_event_closed")):
                for _ in range(3):  # warm
                    ms, plan = explain(db.session, sql, {**params, **extra})
                print(f"--- {label}: {ms:.2f} ms with {index}")
                print(plan)
                db.session.execute(sa.text(f"DROP INDEX {index}"))
                for _ in range(3):
                    ms, plan = explain(db.session, sql, {**params, **extra})
                print(f"--- {label}: {ms:.2f} ms without {index}")
                print(plan)
                db.session.rollback()
            db.engine.dispose()
    finally:
        drop_database(server, name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server")
    parser.add_argument("--tiny", action="store_true")
    args = parser.parse_args()
    size = inbox_scale.TINY["large"] if args.tiny else inbox_scale.SIZES["large"]
    with tempfile.TemporaryDirectory() as folder:
        from bench.run import embedded_server

        run(args.server or embedded_server(Path(folder) / "pgdata"), size)


if __name__ == "__main__":
    main()
