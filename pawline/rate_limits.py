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
from sqlalchemy.dialects.postgresql import insert

from pawline.access_models import RateLimit
from pawline.db import db

IPV6_PREFIX = 64  # one IPv6 subscriber gets a whole /64: count it as one address


@dataclass(frozen=True)
class Count:
    hits: int  # this one included
    limit: int
    window_ends_at: datetime

    @property
    def over(self) -> bool:
        return self.hits > self.limit

    def retry_after(self, now: datetime) -> int:
        """Whole seconds until the window ends (at least 1): for a Retry-After header."""
        return max(1, math.ceil((self.window_ends_at - now).total_seconds()))


def count(scope: str, key: str, limit: int, window: timedelta, now: datetime) -> Count:
    """One more hit for `key` in its current window, or the first of a new window; answers the
    total. One statement; the caller commits (promptly: the row stays locked until then)."""
    table = RateLimit.__table__
    current = table.c.window_ends_at > now
    upsert = insert(table).values(scope=scope, key=key, hits=1, window_ends_at=now + window)
    row = db.session.execute(upsert.on_conflict_do_update(
        index_elements=[table.c.scope, table.c.key],
        set_={"hits": sa.case((current, table.c.hits + 1), else_=1),
              "window_ends_at": sa.case((current, table.c.window_ends_at),
                                        else_=now + window)},
    ).returning(table.c.hits, table.c.window_ends_at)).one()
    return Count(row.hits, limit, row.window_ends_at)


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
