"""A generous per-sender limit on webhooks, so one sender's flood cannot starve staff pages.

Each webhook view is wrapped in `limit_per_sender`: a request past WEBHOOK_REQUESTS_PER_MINUTE
(default 120) from its sender within the minute is answered 429 with Retry-After and stores
nothing. The count is one upsert in PostgreSQL (pawline.rate_limits), shared by every worker.

Twilio does not retry an inbound-SMS webhook that fails: a 429 loses that message for us (it
stays in Twilio's message log, and goes to the number's fallback URL if one is set). Hence:

- Per sender, never per address for Twilio: Twilio calls from a few shared addresses, so a
  per-address limit would refuse every client's messages at once. The sender is the `From` of
  an inbound SMS and the `To` (the client) of a status callback, read after the blueprint has
  checked Twilio's signature, so nobody can spend a client's allowance by writing its number.
  Other webhooks (the booking system) count per client address, as ProxyFix gives it.
- Generous: far above what a person texts in a minute. What reaches it is a loop (an
  auto-responder answering ours) or a flood, and only that sender is refused.
- Every refusal is logged as a warning naming the sender: each may be a message to look up.
- The count commits before the view runs, so it stands whatever the view answers (the booking
  webhook counts unsigned requests it then refuses). Twilio's webhooks, whose views always
  commit or keep a dead letter, pass `with_the_view=True`: the count then commits with what the
  view stores, one transaction a message instead of two (bench/: a third of the request's cost).
  A message kept as a dead letter is counted again after its attempt's rollback; a request
  that ends in an error, or a retried delivery that stores nothing, leaves no count, having
  done no lasting work; the sender's counter row stays locked until the commit,
  so one sender's messages take turns, as they do on its thread anyway.
"""

import logging
from collections.abc import Callable
from datetime import timedelta
from functools import wraps

from flask import current_app, request

from pawline import rate_limits
from pawline.clock import utcnow
from pawline.db import db
from pawline.inputs import scrub

log = logging.getLogger("pawline.webhooks")
WINDOW = timedelta(minutes=1)
MAX_KEY = 200  # characters of a sender kept as its key


def _no_sender() -> None:
    return None


def limit_per_sender(scope: str, sender: Callable[[], str | None] = _no_sender, *,
                     with_the_view: bool = False):
    """Refuse a webhook request past the limit for its sender (`sender()`, or the client
    address when that gives nothing) in `scope`; otherwise run the view. `with_the_view`: the
    view commits the count (see above)."""

    def decorate(view):
        @wraps(view)
        def limited(*args, **kwargs):
            key = _key((sender() or "").strip())
            refusal = _refusal(scope, key)
            if refusal is not None:
                return refusal
            if not with_the_view:
                db.session.commit()  # the count stands, whatever the view does next
                return view(*args, **kwargs)
            response = current_app.make_response(view(*args, **kwargs))
            if response.status_code >= 400:  # a dead letter rolled its attempt back, count too
                _count(scope, key)
                db.session.commit()
            return response

        return limited

    return decorate


def _key(sender: str) -> str:
    return scrub(sender[:MAX_KEY]) or f"address {rate_limits.address_key(request.remote_addr)}"


def _count(scope: str, key: str) -> rate_limits.Count:
    limit, now = current_app.config["WEBHOOK_REQUESTS_PER_MINUTE"], utcnow()
    return rate_limits.count(f"webhook {scope}", key, limit, WINDOW, now)


def _refusal(scope: str, key: str):
    counted = _count(scope, key)
    if not counted.over:
        return None
    db.session.commit()  # a refusal stores nothing else: its count stands alone
    wait = counted.retry_after(utcnow())
    log.warning("Webhook %s refused with 429, nothing stored: %s sent %d requests this minute "
                "(limit %d)", scope, key, counted.hits, counted.limit)
    return (f"Too many requests from this sender. Try again in {wait} seconds.\n", 429,
            {"Retry-After": str(wait), "Content-Type": "text/plain; charset=utf-8"})
