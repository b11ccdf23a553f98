"""The inbox at scale: the same paths on a small and a large organization, timed alternating.

Each size lives in a database of its own, built with set-based SQL: the large one is 100,000
clients and threads with 10 messages each, one thread of 10,000 (1,009,990 messages); the small
one is 1,000 threads shaped the same, with the same 10,000-message thread. Every path is a real
request through the app (Flask's test client, so server time without the network), except the
send path, which calls the domain up to the provider call, and the doctor.

The query plans are read from EXPLAIN of exactly the statements each path sent, at the large size.
"""

import statistics
import time
import uuid
from dataclasses import dataclass
from urllib.parse import quote

import psycopg
import sqlalchemy as sa

from bench.servers import create_database, drop_database, migrate

PASSWORD = "bench-password"
FIRST = ("Ada", "Ben", "Cleo", "Dev", "Ema", "Finn", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea",
         "Max", "Nia", "Oto", "Pia", "Rui", "Sol", "Teo", "Uma", "Vic", "Wen", "Xia", "Yara",
         "Zed", "Ava", "Bo", "Cai", "Dot", "Eli")
SYLLABLES = ("bar", "ca", "del", "fon", "gri", "hol", "ke", "lun", "mar", "nor", "pel", "quin",
             "ros", "sal", "tor", "ul", "ver", "wil", "yan", "zo", "an", "bel", "cor", "dun", "esk")
ENDINGS = ("ley", "ton", "berg", "wick", "more", "dale", "son", "field")
FULL_DOCTOR = "doctor --full (re-reads every row)"
BIG_TABLES = {"message", "thread", "client", "client_contact", "thread_event", "booking",
              "assignment_window"}


@dataclass(frozen=True)
class Size:
    threads: int
    per_thread: int = 10  # messages in every thread but the hot one
    hot_messages: int = 10_000


SIZES = {"small": Size(1_000), "large": Size(100_000)}
TINY = {"small": Size(50, 3, 200), "large": Size(500, 3, 200)}


def surname(n: int) -> str:
    a = SYLLABLES[n % len(SYLLABLES)]
    b = SYLLABLES[(n // len(SYLLABLES)) % len(SYLLABLES)]
    return (a + b + ENDINGS[(n // len(SYLLABLES) ** 2) % len(ENDINGS)]).capitalize()


def client_name(n: int) -> str:
    """Deterministic names: 30 first names, 5,000 surnames, so a surname is ~20 of 100,000."""
    return f"{FIRST[(n * 7) % len(FIRST)]} {surname((n * 7919) % 5000)}"


def phone(n: int) -> str:
    return f"+1628{2_000_000 + n}"  # valid: a NANP exchange cannot start with 0


# ---- building an organization --------------------------------------------------------------

@dataclass(frozen=True)
class Org:
    db_url: str
    org_id: int
    owner_id: int
    owner_email: str
    hot_thread_id: int
    search_phone: str
    search_name: str
    deep_cursor: str
    threads: int
    messages: int


def build(db_url: str, size: Size) -> Org:
    """Migrate `db_url` and fill it with one organization of `size` (set-based SQL)."""
    from bench.servers import bench_app
    from pawline import accounts, numbers, sitters
    from pawline.db import db
    from pawline.inbox import encode_cursor

    migrate(db_url)
    app = bench_app(db_url)
    with app.app_context():
        email = "owner@scale.example"
        org = accounts.register_org("Scale Pets", email, PASSWORD, slug="scale")
        owner_id = db.session.scalar(sa.text("SELECT id FROM app_user WHERE email = :e"),
                                     {"e": email})
        numbers.add_number(org.id, "+14155550100", "front_desk")
        for i in range(3):
            numbers.add_number(org.id, f"+1415555020{i}", "pool")
        for i in range(20):
            numbers.add_number(org.id, f"+141555503{i:02d}", "sitter")
            sitter = sitters.create_sitter(org.id, f"Sitter {i}", f"+1415555{4000 + i}")
            sitters.activate_sitter(org.id, sitter.id, owner_id)
        front_desk = db.session.scalar(sa.text(
            "SELECT id FROM message_number WHERE org_id = :o AND number_class = 'front_desk'"),
            {"o": org.id})
        _fill(db.session, org.id, front_desk, size)
        db.session.commit()
        hot = db.session.scalar(sa.text(
            "SELECT t.id FROM thread t JOIN client_contact c ON c.client_id = t.client_id "
            "WHERE c.e164 = :p"), {"p": phone(1)})
        deep = db.session.execute(sa.text(
            "SELECT last_activity_at, id FROM thread WHERE org_id = :o "
            "ORDER BY last_activity_at DESC, id DESC OFFSET :n LIMIT 1"),
            {"o": org.id, "n": size.threads * 9 // 10}).one()
        messages = db.session.scalar(sa.text("SELECT count(*) FROM message"))
        db.engine.dispose()
    with sa.create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    middle = size.threads * 2 // 3
    return Org(db_url, org.id, owner_id, email, hot,
               search_phone=f"({phone(middle)[2:5]}) {phone(middle)[5:8]}-{phone(middle)[8:]}",
               search_name=client_name(middle).split()[1], deep_cursor=encode_cursor(*deep),
               threads=size.threads, messages=messages)


def _fill(session, org_id: int, front_desk: int, size: Size) -> None:
    """Clients, contacts, threads, messages, closing events and bookings, each one statement."""
    params = {"org": org_id, "n": size.threads, "per": size.per_thread,
              "hot": size.hot_messages, "fd": front_desk,
              "names": [client_name(n) for n in range(1, size.threads + 1)]}
    steps = [
        # n numbers the clients 1..N; client 1 owns the 10,000-message thread.
        """INSERT INTO client (org_id, name, created_at)
           SELECT :org, name, now() - interval '400 days'
           FROM unnest(CAST(:names AS text[])) WITH ORDINALITY AS u(name, n) ORDER BY n""",
        """INSERT INTO client_contact (org_id, client_id, e164, label)
           SELECT :org, id, '+1628' || (2000000 + row_number() OVER (ORDER BY id)),
                  'mobile'
           FROM client WHERE org_id = :org""",
        # a fifth open, a twentieth snoozed (until later), the rest closed; activity over a year
        """INSERT INTO thread (org_id, client_id, status, snoozed_until, last_message_at,
                               last_activity_at, last_message_preview, last_message_direction,
                               unread_count, created_at)
           SELECT :org, id, s.status,
                  CASE WHEN s.status = 'snoozed' THEN now() + interval '30 days' END,
                  s.at, s.at, 'Message ' || :per || ' about the walk',
                  'inbound', CASE WHEN s.status = 'open' THEN 1 ELSE 0 END,
                  now() - interval '400 days'
           FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM client
                 WHERE org_id = :org) c,
                LATERAL (SELECT CASE WHEN c.n = 1 OR c.n % 20 < 4 THEN 'open'
                                     WHEN c.n % 20 = 4 THEN 'snoozed' ELSE 'closed' END AS status,
                                CASE WHEN c.n = 1 THEN now() - interval '1 minute'
                                     ELSE now() - ((c.n * 7919) % 525600) * interval '1 minute'
                                     - interval '1 hour' END AS at) s""",
        # messages alternate inbound and outbound, oldest first, so ids follow time
        """INSERT INTO message (org_id, thread_id, direction, body, from_e164, to_e164,
                                number_id, status, provider, provider_sid, routing_trace,
                                created_at)
           SELECT t.org_id, t.id, d.direction, 'Message ' || i || ' about the walk',
                  CASE d.direction WHEN 'inbound' THEN c.e164 ELSE '+14155550100' END,
                  CASE d.direction WHEN 'inbound' THEN '+14155550100' ELSE c.e164 END,
                  :fd, CASE d.direction WHEN 'inbound' THEN 'received' ELSE 'delivered' END,
                  'twilio', 'SMbench' || t.id || 'x' || i,
                  CASE d.direction WHEN 'outbound' THEN '{"rule": 4}'::jsonb END,
                  t.last_activity_at - (k.total - i) * interval '3 minutes'
           FROM thread t
           JOIN client_contact c ON c.client_id = t.client_id
           CROSS JOIN LATERAL (SELECT CASE WHEN c.e164 = '+16282000001' THEN :hot ELSE :per END
                               AS total) k
           CROSS JOIN LATERAL generate_series(1, k.total) i
           CROSS JOIN LATERAL (SELECT CASE WHEN (k.total - i) % 2 = 0 THEN 'inbound'
                                           ELSE 'outbound' END AS direction) d
           WHERE t.org_id = :org
           ORDER BY t.last_activity_at - (k.total - i) * interval '3 minutes'""",
        """INSERT INTO thread_event (org_id, thread_id, kind, detail, created_at)
           SELECT org_id, id, 'closed', 'Closed', last_activity_at + interval '1 minute'
           FROM thread WHERE org_id = :org AND status = 'closed'""",
        # a tenth of the clients booked with a sitter, over the year; client 1 booked now
        """WITH booked AS (
               INSERT INTO booking (org_id, client_id, sitter_id, starts_at, ends_at, status)
               SELECT :org, t.client_id, s.ids[1 + t.id % cardinality(s.ids)],
                      CASE WHEN t.client_id = h.client_id THEN now() - interval '1 day'
                           ELSE t.last_activity_at - interval '2 days' END,
                      CASE WHEN t.client_id = h.client_id THEN now() + interval '1 day'
                           ELSE t.last_activity_at END,
                      'confirmed'
               FROM thread t
               CROSS JOIN (SELECT min(client_id) AS client_id FROM thread
                           WHERE org_id = :org) h
               CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM sitter
                           WHERE org_id = :org) s
               WHERE t.org_id = :org AND (t.id % 10 = 0 OR t.client_id = h.client_id)
               RETURNING id, client_id, sitter_id, starts_at, ends_at)
           INSERT INTO assignment_window (org_id, thread_id, booking_id, sitter_id, starts_at,
                                          ends_at)
           SELECT :org, t.id, b.id, b.sitter_id, b.starts_at, b.ends_at
           FROM booked b JOIN thread t ON t.org_id = :org AND t.client_id = b.client_id""",
    ]
    for step in steps:
        session.execute(sa.text(step), params)


# ---- timing --------------------------------------------------------------------------------

class Site:
    """One organization's app, signed in as its owner."""

    def __init__(self, org: Org):
        from bench.servers import bench_app

        self.org = org
        self.app = bench_app(org.db_url)
        self.app.config.update(WTF_CSRF_ENABLED=False, SMS_PROVIDER="console")
        self.client = self.app.test_client()
        response = self.client.post("/sign-in", data={"email": org.owner_email,
                                                      "password": PASSWORD})
        assert response.status_code == 302, response.status_code

    def get(self, url: str) -> None:
        response = self.client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    def send(self) -> None:
        from pawline import outbound
        from pawline.db import db

        with self.app.app_context():
            outbound.queue_message(self.org.org_id, self.org.hot_thread_id, "On my way!",
                                   self.org.owner_id, "console", client_token=uuid.uuid4().hex)
            db.session.remove()

    def doctor(self, full: bool) -> None:
        from pawline.db import db
        from pawline.doctor import run_checks

        with self.app.app_context():
            assert all(r.holds for r in run_checks(db.session.connection(), full=full))
            db.session.remove()

    def close(self) -> None:
        from pawline.db import db

        with self.app.app_context():
            db.engine.dispose()


def paths(site: Site) -> dict:
    """The paths of the issue, as calls on one site."""
    org = site.org
    return {
        "inbox first page": lambda: site.get("/inbox"),
        "inbox page at 90% depth (keyset)": lambda: site.get(
            f"/inbox/more?tab=all&cursor={org.deep_cursor}"),
        "search by phone": lambda: site.get(f"/inbox?tab=all&q={quote(org.search_phone)}"),
        "search by name": lambda: site.get(f"/inbox?tab=all&q={quote(org.search_name)}"),
        "thread of 10,000 messages": lambda: site.get(f"/threads/{org.hot_thread_id}"),
        "send path (routing, stored, up to the provider)": site.send,
        "doctor (catalog checks, the default)": lambda: site.doctor(full=False),
        FULL_DOCTOR: lambda: site.doctor(full=True),
    }


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def seq_scans(site: Site, call) -> tuple[set[str], set[str]]:
    """The big tables read by sequential scan, and the indexes used, in `call`'s statements."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().split(None, 1)[0].upper() in ("SELECT", "WITH", "UPDATE",
                                                               "INSERT", "DELETE"):
            seen.append((statement, parameters))

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
    scanned, indexes = set(), set()
    with psycopg.connect(site.org.db_url) as conn:
        for statement, parameters in seen:
            plan = conn.execute("EXPLAIN (FORMAT JSON) " + statement, parameters).fetchone()[0]
            conn.rollback()
            for node in _nodes(plan[0]["Plan"]):
                if node["Node Type"] == "Seq Scan" and node["Relation Name"] in BIG_TABLES:
                    scanned.add(node["Relation Name"])
                if "Index Name" in node:
                    indexes.add(node["Index Name"])
    return scanned, indexes


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def measure(small: Org, large: Org, repeats: int = 15) -> list[dict]:
    """Every path, small and large alternating, `repeats` times each after a warm-up."""
    sites = Site(small), Site(large)
    try:
        calls = [paths(site) for site in sites]
        rows = []
        for name in calls[0]:
            times: tuple[list, list] = ([], [])
            rounds = max(3, repeats // 3) if name == FULL_DOCTOR else repeats
            for _ in range(2):  # warm-up: first compilations, the buffer cache
                for side in (0, 1):
                    calls[side][name]()
            for _ in range(rounds):
                for side in (0, 1):
                    times[side].append(_timed(calls[side][name]))
            small_ms, large_ms = (statistics.median(t) for t in times)
            ratio = large_ms / small_ms
            if name == FULL_DOCTOR:
                target, plan, plan_ok = "none: linear by design", "reads every row", True
                ok = True
            else:
                scanned, indexes = seq_scans(sites[1], calls[1][name])
                plan_ok = not (scanned & {"message", "thread"})
                plan = ("seq scan of " + ", ".join(sorted(scanned)) if scanned else
                        "no seq scan of a big table") + "; indexes: " + ", ".join(sorted(indexes))
                target = "<= 1.5x" + (", < 50 ms" if name == "inbox first page" else "")
                ok = ratio <= 1.5 and plan_ok and (name != "inbox first page" or large_ms < 50)
            rows.append({"benchmark": name, "small_ms": small_ms, "large_ms": large_ms,
                         "ratio": ratio, "target": target, "ok": ok, "plan": plan,
                         "plan_ok": plan_ok})
        return rows
    finally:
        for site in sites:
            site.close()


def run(server_url: str, sizes: dict | None = None, repeats: int = 15) -> dict:
    """Build both organizations, measure every path, drop the databases."""
    sizes = sizes or SIZES
    built, names = {}, []
    try:
        for label, size in sizes.items():
            name = f"bench_inbox_{label}_{uuid.uuid4().hex[:6]}"
            names.append(name)
            started = time.perf_counter()
            built[label] = build(create_database(server_url, name), size)
            built[label + "_build_s"] = time.perf_counter() - started
        rows = measure(built["small"], built["large"], repeats)
    finally:
        for name in names:
            drop_database(server_url, name)
    return {"rows": rows,
            "sizes": {label: {"threads": built[label].threads,
                              "messages": built[label].messages,
                              "build_s": built[label + "_build_s"]} for label in sizes}}
