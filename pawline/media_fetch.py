"""Fetching the files clients send into our own storage: one job per attachment.

Twilio's media URLs ask for the account's credentials (HTTP basic auth) and can be deleted,
Meta's CDN URLs expire, Telegram keeps a file behind the bot's token: so each file is copied
into its attachment row. A Telegram file is named by a token-free reference, resolved at
fetch time with the organization's bot (pawline.telegram_files).

A fetch is bounded: a connect and a read timeout, a total time, and a size cap checked against
Content-Length and again while reading. Twilio's credentials go only to the Twilio API's own
host (Twilio answers with a redirect to its CDN, and requests drops the Authorization header
when a redirect leaves the host); any other URL, as the phone simulator's or Meta's CDN, is
fetched without them.

The outcome is recorded like a delivery's (pawline.delivery): fetched, with the size and the
SHA-256 of the bytes; a transient failure (no connection, timeout, 429, 5xx) tried again after
a growing wait, up to MAX_ATTEMPTS; a permanent one (404, 401, too large) failed, saying why.
"""

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import requests
import sqlalchemy as sa

from pawline import delivery, images
from pawline.clock import utcnow
from pawline.db import db
from pawline.media import UNKNOWN_TYPE, content_type, stored_type
from pawline.media_models import MAX_FILE_BYTES, Attachment

log = logging.getLogger("pawline.media")
MAX_ATTEMPTS = 8  # waits of 5 s doubling to 10 min: about 20 minutes in all
TWILIO_API_HOST = "api.twilio.com"
CHUNK = 64 * 1024


class FetchError(Exception):
    """A fetch that failed; `transient` says whether trying again later may work."""

    def __init__(self, message: str, transient: bool):
        super().__init__(message)
        self.message = message
        self.transient = transient


@dataclass(frozen=True)
class Fetched:
    data: bytes
    content_type: str


class MediaFetcher:
    """Downloads media with the account's credentials, within time and size limits."""

    def __init__(self, account_sid: str, auth_token: str, *, api_base_url: str = "",
                 connect_timeout: float = 5.0, read_timeout: float = 15.0,
                 total_timeout: float = 60.0, max_bytes: int = MAX_FILE_BYTES,
                 telegram_api_base: str = ""):
        self.auth = (account_sid, auth_token) if account_sid and auth_token else None
        # the hosts that may see the credentials: Twilio's API (or the fake standing in for it)
        self.credential_hosts = {TWILIO_API_HOST}
        if api_base_url:
            self.credential_hosts.add(urlsplit(api_base_url).netloc)
        self.timeout = (connect_timeout, read_timeout)
        self.total_timeout = total_timeout
        self.max_bytes = max_bytes
        self.telegram_api_base = telegram_api_base  # getFile and downloads of Telegram files
        self.session = requests.Session()

    def get(self, url: str, *, credentials: bool = True) -> Fetched:
        """The file at `url`, or FetchError; Twilio's credentials only to its host, if asked."""
        to_twilio = credentials and urlsplit(url).netloc in self.credential_hosts
        auth = self.auth if to_twilio else None
        started = time.monotonic()
        try:
            with self.session.get(url, auth=auth, timeout=self.timeout, stream=True) as answer:
                _check_status(answer.status_code)
                declared = int(answer.headers.get("Content-Length") or 0)
                if declared > self.max_bytes:
                    raise too_large(self.max_bytes)
                data = self._read(answer, started)
                return Fetched(data, answer.headers.get("Content-Type", ""))
        except requests.exceptions.InvalidURL as error:
            raise FetchError(f"The media address is not valid ({error}).", False) from None
        except requests.exceptions.RequestException as error:
            raise FetchError(f"The media could not be downloaded: {type(error).__name__}.",
                             True) from None

    def _read(self, answer, started: float) -> bytes:
        data = bytearray()
        for chunk in answer.iter_content(CHUNK):
            data += chunk
            if len(data) > self.max_bytes:
                raise too_large(self.max_bytes)
            if time.monotonic() - started > self.total_timeout:
                raise FetchError(f"The download took over {self.total_timeout:g} s.", True)
        if not data:
            raise FetchError("The media file is empty.", False)
        return bytes(data)


def _check_status(status: int) -> None:
    if status == 200:
        return
    transient = status in (408, 425, 429) or status >= 500
    raise FetchError(f"The media server answered HTTP {status}.", transient)


def too_large(limit: int) -> FetchError:
    return FetchError(f"The file is larger than {limit // (1024 * 1024)} MB.", False)


def fetcher_from_config(config) -> MediaFetcher:
    return MediaFetcher(config.get("TWILIO_ACCOUNT_SID", ""), config.get("TWILIO_AUTH_TOKEN", ""),
                        api_base_url=config.get("TWILIO_API_BASE_URL", ""),
                        connect_timeout=config.get("SMS_CONNECT_TIMEOUT", 5.0),
                        read_timeout=config.get("MEDIA_READ_TIMEOUT", 15.0),
                        telegram_api_base=config.get("TELEGRAM_API_BASE", ""))


def fetch(attachment_id: int, fetcher: MediaFetcher, defer_retry,
          now: datetime | None = None) -> str | None:
    """Fetch one pending attachment; answer the status it is left in (None: no such row).

    `defer_retry(attachment_id, at)` queues the next try in the transaction that records this
    one (pawline.jobs.defer_fetch).
    """
    pending = db.session.execute(
        sa.select(Attachment.source_url, Attachment.content_type, Attachment.attempts,
                  Attachment.org_id)
        .where(Attachment.id == attachment_id, Attachment.status == "pending")).first()
    download = _download(pending.org_id, pending.source_url, fetcher) if pending else None
    db.session.commit()  # no transaction stays open while the file downloads
    if pending is None:
        return db.session.scalar(sa.select(Attachment.status)
                                 .where(Attachment.id == attachment_id))
    declared, attempts = pending.content_type, pending.attempts + 1
    try:
        fetched = download()
    except FetchError as error:
        log.warning("attachment %s: fetch %d failed: %s", attachment_id, attempts, error)
        return _failed(attachment_id, attempts, error, defer_retry)
    if declared == UNKNOWN_TYPE:  # nothing said at intake (a Meta file): the server's word
        declared = content_type(fetched.content_type)
    data = fetched.data
    kind = stored_type(data, declared)
    small = images.thumbnail(data) if kind.startswith("image/") else None
    _record(attachment_id, status="fetched", data=data, size_bytes=len(data),
            sha256=hashlib.sha256(data).digest(), attempts=attempts, error=None,
            next_attempt_at=None, content_type=kind, thumbnail=small,
            updated_at=now or utcnow())
    return "fetched"


def _download(org_id: int, source: str, fetcher: MediaFetcher):
    """What fetches the file `source` names, when called: a URL as it is, a Telegram file
    through the organization's bot (read now, in the caller's transaction)."""
    from pawline import telegram_files  # it builds on this module's fetcher and errors

    if source.startswith(telegram_files.PREFIX):
        return telegram_files.download(org_id, source, fetcher)
    return lambda: fetcher.get(source)


def _failed(attachment_id: int, attempts: int, error: FetchError, defer_retry) -> str:
    now = utcnow()
    if error.transient and attempts < MAX_ATTEMPTS:
        due = now + delivery.backoff(attempts)
        _record(attachment_id, attempts=attempts, error=error.message, next_attempt_at=due,
                updated_at=now, then=lambda: defer_retry(attachment_id, due))
        return "pending"
    gave_up = f"Gave up after {attempts} tries: " if error.transient else ""
    _record(attachment_id, status="failed", attempts=attempts, error=gave_up + error.message,
            next_attempt_at=None, updated_at=now)
    return "failed"


def _record(attachment_id: int, then=None, **values) -> None:
    """Write the outcome, only onto a row still pending (a second job finds it done)."""
    db.session.execute(sa.update(Attachment)
                       .where(Attachment.id == attachment_id, Attachment.status == "pending")
                       .values(**values))
    if then is not None:
        then()
    db.session.commit()
