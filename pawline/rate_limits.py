"""Rate limits every gunicorn worker and host shares: counters in PostgreSQL's `rate_limit`.

A counter is (scope, key) -> hits in a fixed window. `count` adds one and reads the total in
a single upsert, so of N concurrent requests exactly those within the limit see a total within
it: nobody looks first and writes after. An in-memory counter per worker would let each worker
(and each host) grant the whole limit again.
"""

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from pawline.access_models import RateLimit
from pawline.db import db, run_sql

IPV6_PREFIX = 64  # one IPv6 subscriber gets a whole /64: count it as one address


@dataclass(frozen=True)
class Count:
    hits: int  # this one included
    limit: int
    window_ends_at: datetime
    window: timedelta

    @property
    def over(self) -> bool:
        return self.hits > self.limit

    def retry_after(self, now: datetime) -> int:
        """Whole seconds until the window ends (at least 1): for a Retry-After header. Never
        more than the window: a request counted at the same time may have started it with a
        clock read a moment after this one's `now`."""
        return wait_seconds(self.window_ends_at - now, self.window)


def wait_seconds(left: timedelta, window: timedelta) -> int:
    """`left` of a window as whole seconds to wait: at least 1, at most the window's length."""
    return max(1, min(math.ceil(window.total_seconds()), math.ceil(left.total_seconds())))


# One statement, fixed SQL (pawline.db.run_sql): every webhook request runs it.
COUNT_HIT = """
    INSERT INTO rate_limit (scope, key, hits, window_ends_at)
    VALUES (%(scope)s, %(key)s, 1, %(ends)s)
    ON CONFLICT (scope, key) DO UPDATE SET
        hits = CASE WHEN rate_limit.window_ends_at > %(now)s THEN rate_limit.hits + 1 ELSE 1 END,
        window_ends_at = CASE WHEN rate_limit.window_ends_at > %(now)s
                              THEN rate_limit.window_ends_at ELSE %(ends)s END
    RETURNING hits, window_ends_at"""


def count(scope: str, key: str, limit: int, window: timedelta, now: datetime) -> Count:
    """One more hit for `key` in its current window, or the first of a new window; answers the
    total. One statement; the caller commits (the row stays locked until then, so a key's
    requests counted in their own transactions take turns)."""
    row = run_sql(COUNT_HIT, {"scope": scope, "key": key, "now": now,
                              "ends": now + window}).fetchone()
    return Count(row.hits, limit, row.window_ends_at, window)


def give_back(scope: str, key: str, counted: Count) -> None:
    """Undo one hit of the window `counted` was in (a sign-in that turned out right)."""
    table = RateLimit.__table__
    db.session.execute(sa.update(table).where(
        table.c.scope == scope, table.c.key == key, table.c.hits > 0,
        table.c.window_ends_at == counted.window_ends_at).values(hits=table.c.hits - 1))


def forget_expired(now: datetime) -> int:
    """Delete counters whose window has ended (a new hit starts afresh anyway); answers how
    many. Cheap with its index: failed sign-ins run it, and a periodic job may."""
    return db.session.execute(
        sa.delete(RateLimit).where(RateLimit.window_ends_at <= now)).rowcount


def prune_rate_limits(now: datetime) -> int:
    """`forget_expired`, committed: for a periodic job."""
    deleted = forget_expired(now)
    db.session.commit()
    return deleted


def address_key(address: str | None) -> str:
    """The key one client address counts under: an IPv4 address, or an IPv6 address's /64
    (an IPv4-mapped one as its IPv4). Anything else as it is."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return address or "unknown"
    if ip.version == 6 and ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/{IPV6_PREFIX}", strict=False))
    return str(ip)
