"""Named domain errors. Each carries one human sentence the view or CLI shows as it is."""


class Refused(Exception):
    """A request the domain will not carry out, with a message fit for the person who asked."""

    field: str | None = None

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field


class DomainError(Refused):
    """A request the domain refuses; the web layer shows it as a form error."""


class NotFound(Refused):
    """The record does not exist in this organization; the web layer answers 404, always."""


class InvalidPhone(DomainError):
    field = "phone"


class DuplicateRecord(DomainError):
    """A unique constraint refused the write; the message names what already exists."""
