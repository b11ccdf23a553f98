"""What a Messenger or Instagram message says and carries, read from Meta's webhook event.

Each attachment of type image, video, audio or file has a `payload.url` on Meta's CDN: it asks
for no credentials and expires after a while, so it becomes an attachment fetched at once by a
job (pawline.media_fetch), as an MMS's MediaUrlN does. A photo alone then has no words, as on
MMS, and the inbox reads "📷 Photo". Anything else (a location, a shared post, a story mention,
an attachment without a usable URL) is named by a placeholder ("[share]"), so a message
without text is never dropped.
"""

from dataclasses import dataclass

from pawline.inputs import storable as clean
from pawline.media import UNKNOWN_TYPE, Media, usable_url

TEXT_KEPT = 10_000  # Meta's own limit is 2,000 characters
ATTACHMENTS_READ = 10
# What each fetched type is taken for until its bytes are read: a photo's own bytes say which
# image it is (pawline.media.stored_type); for the others the CDN's Content-Type says.
FETCHED = {"image": "image/jpeg", "video": UNKNOWN_TYPE, "audio": UNKNOWN_TYPE,
           "file": UNKNOWN_TYPE}


@dataclass(frozen=True)
class Content:
    """The message's words (or placeholders) and the files to fetch."""

    text: str
    media: tuple[Media, ...] = ()


def _fetched(kind: str, payload) -> Media | None:
    url = payload.get("url") if isinstance(payload, dict) else None
    if kind not in FETCHED or not isinstance(url, str) or not usable_url(url):
        return None
    return Media(url, FETCHED[kind])


def content_of(message: dict) -> Content:
    """The message's text and files; with no text, a placeholder per attachment not fetched
    ("[location]"), or "[message without text]" when it carries nothing at all."""
    text = message.get("text")
    text = clean(text).strip()[:TEXT_KEPT] if isinstance(text, str) else ""
    attachments = message.get("attachments")
    items = [item for item in (attachments if isinstance(attachments, list) else ())
             [:ATTACHMENTS_READ] if isinstance(item, dict)]
    media, marks = [], []
    for item in items:
        kind = clean(str(item.get("type") or "attachment"))[:20]
        found = _fetched(kind, item.get("payload"))
        if found is None:
            marks.append(kind)
        else:
            media.append(found)
    if text:
        return Content(text, tuple(media))
    if message.get("sticker_id") is not None and not items:
        marks = ["sticker"]
    shown = " ".join(f"[{kind}]" for kind in marks)
    return Content(shown or ("" if media else "[message without text]"), tuple(media))
