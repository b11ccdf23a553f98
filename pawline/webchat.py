"""The web chat widget: an organization's public widget key, the origins allowed to frame it,
what a visitor posts and what a visitor may read back.

A visitor is an identity of the `webchat` channel (I15): a random id the widget keeps in its
own storage on our origin, sent with every request. No cookie is involved, so the id is the
visitor's only proof, and a visitor reads back only what concerns that id: their own inbound
messages and the replies addressed to it (`to_e164`), never the rest of the client's thread
(notes, SMS, another visitor who gave the same phone).
"""

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from pawline import audit, channel_accounts, channels
from pawline.channel_accounts import Account
from pawline.channel_models import ChannelAccount
from pawline.clock import utcnow
from pawline.db import db
from pawline.errors import DomainError
from pawline.inbound import InboundResult
from pawline.models import Message
from pawline.providers import Sent
from pawline.threads import add_event

CHANNEL = "webchat"
PROVIDER = "webchat"
VISITOR_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")  # the identity's address shape (I15)
MESSAGE_ID_PATTERN = VISITOR_PATTERN  # the widget's per-message id (a uuid, or random)
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
OFF = "off"  # the settings key of a widget turned off
MAX_ORIGINS = 20
PAGE = 100  # messages per poll at most; the widget asks again for the rest
# Replies not yet handed over: a poll's cursor stays below the first of them, so none is skipped.
PENDING = ("queued", "sending", "unconfirmed")
SHOWN = ("received", "sent", "delivered")
# Ids are taken at insert and seen at commit: a row of a smaller id may commit a moment after a
# larger one. The cursor stays below rows younger than this, so none is skipped; the widget
# skips the ids it has already shown.
SETTLE = timedelta(seconds=10)


# --- the account ----------------------------------------------------------------------------

def new_key() -> str:
    """A public widget key: unguessable, so nobody names a widget the owner did not publish."""
    return secrets.token_urlsafe(18)


def account(org_id: int) -> Account | None:
    return channel_accounts.get(org_id, CHANNEL)


def by_key(key: str) -> Account | None:
    """The widget a key names, whichever organization owns it; None for any other string and
    for a widget turned off (its key then answers as an unknown one: nothing is stored)."""
    if not KEY_PATTERN.match(key or ""):
        return None
    widget = channel_accounts.by_account(CHANNEL, key)
    return widget if widget is not None and is_on(widget) else None


def is_on(widget: Account) -> bool:
    """Off is `"off": true` in the account's settings: a state of the widget alone, so no
    column every other channel would carry unused, and by_account stays as it is for them."""
    return widget.settings.get(OFF) is not True


def allowed_origins(widget: Account) -> list[str]:
    return [o for o in widget.settings.get("allowed_origins", []) if isinstance(o, str)]


def frame_ancestors(widget: Account) -> str:
    """The CSP directive for the chat page: only the owner's origins may frame it; none listed
    is 'none' (the widget works nowhere until the owner names a site)."""
    origins = [o for o in allowed_origins(widget) if _origin_or_none(o) == o]
    return "frame-ancestors " + (" ".join(origins) if origins else "'none'")


def turn_on(org_id: int, actor_user_id: int | None) -> Account:
    """The organization's widget, made with a fresh key if it has none, or on again with the
    key it had (the tag already pasted works again); commit.

    One INSERT .. ON CONFLICT DO NOTHING: two owners turning it on at once get one key (an
    upsert would let the second replace the key the first may already have pasted)."""
    now, key = utcnow(), new_key()
    made = db.session.execute(insert(ChannelAccount).values(
        org_id=org_id, channel=CHANNEL, account_id=key, display_name="Web chat",
        settings={"allowed_origins": []}, created_at=now, updated_at=now,
    ).on_conflict_do_nothing(index_elements=["org_id", "channel"])
        .returning(ChannelAccount.id)).scalar()
    if made is not None:  # as channel_accounts.save records it: the same sentence on Audit
        audit.record(org_id, actor_user_id, "channel_account.saved", "channel_account", made,
                     {"channel": CHANNEL, "account_id": key, "secret_changed": False,
                      "settings": ["allowed_origins"]}, now=now)
    else:
        _switch(org_id, actor_user_id, on=True, now=now)
    db.session.commit()
    return account(org_id)


def turn_off(org_id: int, actor_user_id: int | None) -> Account | None:
    """Stop the widget: its script, chat page, posts and polls answer 404 and store nothing;
    the key is kept for turning it on again. Conversations stay in the inbox. Commit."""
    _switch(org_id, actor_user_id, on=False, now=utcnow())
    db.session.commit()
    return account(org_id)


def _switch(org_id: int, actor_user_id: int | None, on: bool, now) -> None:
    """Set or clear the off flag in one UPDATE that changes only that key of the settings (a
    sites list saved at the same moment is kept), audited only if the state changed."""
    settings = ChannelAccount.settings
    changed = db.session.execute(
        sa.update(ChannelAccount)
        .where(ChannelAccount.org_id == org_id, ChannelAccount.channel == CHANNEL,
               settings[OFF].as_boolean().is_(True) if on
               else settings[OFF].as_boolean().is_not(True))
        .values(settings=settings.op("-")(sa.cast(OFF, sa.Text)) if on else settings.op("||")(
            sa.func.jsonb_build_object(sa.cast(OFF, sa.Text), sa.true())), updated_at=now)
        .returning(ChannelAccount.id, ChannelAccount.account_id)).first()
    if changed is not None:
        audit.record(org_id, actor_user_id, "channel_account.turned_on" if on
                     else "channel_account.turned_off", "channel_account", changed.id,
                     {"channel": CHANNEL, "account_id": changed.account_id}, now=now)


def replace_key(org_id: int, actor_user_id: int | None) -> Account:
    """A new random key, in one statement: the old tag stops working at once (an unknown key,
    404). Visitors keep their identities and threads: those hang on the visitor id, never on
    the key. The row is locked as it is read (FOR UPDATE), so of two owners replacing at once
    each audit line names the key it truly retired. Commit."""
    now, key = utcnow(), new_key()
    replaced = db.session.execute(sa.text("""
        WITH old AS (SELECT id, account_id FROM channel_account
                     WHERE org_id = :org AND channel = :channel FOR UPDATE)
        UPDATE channel_account new SET account_id = :key, updated_at = :now
        FROM old WHERE new.id = old.id
        RETURNING new.id, old.account_id AS old_key"""),
        {"key": key, "now": now, "org": org_id, "channel": CHANNEL}).first()
    if replaced is None:
        raise DomainError("Turn the web chat widget on first.", "key")
    audit.record(org_id, actor_user_id, "channel_account.key_replaced", "channel_account",
                 replaced.id, {"channel": CHANNEL, "account_id": key,
                               "old_account_id": replaced.old_key}, now=now)
    db.session.commit()
    return account(org_id)


def save_origins(org_id: int, text: str, actor_user_id: int | None) -> Account:
    """Replace the origins allowed to frame the widget (one a line or comma-separated); commit.

    One UPDATE of that settings key alone: a key replaced or the widget turned off at the
    same moment stays so (rewriting the row as read a moment before would bring an old key
    back to life)."""
    origins = parse_origins(text)
    now = utcnow()
    settings = ChannelAccount.settings
    saved = db.session.execute(
        sa.update(ChannelAccount)
        .where(ChannelAccount.org_id == org_id, ChannelAccount.channel == CHANNEL)
        .values(settings=settings.op("||")(sa.func.jsonb_build_object(
            sa.cast("allowed_origins", sa.Text), sa.func.to_jsonb(
                sa.cast(origins, sa.ARRAY(sa.Text))))), updated_at=now)
        .returning(ChannelAccount.id, ChannelAccount.account_id)).first()
    if saved is None:
        raise DomainError("Turn the web chat widget on first.", "origins")
    audit.record(org_id, actor_user_id, "channel_account.saved", "channel_account", saved.id,
                 {"channel": CHANNEL, "account_id": saved.account_id, "secret_changed": False,
                  "settings": ["allowed_origins"]}, now=now)
    db.session.commit()
    return account(org_id)


def parse_origins(text: str) -> list[str]:
    """Origins as CSP wants them: scheme://host[:port], lowercase, no path, no wildcard.

    Wildcards (https://*.example.com) are refused on purpose: CSP would accept them, but a
    wildcard lets every subdomain frame the chat, including ones serving other people's pages;
    the owner lists each site instead."""
    origins: list[str] = []
    for raw in re.split(r"[\s,]+", text or ""):
        if not raw:
            continue
        if "*" in raw:
            raise DomainError(f"{raw[:80]}: no wildcards; list each site, such as "
                              "https://www.example.com.", "origins")
        origin = _origin_or_none(raw.removesuffix("/"))
        if origin is None:
            raise DomainError(f"{raw[:80]}: write a site as https://example.com (a scheme "
                              "and a host, a port if any, no path).", "origins")
        if origin not in origins:
            origins.append(origin)
    if len(origins) > MAX_ORIGINS:
        raise DomainError(f"At most {MAX_ORIGINS} sites.", "origins")
    return origins


def _origin_or_none(text: str) -> str | None:
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if (parts.scheme.lower() not in ("http", "https") or not host or parts.path
            or parts.query or parts.fragment or parts.username or parts.password
            or "@" in parts.netloc or not re.fullmatch(r"[a-z0-9.-]+|\[[0-9a-f:.]+\]",
                                                        _bracketed(host))):
        return None
    return f"{parts.scheme.lower()}://{_bracketed(host)}" + (f":{port}" if port else "")


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


# --- a visitor ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Details:
    """What a visitor may leave: all optional, already checked by the form."""
    name: str = ""
    phone: str = ""
    email: str = ""


def post(widget: Account, visitor: str, message_id: str, body: str,
         details: Details = Details()) -> InboundResult:
    """Store a visitor's message in their client's one thread; a retried post (same message
    id) stores nothing again. A phone links the visitor to the client owning it."""
    sid = f"{widget.account_id}:{visitor}:{message_id}"
    result = channels.receive(widget.org_id, CHANNEL, visitor, body, provider=PROVIDER,
                              provider_sid=sid, to_address=widget.account_id,
                              display_name=details.name or None)
    if details.phone:  # on a repeat too: a post whose linking failed is retried whole
        channels.link_phone(widget.org_id, CHANNEL, visitor, details.phone)
    if (details.email or details.name) and not result.duplicate:
        _note_details(widget.org_id, visitor, details)
    return result


def _note_details(org_id: int, visitor: str, details: Details) -> None:
    """A name or email the visitor left, as a line in the timeline for staff (a name the
    client already bears, as a guest named by their first message, is not repeated)."""
    thread_id, client_name = db.session.execute(sa.text("""
        SELECT t.id, c.name FROM client_identity i
        JOIN thread t ON t.client_id = i.client_id AND t.org_id = i.org_id
        JOIN client c ON c.id = i.client_id AND c.org_id = i.org_id
        WHERE i.org_id = :org AND i.channel = 'webchat' AND i.address = :visitor"""),
        {"org": org_id, "visitor": visitor}).one()
    left = [x for x in (details.name, details.email) if x and x != client_name]
    if left:
        add_event(org_id, thread_id, "visitor_details",
                  f"Web chat visitor left: {', '.join(left)}")
        db.session.commit()


def _thread_of(org_id: int, visitor: str) -> int | None:
    return db.session.scalar(sa.text("""
        SELECT t.id FROM client_identity i JOIN thread t
          ON t.client_id = i.client_id AND t.org_id = i.org_id
        WHERE i.org_id = :org AND i.channel = 'webchat' AND i.address = :visitor"""),
        {"org": org_id, "visitor": visitor})


def messages(widget: Account, visitor: str, after: int = 0) -> tuple[list[dict], int]:
    """What the visitor may see after message id `after`, oldest first, and the next cursor.

    Only this organization's webchat messages from this visitor or addressed to them, read in
    their thread through (thread_id, id) (ix_message_thread_id_id): a poll every few seconds
    never scans the table. A reply still being handed over keeps the cursor below it, so it
    is shown once sent; what follows it is shown meanwhile (the widget skips ids it has), so a
    stopped worker never hides the visitor's own words."""
    thread_id = _thread_of(widget.org_id, visitor)
    if thread_id is None:
        return [], after
    mine = sa.and_(Message.thread_id == thread_id, Message.org_id == widget.org_id,
                   Message.id > after, Message.channel == CHANNEL,
                   sa.or_(sa.and_(Message.direction == "inbound", Message.from_e164 == visitor),
                          sa.and_(Message.direction == "outbound", Message.to_e164 == visitor)))
    pending = db.session.scalar(sa.select(sa.func.min(Message.id)).where(
        mine, Message.status.in_(PENDING)))
    rows = db.session.execute(
        sa.select(Message.id, Message.direction, Message.body, Message.created_at,
                  Message.status).where(mine).order_by(Message.id).limit(PAGE)).all()
    shown = [{"id": row.id, "from": "visitor" if row.direction == "inbound" else "staff",
              "text": row.body, "at": row.created_at.isoformat()}
             for row in rows if row.status in SHOWN]
    settled = utcnow() - SETTLE
    cursor = after
    for row in rows:  # up to the first row too young to be sure no smaller id still commits
        if row.created_at > settled:
            break
        cursor = row.id
    return shown, (min(cursor, pending - 1) if pending is not None else cursor)


# --- outbound -------------------------------------------------------------------------------

class WebchatSender:
    """Delivery of a webchat reply: nothing leaves the server, the widget polls for it."""

    name = PROVIDER

    def send(self, *, from_e164, to_e164, body, status_callback=None, media_urls=()) -> Sent:
        return Sent(sid=f"webchat-{uuid.uuid4()}", status="sent")


def _sender(app_config, widget: Account | None) -> WebchatSender:
    return WebchatSender()


channels.register_sender(CHANNEL, _sender)
