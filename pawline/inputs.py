"""Input hygiene, one set of rules for every form, query string and webhook.

PostgreSQL refuses NUL in text and overflows past a bigint or year 9999; a btree index refuses a
key over ~2.7 kB. These helpers keep such input from reaching it: forms are refused with the
field named (a person can fix it), webhooks are cleaned and kept (a provider does not resend).
"""

import re
from datetime import datetime, timedelta

from pawline.errors import DomainError

# C0 control characters except tab, LF and CR: what no form or message needs, NUL among them.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
REPLACEMENT = "\ufffd"
BIGINT_MAX = 2**63 - 1  # every id column is a PostgreSQL bigint
# Any one form field or query parameter; the longest real one is a message (1,600 characters).
FIELD_MAX = 10_000


def control_character(text: str) -> str | None:
    """The first control character `text` holds, named as U+XXXX, or None."""
    found = CONTROL.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def scrub(text: str) -> str:
    """`text` with each control character replaced by U+FFFD (what a webhook stores)."""
    return CONTROL.sub(REPLACEMENT, text) if CONTROL.search(text) else text


def storable(text: str) -> str:
    """`text` from a JSON body as PostgreSQL stores it: a lone surrogate (JSON's "\\ud800" parses
    to one, and UTF-8 cannot encode it) and each control character become U+FFFD."""
    return scrub(text.encode("utf-16", "surrogatepass").decode("utf-16", "replace"))


def escaped(text: str) -> str:
    """`text` with each control character written out as \\xNN (what a raw payload keeps)."""
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def clip(text: str, limit: int) -> tuple[str, int]:
    """`text` cut to `limit` characters, and how many it had (equal when nothing was cut)."""
    return (text if len(text) <= limit else text[:limit]), len(text)


def db_id(value) -> int:
    """`value` as an id PostgreSQL can compare (0 to the bigint maximum), else ValueError.

    0 is no row's id, so it stands for "none" where a page needs one. Usable as werkzeug's
    `request.args.get(name, type=db_id)`.
    """
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= BIGINT_MAX:
        raise ValueError(f"{value!r} is not an id")
    return value


def within(value: datetime, now: datetime, horizon: timedelta, field: str, message: str) -> None:
    """Refuse (DomainError on `field`) a time further than `horizon` from `now` either way."""
    try:
        near = abs(value - now) <= horizon
    except OverflowError:
        near = False
    if not near:
        raise DomainError(message, field)


def json_problem(document) -> str | None:
    """Where a parsed JSON document holds a control character (in a key or a string, at any
    depth), said for its sender, or None."""
    stack = [("body", document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            found = control_character(value)
            if found:
                return f"{path} holds the control character {found}."
        elif isinstance(value, dict):
            for key, item in value.items():
                found = control_character(key)
                if found:
                    return f"A key in {path} holds the control character {found}."
                stack.append((f"{path}.{key}", item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{index}]", item) for index, item in enumerate(value))
    return None
