"""The project's own errors. Services raise them; `errors.py` turns them into HTTP answers in one place.

Plain Python, no Flask: the command line, the clock and the job worker catch the same exceptions
the API maps to 403, 404, 409 and 422.
"""

from __future__ import annotations


class DomainError(Exception):
    """A request the rules refuse. `status` is the HTTP status the API answers with."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """No such thing, or not one the caller may see (another school's order looks the same)."""

    status = 404


class Forbidden(DomainError):
    """The caller is known but their role may not do this."""

    status = 403


class Conflict(DomainError):
    """The request is well formed but the state of things refuses it: taken, expired, clashing, too early."""

    status = 409


class Invalid(DomainError):
    """One field of the input is wrong. `field` is dotted for nested items ("sessions.0.date")."""

    status = 422

    def __init__(self, field: str, message: str, location: str = "json"):
        super().__init__(f"{field}: {message}")
        self.field, self.reason, self.location = field, message, location

    def errors(self) -> dict:
        """The shape marshmallow gives: {location: {field: [message]}}, nested along the dotted path."""
        tree: dict | list = [self.reason]
        for part in reversed(self.field.split(".")):
            tree = {part: tree}
        return {self.location: tree}


class Taken(Invalid):
    """A field's value is already someone else's (a username, a NUPTK): a conflict that names the field."""

    status = 409
