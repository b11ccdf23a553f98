"""What tests/test_fuzz.py sends: each route's fields, and values from plausible to absurd.

Every route of the URL map is listed here with the form fields (POST) or query parameters (GET)
it reads; test_fuzz checks the list against the map, so a new route must be added to be fuzzed.
"""

import io
import json
import random
import string
import uuid
from datetime import timedelta

import sqlalchemy as sa
from hypothesis import strategies as st

from pawline.clock import utcnow
from pawline.db import db
from tests.twilio_signing import message_sid

BOOKING = ["external_ref", "client_phone", "client_name", "sitter_id", "starts_at", "ends_at",
           "updated_at", "confirm", "org"]
SMS = ["MessageSid", "From", "To", "Body", "NumMedia", "AccountSid", "FromCountry", "MediaUrl0",
       "MediaContentType0", "MediaUrl1", "MediaContentType1"]
STATUS = ["MessageSid", "MessageStatus", "ErrorCode", "ErrorMessage"]
QUARANTINE = ["duration", "custom_release_date", "reason"]
BOOKING_FORM = ["client_q", "client_id", "sitter_id", "starts_at", "ends_at"]
SITTER = ["name", "phone"]
TELEGRAM_UPDATE = ["update_id", "message", "edited_message"]  # a JSON Update's fields
# Meta's webhook: each value goes into one signed message event (meta_payload)
META = ["object", "sender", "recipient", "mid", "text", "attachment", "is_echo"]
META_ACCOUNT = ["account_id", "display_name", "token"]
META_PAGE = "104729381927364"
ROUTES = {
    "GET audit.index": ["action", "actor", "entity", "before"],
    "GET auth.root": [],
    "GET auth.sign_in": ["next"],
    "POST auth.sign_in": ["email", "password", "next"],
    "POST auth.sign_out": [],
    "POST auth.sign_out_everywhere": [],
    "POST booking_webhook.receive_booking": BOOKING,
    "POST bookings.cancel": [],
    "GET bookings.client_picker": ["client_q", "client_id"],
    "POST bookings.confirm": [],
    "POST bookings.create": BOOKING_FORM,
    "GET bookings.edit": [],
    "POST bookings.edit": BOOKING_FORM,
    "GET bookings.index": [],
    "POST clients.add_contact": ["phone", "label"],
    "POST clients.create": ["name", "phone"],
    "GET clients.detail": ["merge_q"],
    "GET clients.index": ["q", "after_name", "after_id"],
    "POST clients.merge": ["into_client_id"],
    "POST clients.remove_contact": [],
    "POST clients.rename": ["name"],
    "POST clients.save_notes": ["notes"],
    "POST clients.set_label": ["label"],
    "GET dead_letters.index": [],
    "POST desk.add_note": ["body"],
    "POST desk.assign": ["assignee_user_id"],
    "POST desk.schedule": ["body", "send_at", "photos"],
    "POST desk.edit_scheduled": ["body", "send_at", "remove_photos"],
    "POST desk.cancel_scheduled": [],
    "POST inbox.cancel": [],
    "POST inbox.close": [],
    "GET inbox.index": ["tab", "q", "who", "undo"],
    "POST inbox.message_anyone": ["phone", "body", "client_token"],
    "GET inbox.more": ["tab", "q", "who", "cursor"],
    "GET inbox.new_line": ["phone"],
    "GET inbox.poll": ["tab", "q", "who", "since"],
    "GET inbox.poll_thread": ["since", "first", "after"],
    "POST inbox.reopen": [],
    "POST inbox.retry": [],
    "POST inbox.send": ["body", "client_token", "photos", "channel"],
    "GET inbox.show": ["before", "undo", "conversation"],
    "GET inbox.closed_conversations": ["cursor"],
    "POST inbox.snooze": ["until", "custom_until"],
    "POST numbers.add": ["e164", "number_class"],
    "POST numbers.front_desk": [],
    "GET numbers.index": [],
    "POST numbers.quarantine": QUARANTINE,
    "POST numbers.rename": ["label"],
    "POST numbers.restore": ["force_restore", "restore_reason"],
    "GET ops.healthz": [],
    "GET ops.readyz": [],
    "GET ops.metrics": [],
    "POST saved_replies.create": ["name", "body"],
    "POST saved_replies.delete": [],
    "GET saved_replies.edit": [],
    "POST saved_replies.edit": ["name", "body"],
    "GET saved_replies.index": [],
    "GET saved_replies.insert": ["saved_reply_id", "body"],
    "GET settings.help_reply": [],
    "POST settings.help_reply": ["text"],
    "GET settings.after_hours_reply": [],
    "POST settings.after_hours_reply": ["text", "day0", "day1", "day2", "day3", "day4", "day5",
                                        "day6"],
    "GET settings.booking_messages_page": [],
    "GET settings.channels": [],
    "POST settings.booking_messages_page": ["confirmation_enabled", "confirmation_body",
                                            "reminder_enabled", "reminder_body", "lead_hours"],
    "GET profile.edit": [],
    "POST profile.edit": ["name"],
    "GET media.attachment": [],
    "GET media.full": [],
    "GET media.thumbnail": [],
    "GET media.signed": [],
    "GET media.simulated": [],
    "GET meta_settings.instagram": [],
    "POST meta_settings.instagram": META_ACCOUNT,
    "GET meta_settings.messenger": [],
    "POST meta_settings.messenger": META_ACCOUNT,
    "GET meta_webhook.verify": ["hub.mode", "hub.verify_token", "hub.challenge"],
    "POST meta_webhook.receive": META,
    "GET simulator.index": [],
    "POST simulator.index": ["from_phone", "to", "body", "photo", "channel"],
    "GET sitter_portal.home": [],
    "POST sitters.activate": [],
    "POST sitters.create": [*SITTER, "email", "password"],
    "POST sitters.deactivate": [],
    "GET sitters.edit": [],
    "POST sitters.edit": SITTER,
    "GET sitters.index": [],
    "POST webhooks.twilio_sms": SMS,
    "POST webhooks.twilio_status": STATUS,
    "GET telegram_settings.telegram": [],
    "POST telegram_settings.telegram": ["token"],
    "POST telegram_settings.register_webhook": [],
    "POST telegram_webhook.receive": TELEGRAM_UPDATE,
    "GET widget.script": ["key"],
    "GET widget.chat": [],
    "POST widget.post_message": ["visitor", "message_id", "body", "name", "phone", "email"],
    "GET widget.messages": ["visitor", "after"],
    "GET webchat_settings.page": [],
    "POST webchat_settings.turn_on": [],
    "POST webchat_settings.save_origins": ["origins"],
    "POST webchat_settings.turn_off": [],
    "POST webchat_settings.replace_key": ["confirm"],
}
SIGNED_IN_AS = {"GET sitter_portal.home": "sitter"}  # the rest as the owner
# A refused request leaves every table as it was, except these, written on purpose.
# (rate_limit: a webhook's sender, a sign-in's address, counted before the request is judged)
WRITES_WHEN_REFUSED = {"POST webhooks.twilio_sms": {"inbound_dead_letter", "rate_limit"},
                       "POST webhooks.twilio_status": {"rate_limit"},
                       "POST booking_webhook.receive_booking": {"rate_limit"},
                       "POST auth.sign_in": {"sign_in_throttle", "rate_limit"},
                       # the widget counts a visitor and an address before it may refuse (429)
                       "POST widget.post_message": {"rate_limit"},
                       "GET widget.messages": {"rate_limit"}}

HUGE = "99999999999999999999999"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
       b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92"
       b"\xef\x00\x00\x00\x00IEND\xaeB`\x82")  # one pixel
ODD = ["", " ", "0", "-1", "1.5", "1e309", "NaN", "true", "null", "[]", "{}", HUGE,
       str(2**63), str(2**63 - 1), "9999-12-31T23:59", "0001-01-01T00:00", "9999-12-31",
       "0001-01-01", "2026-02-30T25:61", "10000-01-01T00:00", "9999-12-31T23:59:59+14:00",
       "+14155550123", "12345", "PAWBANK", "%00", "\\x00", "\u202e\u0000", "𝔓𝔞𝔴"]


def noise(seed: int, length: int) -> str:
    """Text that does not compress (an index key of it is as long as it)."""
    rng = random.Random(seed)
    return "".join(rng.choices(string.ascii_letters + "éü漢🐾", k=length))


def junk() -> st.SearchStrategy[str]:
    """Any text a request can carry: Unicode, control bytes, odd values, huge ones."""
    sizes = st.sampled_from([2_000, 3_000, 10_001, 300_000])
    return st.one_of(
        st.text(st.characters(exclude_categories=["Cs"]), max_size=30),
        st.text(st.characters(max_codepoint=0x1F), min_size=1, max_size=4),
        st.sampled_from(ODD),
        st.integers().map(str),
        st.builds(noise, st.integers(0, 1000), sizes),
    )


def json_junk() -> st.SearchStrategy:
    """Any JSON value, of any type."""
    scalars = st.one_of(junk(), st.integers(), st.floats(), st.booleans(), st.none())
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(junk(), inner, max_size=3), max_leaves=6)


def plausible(world) -> dict[str, list]:
    """Values that pass (or nearly pass) each field's checks, so deeper code runs too; a
    callable makes a fresh one each time (a reference or SID used once)."""
    local = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    later = (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    return {
        "body": ["Rex is fine", "Walk:\t9 AM\r\nFeed: 5 PM",
                 "Hi {client_first_name}, see you {booking_start}"], "phone": ["+14155550188"],
        "name": ["Ada Lovelace"], "email": [world.owner_email, "new@example.com"],
        "password": ["correct horse battery"], "next": ["/inbox", "//evil.example"],
        "until": ["custom", "1h", "tomorrow"], "custom_until": [local],
        "duration": ["30", "custom"], "custom_release_date": [local[:10]], "reason": ["old"],
        "force_restore": ["y"], "restore_reason": ["back"], "e164": ["+14155550166"],
        "number_class": ["pool", "sitter", "front_desk"], "label": ["mobile", "home"],
        "into_client_id": [str(world.known_client_id)], "client_id": [str(world.client_id)],
        "sitter_id": [str(world.sitter_id)], "starts_at": [local], "ends_at": [later],
        "client_q": ["Ada"], "from_phone": ["+14155550177"], "to": [world.pool],
        "q": ["Ada", "415"], "tab": ["open", "snoozed", "closed", "all"], "cursor": [""],
        "since": [utcnow().isoformat()], "before": [str(world.message_id)],
        "first": ["0"], "after": ["0"], "after_name": ["a"], "after_id": ["1"],
        "conversation": ["1"],
        "text": ["Happy Paws: call 415-555-0199"],
        **{f"day{day}": ["9:00-17:00", "", "9am-5pm", "17:00-9:00"] for day in range(7)},
        "confirmation_enabled": ["y", ""], "reminder_enabled": ["y", ""],
        "confirmation_body": ["Booked: {booking_start}", ""],
        "reminder_body": ["See you {booking_start}, {client_first_name}", ""],
        "lead_hours": ["24", "1", "336"],
        "merge_q": ["Ada"], "action": ["client.created"], "actor": ["1"], "entity": ["client"],
        "notes": ["pets: Biscuit, beagle, pill at 8"], "undo": [str(world.thread_id)],
        "client_token": [lambda: uuid.uuid4().hex],
        "photos": [lambda: (io.BytesIO(PNG), "rex.png"), lambda: (io.BytesIO(b"GIF89a"), "x.gif")],
        "photo": [lambda: (io.BytesIO(PNG), "rex.png")],
        "who": ["mine", "unassigned", "all"], "send_at": [local, later],
        "assignee_user_id": ["me", ""], "remove_photos": ["y", ""],
        "saved_reply_id": [str(world.saved_reply_id), ""],
        "MessageSid": [message_sid, world.outbound_sid],
        "From": ["+14155550123", "+971571234567", "PAWBANK", "12345", "whatsapp:+14155550123"],
        "channel": ["sms", "whatsapp", "telegram", "webchat", ""],
        "To": [world.pool], "Body": ["Is Rex okay?"], "NumMedia": ["0", "2", "1"],
        "MediaUrl0": ["https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"],
        "MediaUrl1": ["http://127.0.0.1:9/media/x"],
        "MediaContentType0": ["image/jpeg"], "MediaContentType1": ["application/pdf"],
        "AccountSid": ["AC" + "0" * 32], "FromCountry": ["US"],
        "MessageStatus": ["delivered", "failed"], "ErrorCode": ["30003"],
        "ErrorMessage": ["Unreachable"],
        # the booking webhook's JSON
        "org": [world.slug], "external_ref": [lambda: f"BK-{uuid.uuid4().hex[:8]}"],
        "client_phone": ["+14155550155"], "client_name": ["Grace"], "confirm": [True, False],
        "updated_at": [lambda: utcnow().isoformat()],
        # Telegram: a token's shape (getMe goes to a refusing address), an Update's fields
        # (a token field: a Telegram bot's, a Meta page's, or none)
        "token": ["123456789:AAE" + "k" * 32, "not a token", "EAAG-fuzz-token", ""],
        "update_id": [lambda: uuid.uuid4().int % 2**31],
        "message": [{"message_id": 1, "chat": {"id": 4242, "type": "private"},
                     "from": {"id": 4242, "is_bot": False, "first_name": "Ada"}, "text": "Hi"},
                    {"chat": {"id": -100123, "type": "supergroup", "title": "Walkers"},
                     "sticker": {"file_id": "CAAC"}}],
        "edited_message": [{"chat": {"id": 4242}, "text": "edited"}],
        "json:sitter_id": [world.sitter_id],
        "json:starts_at": [(utcnow() + timedelta(days=2)).isoformat()],
        "json:ends_at": [(utcnow() + timedelta(days=3)).isoformat()],
        # Meta: the webhook's event (meta_payload) and the settings form
        "object": ["page", "instagram"], "sender": ["6873450192837465"],
        "recipient": [META_PAGE], "mid": [lambda: f"m_{uuid.uuid4().hex}"],
        "attachment": ["image", "video"], "is_echo": ["", "y"],
        "hub.mode": ["subscribe"], "hub.verify_token": ["test-meta-verify-token", "wrong"],
        "hub.challenge": ["1158201444"], "account_id": [META_PAGE, "17841400000000001"],
        "display_name": ["Happy Paws"],
        # the web chat widget
        "key": [world.widget_key], "visitor": ["fuzz-visitor-" + "v" * 20],
        "message_id": [lambda: uuid.uuid4().hex],
        "origins": ["https://shop.example", "https://*.example.com", "http://127.0.0.2:8000/"],
    }


def meta_payload(values: dict) -> bytes:
    """A Meta delivery with one message event made of the values (of any type)."""
    message = {"mid": values.get("mid"), "text": values.get("text")}
    if values.get("attachment") not in (None, ""):
        message["attachments"] = [{"type": values["attachment"], "payload": {}}]
    if values.get("is_echo"):
        message["is_echo"] = True
    event = {"sender": {"id": values.get("sender")}, "recipient": {"id": values.get("recipient")},
             "timestamp": 1764450000000, "message": message}
    return json.dumps({"object": values.get("object"), "entry": [
        {"id": values.get("recipient"), "time": 1764450000000, "messaging": [event]}]}).encode()


def _made(value):
    return value() if callable(value) else value


def _name(key: str, field: str) -> str:
    return f"json:{field}" if key == JSON_ROUTE and f"json:{field}" in _JSON_FIELDS else field


_JSON_FIELDS = {"json:sitter_id", "json:starts_at", "json:ends_at"}
JSON_ROUTE = "POST booking_webhook.receive_booking"
TELEGRAM_ROUTE = "POST telegram_webhook.receive"
META_ROUTE = "POST meta_webhook.receive"  # signed JSON too: values of any type
JSON_ROUTES = (JSON_ROUTE, TELEGRAM_ROUTE, META_ROUTE)  # values: any JSON, not only text


def first_plausible(key: str, world) -> dict:
    """Every field of the route with its first plausible value."""
    good = plausible(world)
    return {field: _made(good[_name(key, field)][0]) for field in ROUTES[key]}


def request_values(key: str, world) -> st.SearchStrategy[dict]:
    """Some of the route's fields (plausible or junk each), and now and then an unknown one."""
    good = plausible(world)
    bad = json_junk() if key in JSON_ROUTES else junk()
    optional = {field: st.sampled_from(good[_name(key, field)]).map(_made) | bad
                for field in ROUTES[key]}
    optional["zz-unknown"] = bad
    return st.fixed_dictionaries({}, optional=optional)


# Each alone in each field, every run: what broke PostgreSQL or the conversions before.
NASTY = ["a\x00b", "\x1b[31m", noise(1, 3000), "x" * 10_001, HUGE, "-1", "",
         "9999-12-31T23:59", "0001-01-01T00:00", "9999-12-31T23:59:59-05:00"]
NASTY_JSON = [*NASTY, 10**30, -1, 1.5, True, None, [], {"a": "b\x00"}]


def path_ids(rule, world) -> st.SearchStrategy[dict]:
    """The URL's ids: mostly the world's own, sometimes any number at all."""
    return st.fixed_dictionaries({
        arg: st.just(getattr(world, arg)) | st.integers(0, 10**25)
        for arg in rule.arguments})


def encoded(values: dict) -> bytes:
    return json.dumps(values).encode()


def fingerprint() -> dict[str, tuple]:
    """(row count, hash of every row) per table: equal before and after means nothing changed."""
    tables = [t.name for t in db.metadata.sorted_tables] + ["procrastinate_jobs"]
    union = " UNION ALL ".join(
        f"SELECT '{name}', count(*), coalesce(sum(hashtext(t::text)::bigint), 0) FROM {name} t"
        for name in tables)
    return {name: (rows, digest) for name, rows, digest in db.session.execute(sa.text(union))}
