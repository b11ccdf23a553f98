"""Delivering a stored outbound message: one attempt at a time, retried on a schedule.

A message is `queued` with a delivery job (pawline.jobs) that runs `attempt`. An attempt claims
the message with one conditional UPDATE (`queued` and no provider id -> `sending`) and commits
before the provider is called, so two workers can never both hand it over, and a message with a
provider id is never claimed again (Twilio has no idempotency key). The outcome decides what
follows, in the same commit that records it:
- accepted: the provider's id is stored (`sent`, or `queued` until its status callback);
- a transient failure (no connection, 429, 5xx): back to `queued` with the next try due after an
  exponential backoff with jitter, and a delivery job deferred for that time, for RETRY_FOR;
- a permanent refusal (invalid number, opted out, ...): `failed`, in the provider's words;
- no answer after the request left: `unconfirmed`. The provider may have the message, so it is
  never resent automatically; a person checks and chooses Send again or Cancel.
"""

import logging
import random
import time
from datetime import datetime, timedelta

import sqlalchemy as sa

# outbound as a module: it imports jobs, and jobs imports this module
from pawline import consent, jobs, media, outbound
from pawline.clock import utcnow
from pawline.db import db, run_sql
from pawline.errors import DomainError, NotFound
from pawline.models import Message, Thread
from pawline.providers import Provider, ProviderError

log = logging.getLogger("pawline.delivery")
RETRY_FOR = timedelta(hours=1)  # automatic retries stop this long after the message was queued
FIRST_BACKOFF = timedelta(seconds=5)
MAX_BACKOFF = timedelta(minutes=10)
OUTAGE_WAITS = (0, 0.5, 1, 2, 4, 8, 15)  # seconds: ~30 s covers a database restart
# The database is gone for now (a restart): through a PgBouncer, a server that died mid-statement
# can also read as an InternalError ("received 2 results from command 'COMMIT'").
DATABASE_GONE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.InternalError)
OPTED_OUT_CODE = "21610"  # Twilio: the phone texted STOP to this number
CHECK_FIRST = "Check with the client before sending it again."
WORKER_DIED = ("The worker stopped while handing this message to the provider, which may have "
               f"it. {CHECK_FIRST}")


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """How long to wait after the `attempts`-th failed try: doubling, capped, with jitter."""
    ceiling = min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** max(attempts - 1, 0))
    wait = ceiling * random.uniform(0.5, 1.0)  # jitter: retries of one outage spread out
    if retry_after:
        wait = max(wait, timedelta(seconds=retry_after))
    return wait


# The two statements every delivery runs, as fixed SQL on the session's connection (db.run_sql):
# through the ORM's bulk UPDATE they cost the worker more CPU than the rest of the job but the
# provider call (profiled under the throughput benchmark, docs/benchmarks.md).
CLAIM = """
    UPDATE message SET status = 'sending', status_updated_at = %(now)s,
        attempts = attempts + 1, next_attempt_at = NULL
    WHERE id = %(id)s AND direction = 'outbound' AND status = 'queued'
        AND provider_sid IS NULL
    RETURNING from_e164, to_e164, body, attempts, coalesce(queued_at, created_at) AS queued_at,
        org_id, thread_id, auto_reply, num_media, channel"""
OUTCOME = """
    UPDATE message SET status = %(status)s, provider_sid = coalesce(%(provider_sid)s, provider_sid),
        error_code = %(error_code)s, error_message = %(error_message)s,
        status_updated_at = %(status_updated_at)s, next_attempt_at = %(next_attempt_at)s
    WHERE id = %(id)s"""

# After an outage, the first send that goes through brings the other waiting retries forward,
# spread over RESUME_SPREAD so the provider is not hit all at once: recovery then takes as long
# as the backlog, not as long as the last message's backoff. Only retries move (a queued message
# that has been tried, with a next try), and SKIP LOCKED: it never waits for a job or a message
# another worker holds, so two workers doing this at once cannot deadlock.
RESUME_SPREAD = timedelta(seconds=2)
BRING_FORWARD = """
    WITH due AS (
        SELECT job.id AS job_id, message.id AS message_id
        FROM procrastinate_jobs job
        JOIN message ON message.id = (job.args ->> 'message_id')::bigint
        WHERE job.status = 'todo' AND job.task_name = 'deliver_message'
            AND job.scheduled_at > %(now)s + %(spread)s
            AND message.status = 'queued' AND message.attempts > 0
            AND message.next_attempt_at IS NOT NULL
        FOR UPDATE OF job, message SKIP LOCKED
    ), moved AS (
        UPDATE procrastinate_jobs job SET scheduled_at = %(now)s + random() * %(spread)s
        FROM due WHERE job.id = due.job_id
        RETURNING due.message_id, job.scheduled_at
    )
    UPDATE message SET next_attempt_at = moved.scheduled_at
    FROM moved WHERE message.id = moved.message_id"""


def _update(message_id: int, **values) -> None:
    db.session.execute(sa.update(Message).where(Message.id == message_id).values(**values))


def attempt(message_id: int, provider: Provider, status_callback: str | None = None,
            now: datetime | None = None, media_link=None) -> str:
    """Hand a queued message to the provider once; answer the status it is left in.

    `provider` is the SMS provider; a message on another channel goes through that channel's
    sender (pawline.channels.sender_for; WhatsApp wraps the SMS provider).

    A message with photos goes with one URL per photo, `media_link(attachment_id)`: a signed,
    expiring address the provider fetches it from (pawline.media).
    """
    now = now or utcnow()
    try:
        claimed = run_sql(CLAIM, {"id": message_id, "now": now}).fetchone()
        db.session.commit()
    except DATABASE_GONE:  # the claim's commit may have landed or not: nothing was sent
        return _put_back(message_id, status_callback)
    if claimed is None:
        return _not_claimed(message_id, now)
    # Held until the outcome is committed: a STOP arriving now is stored after this send.
    # Consent is SMS's: other channels' platforms keep their own (docs/design.md, Channels).
    try:
        sms = claimed.channel == "sms"
        opt_out = consent.hold(claimed.org_id, claimed.to_e164) if sms else None
    except DATABASE_GONE:
        return _put_back(message_id, status_callback)  # nothing was sent: not `unconfirmed`
    if opt_out is not None and claimed.auto_reply != "help":
        _update(message_id, status="canceled", attempts=Message.attempts - 1,
                error_message=consent.not_sent_note(opt_out, claimed.org_id),
                status_updated_at=utcnow())
        db.session.commit()
        return "canceled"
    try:
        extra = {"media_urls": _media_urls(message_id, media_link)} if claimed.num_media else {}
        from pawline import channels  # it imports inbound, which imports this module

        sender = channels.sender_for(claimed.channel, claimed.org_id, provider)
        sent = sender.send(from_e164=claimed.from_e164, to_e164=claimed.to_e164,
                             body=claimed.body, status_callback=status_callback, **extra)
    except ProviderError as error:
        log.warning("message %s: %s failure (%s): %s", message_id, error.kind, error.code,
                    error.detail)  # the raw text (ids, hosts) stays in the logs
        values, due = _after_failure(error, claimed.attempts, claimed.queued_at)
    else:
        status = "sent" if sent.status in ("sent", "delivered") else "queued"
        values, due = {"status": status, "provider_sid": sent.sid, "error_code": None,
                       "error_message": None, "status_updated_at": utcnow()}, None

    def record():
        run_sql(OUTCOME, {"provider_sid": None, "next_attempt_at": due, **values,
                          "id": message_id})
        if values.get("error_code") == OPTED_OUT_CODE and claimed.channel == "sms":
            consent.change(claimed.org_id, claimed.thread_id, claimed.to_e164, True, "provider",
                           message_id=message_id, now=values["status_updated_at"])
        if due is not None:
            jobs.defer_delivery(message_id, status_callback, at=due)
        elif "provider_sid" in values and claimed.attempts > 1:  # through after failing
            run_sql(BRING_FORWARD, {"now": utcnow(), "spread": RESUME_SPREAD})

    _write_through_outages(record)
    return values["status"]


def _put_back(message_id: int, status_callback: str | None) -> str:
    """The database failed at the claim or between the claim and the hand-over: nothing was
    sent, so the message is queued again (if its claim landed) and a job tried later.

    Only this run can have left it `sending` without a provider id: a message's delivery jobs
    share a procrastinate lock, which this run holds."""
    db.session.rollback()
    due = utcnow() + backoff(1)

    def put_back():
        db.session.execute(
            sa.update(Message).where(Message.id == message_id, Message.status == "sending",
                                     Message.provider_sid.is_(None))
            .values(status="queued", attempts=Message.attempts - 1, next_attempt_at=due))
        jobs.defer_delivery(message_id, status_callback, at=due)

    _write_through_outages(put_back)
    return "queued"


def _media_urls(message_id: int, media_link) -> tuple[str, ...]:
    """The signed URLs of a message's photos; a refusal if they cannot be given."""
    try:
        if media_link is None:
            raise media.MediaNotConfigured("No address to send the photos from.")
        return tuple(media_link(attachment_id) for attachment_id in media.media_ids(message_id))
    except media.MediaNotConfigured as error:
        raise ProviderError(error.message, kind="permanent") from None


def _after_failure(error: ProviderError, attempts: int, queued_at: datetime):
    """The message's new values after a failed try, and when to try again (or None)."""
    after = utcnow()
    values = {"error_code": error.code, "error_message": error.message,
              "status_updated_at": after}
    if error.kind == "unknown":
        values.update(status="unconfirmed", error_message=f"{error.message} {CHECK_FIRST}")
        return values, None
    if error.kind == "transient" and after - queued_at < RETRY_FOR:
        due = after + backoff(attempts, error.retry_after)
        values.update(status="queued", next_attempt_at=due)
        return values, due
    gave_up = f"Gave up after {attempts} tries: " if error.kind == "transient" else ""
    values.update(status="failed", error_message=gave_up + error.message)
    return values, None


def _write_through_outages(write) -> None:
    """Commit what the provider answered, retrying while the database is unreachable.

    The provider has acted: losing its answer to a restart would leave the message `sending`
    and, after recovery, `unconfirmed`, when we knew it was sent.
    """
    for wait in OUTAGE_WAITS:
        time.sleep(wait)
        try:
            write()
            db.session.commit()
            return
        except DATABASE_GONE as error:
            db.session.rollback()
            log.warning("recording a send outcome failed (%s); trying again", error.orig)
    write()
    db.session.commit()


def _not_claimed(message_id: int, now: datetime) -> str | None:
    """Sent already, canceled, or left `sending` by a worker that died mid-call.

    A message's delivery jobs share a procrastinate lock, so they never run at once: finding
    it `sending` means an earlier run was cut off, and the provider may have it.
    """
    cut_off = db.session.execute(
        sa.update(Message)
        .where(Message.id == message_id, Message.status == "sending",
               Message.provider_sid.is_(None))
        .values(status="unconfirmed", error_message=WORKER_DIED, status_updated_at=now)
    ).rowcount
    db.session.commit()
    if cut_off:
        return "unconfirmed"
    return db.session.scalar(sa.select(Message.status).where(Message.id == message_id))


def _outbound(org_id: int, thread_id: int, message_id: int) -> Message:
    """The thread's own outbound message, locked; another thread's id is not found."""
    message = db.session.scalar(
        sa.select(Message).where(Message.id == message_id, Message.org_id == org_id,
                                 Message.thread_id == thread_id, Message.direction == "outbound")
        .with_for_update())
    if message is None:
        raise NotFound("No such message.")
    return message


def can_retry(message: Message) -> bool:
    """Failed, or cut off mid-send (a person has checked): never one the provider accepted."""
    return message.provider_sid is None and message.status in ("failed", "unconfirmed")


def can_cancel(message: Message) -> bool:
    """Not yet with the provider: waiting for a (re)try, failed, or cut off."""
    return message.provider_sid is None and message.status in ("queued", "failed",
                                                                "unconfirmed")


def retry_message(org_id: int, thread_id: int, message_id: int,
                  status_callback: str | None = None, now: datetime | None = None) -> None:
    """A person sends a failed or cut-off message again: queued now, with a fresh retry window."""
    now = now or utcnow()
    message = _outbound(org_id, thread_id, message_id)
    if not can_retry(message):
        raise DomainError("Only a failed message, or one whose send was cut off, can be sent "
                          "again.")
    # HELP is answered whatever the phone's consent; consent is SMS's (docs/design.md)
    if message.auto_reply != "help" and message.channel == "sms":
        thread = db.session.get(Thread, thread_id)
        outbound.refuse_if_opted_out(
            org_id, message.to_e164, lambda: outbound.client_name(org_id, thread.client_id))
    _update(message_id, status="queued", queued_at=now, next_attempt_at=None,
            status_updated_at=now)
    jobs.defer_delivery(message_id, status_callback)
    db.session.commit()


def cancel_message(org_id: int, thread_id: int, message_id: int,
                   now: datetime | None = None) -> None:
    """A person stops a message the provider does not have; a job that comes later skips it."""
    now = now or utcnow()
    message = _outbound(org_id, thread_id, message_id)
    if not can_cancel(message):
        raise DomainError("This message is already with the provider and cannot be canceled.")
    _update(message_id, status="canceled", next_attempt_at=None, status_updated_at=now)
    db.session.commit()
