"""Photos and documents a client sends on Telegram, fetched into our storage like MMS media.

A message's `photo` (the largest of its sizes) or `document` carries a `file_id`, which only the
bot that received it can use: getFile answers a `file_path`, downloaded within the hour from
`/file/bot<token>/<file_path>`. That URL holds the bot's token, a secret, so the attachment
keeps a reference without it, `telegram:<bot id>:<file_id>`, and the fetch job
(pawline.media_fetch) resolves it with the organization's bot at fetch time. The token then
lives only in memory: a failure's text has it replaced by the bot's id before it is logged or
stored. The bot's id in the reference makes a file received by a bot since replaced fail, in
words, instead of asking another bot for a file_id that is not its own.
"""

import re
from dataclasses import dataclass

from pawline import channel_accounts
from pawline.inputs import storable
from pawline.media import FILENAME_MAX, content_type
from pawline.media_fetch import Fetched, FetchError, MediaFetcher, too_large
from pawline.providers import PERMANENT, ProviderError
from pawline.secret_box import SecretUnreadable
from pawline.telegram import BotClient

PREFIX = "telegram:"
FILE_ID = re.compile(r"[A-Za-z0-9_-]{1,255}")
REFERENCE = re.compile(r"telegram:([0-9]{1,20}):([A-Za-z0-9_-]{1,255})")
# what getFile answers, e.g. photos/file_3.jpg; anything else is not asked for
FILE_PATH = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}(/[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127})*")
PHOTO_TYPE = "image/jpeg"  # Telegram re-encodes every photo as a JPEG


@dataclass(frozen=True)
class File:
    """A file of a Telegram message, as the message names it."""

    file_id: str
    content_type: str
    filename: str | None = None


def reference(bot_id: str, file_id: str) -> str:
    """The attachment's source for a file the bot received: no token in it."""
    return f"{PREFIX}{bot_id}:{file_id}"


def _size(item: dict, key: str) -> int:
    value = item.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _usable(item) -> bool:
    return isinstance(item, dict) and isinstance(item.get("file_id"), str) \
        and FILE_ID.fullmatch(item["file_id"]) is not None


def _name(value) -> str | None:
    """A name as PostgreSQL can keep it: no control characters, no lone surrogates."""
    return storable(value).strip()[:FILENAME_MAX] or None if isinstance(value, str) else None


# The other files a message can hold, each fetched the same way, and the type Telegram gives
# them when the message names none (a voice note is OGG/Opus, a round video and a GIF are MP4).
# A sticker is left a placeholder: it is Telegram's picture, not the client's.
OTHER_FILES = {"document": None, "video": "video/mp4", "animation": "video/mp4",
               "audio": "audio/mpeg", "voice": "audio/ogg", "video_note": "video/mp4"}


def files_of(message: dict) -> tuple[File, ...]:
    """The photo (its largest size) or other file of a message (a document, a video, a voice
    note...), if it has a usable file_id."""
    sizes = message.get("photo")
    sizes = [size for size in sizes if _usable(size)] if isinstance(sizes, list) else []
    if sizes:
        largest = max(sizes, key=lambda s: (_size(s, "width") * _size(s, "height"),
                                            _size(s, "file_size")))
        return (File(largest["file_id"], PHOTO_TYPE),)
    for kind, usual_type in OTHER_FILES.items():
        item = message.get(kind)
        if _usable(item):
            declared = _name(item.get("mime_type")) or usual_type
            return (File(item["file_id"], content_type(declared), _name(item.get("file_name"))),)
    return ()


def _failing(text: str, transient: bool):
    def fail() -> Fetched:
        raise FetchError(text, transient)

    return fail


def download(org_id: int, source: str, fetcher: MediaFetcher):
    """What fetches the file `source` names, when called (FetchError on failure): the
    organization's bot is read now, the file asked for and downloaded then."""
    match = REFERENCE.fullmatch(source)
    if match is None:
        return _failing("This is not a Telegram file reference.", False)
    try:
        account = channel_accounts.get(org_id, "telegram")
    except SecretUnreadable as error:  # the key may be put back: try again later
        return _failing(str(error), True)
    if account is None or not account.secret:
        return _failing("No Telegram bot is connected any more, so the file cannot be asked "
                        "for.", False)
    if account.account_id != match[1]:
        return _failing("The Telegram bot that received this file is no longer the one "
                        "connected; only it could fetch the file.", False)
    connect, read = fetcher.timeout
    client = BotClient(account.secret, api_base=fetcher.telegram_api_base,
                       connect_timeout=connect, read_timeout=read)
    return lambda: _fetch(client, match[2], fetcher)


def _fetch(client: BotClient, file_id: str, fetcher: MediaFetcher) -> Fetched:
    """getFile, then the download; a refusal of getFile is final, no answer is tried again."""
    try:
        found = client.get_file(file_id)
    except ProviderError as error:
        raise FetchError(f"Telegram's getFile failed: {client.redact(error.message)}",
                         error.kind != PERMANENT) from None
    if _size(found, "file_size") > fetcher.max_bytes:
        raise too_large(fetcher.max_bytes)
    path = found["file_path"]
    if not FILE_PATH.fullmatch(path) or ".." in path:
        raise FetchError("Telegram's getFile answered a file path we do not fetch.", False)
    try:
        return fetcher.get(client.file_url(path), credentials=False)
    except FetchError as error:  # its text may quote the URL, and the URL holds the token
        raise FetchError(client.redact(error.message), error.transient) from None
