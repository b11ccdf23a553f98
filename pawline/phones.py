"""Phone numbers: whatever people type, stored as E.164."""

import re
from functools import lru_cache

import phonenumbers

from pawline.errors import InvalidPhone

E164 = re.compile(r"\+[1-9][0-9]{6,14}")  # pawline.models.E164_PATTERN, the columns' check


@lru_cache(maxsize=4096)  # parsing is ~0.1 ms: every inbound SMS parses its sender's phone
def normalize_phone(raw: str | None, region: str = "US") -> str:
    """Answer the E.164 form of `raw`, read in `region` when it has no country code."""
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone("Enter a phone number.")
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(f"{text!r} is not a phone number.") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone(f"{text!r} is not a valid phone number.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def sender_phone(raw: str | None, region: str = "US") -> str:
    """The E.164 form of an SMS sender: as `normalize_phone`, and also any number written in
    international form (+...) with a length its country allows.

    is_valid_number checks phonenumbers' tables of allocated ranges, which lag the carriers
    (new mobile ranges) and miss some countries' numbers: a typed number is held to them, but
    a sender's carrier has delivered a text from it, so it exists. Short codes and alphanumeric
    senders are still no phone number (the webhook keeps those as dead letters).
    """
    try:
        return normalize_phone(raw, region)
    except InvalidPhone:
        text = (raw or "").strip()
        if not text.startswith("+"):
            raise
        try:
            parsed = phonenumbers.parse(text, None)
        except phonenumbers.NumberParseException:
            raise InvalidPhone(f"{text!r} is not a phone number.") from None
        e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        possible = phonenumbers.is_possible_number_with_reason(parsed)
        if possible != phonenumbers.ValidationResult.IS_POSSIBLE or not E164.fullmatch(e164):
            raise
        return e164


def try_normalize(raw: str, region: str = "US") -> str | None:
    """The E.164 form when `raw` reads as a phone number, else None (for search boxes)."""
    try:
        return normalize_phone(raw, region)
    except InvalidPhone:
        return None


def display_phone(e164: str | None) -> str:
    """A readable form: national for the US/Canada, international otherwise."""
    if not e164:
        return ""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if parsed.country_code == 1
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, fmt)


GUEST_NAME = re.compile(r"^Guest \((\+[1-9][0-9]{6,14})\)$")


def client_name(name: str, is_guest: bool = False) -> str:
    """A client as the front desk reads them: a guest named "Guest (+14155557001)" shows as
    "(415) 555-7001"; anyone else by their name."""
    match = GUEST_NAME.match(name or "") if is_guest else None
    return display_phone(match.group(1)) if match else name
