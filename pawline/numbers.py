"""The organization's masked numbers: adding them to the pool."""

from pawline.db import add_or_explain, db
from pawline.errors import DomainError, DuplicateRecord
from pawline.models import NUMBER_CLASSES, MessageNumber
from pawline.phones import normalize_phone


def add_number(org_id: int, raw_phone: str, number_class: str, region: str = "US"
               ) -> MessageNumber:
    """Add a number to the organization's pool (I8: a number is in one organization only)."""
    if number_class not in NUMBER_CLASSES:
        raise DomainError(f"Class must be one of {', '.join(NUMBER_CLASSES)}.", "number_class")
    e164 = normalize_phone(raw_phone, region)
    number = add_or_explain(MessageNumber(org_id=org_id, e164=e164, number_class=number_class), {
        "uq_message_number_e164": DuplicateRecord(f"{e164} is already in use.", "e164"),
        "uq_message_number_front_desk": DuplicateRecord(
            "This organization already has a front-desk number.", "number_class"),
    })
    db.session.commit()
    return number
