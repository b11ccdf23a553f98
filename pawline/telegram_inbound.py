"""A Telegram Update, as the Bot API posts it to our webhook, into the client's one thread.

Only `message` updates carry what a client wrote; any other kind (edited_message, a channel
post, a callback...) is answered and ignored, as the webhook only asks for messages. A photo or
other file (a document, a video, a voice note...) becomes an attachment fetched by a job
(pawline.telegram_files), its caption the message's words, as an MMS's; any other message
without text (a sticker, a location) is stored as a short placeholder ("[sticker]",
"[location] its caption") so staff see that the client wrote, never dropped. The chat's id is the
identity (client_identity, channel telegram); the update_id, prefixed with the bot's id, is the
message's provider_sid, so a redelivered update changes nothing (I6).
"""

from dataclasses import dataclass

from pawline import channels, telegram_files
from pawline.inbound import InboundResult
from pawline.inputs import BIGINT_MAX, storable
from pawline.media import Media
from pawline.telegram_files import File

# What a message holds instead of text, in the order a placeholder names it (Bot API Message).
KINDS = ("photo", "sticker", "animation", "video", "video_note", "voice", "audio", "document",
         "location", "venue", "contact", "poll", "dice", "game", "story")
NAME_KEPT = 100


class BadUpdate(ValueError):
    """The body is not an Update we can read; the message says what is wrong."""


@dataclass(frozen=True)
class Incoming:
    update_id: int
    chat_id: str
    text: str
    display_name: str | None
    files: tuple[File, ...] = ()


def _int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value) -> str:
    return storable(value).strip() if isinstance(value, str) else ""


def display_name(message: dict) -> str | None:
    """The sender as Telegram shows them: first and last name, else @username; a group's
    title for a group chat."""
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    if chat.get("type") in ("group", "supergroup", "channel") and _text(chat.get("title")):
        return _text(chat.get("title"))[:NAME_KEPT]
    sender = message.get("from") if isinstance(message.get("from"), dict) else chat
    name = " ".join(part for part in (_text(sender.get("first_name")),
                                      _text(sender.get("last_name"))) if part)
    if not name and _text(sender.get("username")):
        name = "@" + _text(sender.get("username"))
    return name[:NAME_KEPT] or None


def body_of(message: dict, files: tuple[File, ...] = ()) -> str:
    """The message's text; with `files` (its photo or document, fetched) their caption, even
    empty, as an MMS's; else a placeholder naming what it holds, with its caption."""
    text = _text(message.get("text"))
    if text:
        return text
    caption = _text(message.get("caption"))
    if files:
        return caption
    kind = next((kind for kind in KINDS if message.get(kind) is not None), None)
    shown = f"[{(kind or 'message').replace('_', ' ')}]"
    return f"{shown} {caption}" if caption else shown


def parse_update(payload) -> Incoming | None:
    """The message an Update carries, None for an update of another kind, or BadUpdate."""
    if not isinstance(payload, dict):
        raise BadUpdate("The body must be a JSON object (an Update).")
    update_id = payload.get("update_id")
    if not _int(update_id) or not 0 <= update_id <= BIGINT_MAX:
        raise BadUpdate("update_id must be a whole number.")
    message = payload.get("message")
    if message is None:
        return None  # edited_message, channel_post, my_chat_member...: not a client writing
    if not isinstance(message, dict):
        raise BadUpdate("message must be an object.")
    chat = message.get("chat")
    chat_id = chat.get("id") if isinstance(chat, dict) else None
    if not _int(chat_id) or not -BIGINT_MAX <= chat_id <= BIGINT_MAX:
        raise BadUpdate("message.chat.id must be a whole number.")
    files = telegram_files.files_of(message)
    return Incoming(update_id, str(chat_id), body_of(message, files), display_name(message),
                    files)


def receive_update(org_id: int, bot_id: str, payload) -> InboundResult | None:
    """Store the Update's message in its client's thread (None when it carries none); commit.

    Raises BadUpdate for a body that is no Update, DomainError for a chat id the identity
    refuses."""
    incoming = parse_update(payload)
    if incoming is None:
        return None
    return channels.receive(
        org_id, "telegram", incoming.chat_id, incoming.text, provider="telegram",
        provider_sid=f"{bot_id}:{incoming.update_id}", to_address=str(bot_id),
        display_name=incoming.display_name,
        media_items=tuple(Media(telegram_files.reference(bot_id, f.file_id), f.content_type,
                                f.filename) for f in incoming.files))
