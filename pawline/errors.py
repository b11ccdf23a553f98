"""Named domain errors. Each carries one human sentence the view or CLI shows as it is."""


class DomainError(Exception):
    """A request the domain refuses, with a message fit for the person who asked."""

    field: str | None = None

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field


class NotFound(DomainError):
    """The record does not exist in this organization."""


class InvalidPhone(DomainError):
    field = "phone"


class DuplicateRecord(DomainError):
    """A unique constraint refused the write; the message names what already exists."""
