"""Domain errors: facts with names.

Each error names its kind (not found, conflict, ...) so that one HTTP handler can map
it to a status without the domain knowing about HTTP.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar


class ErrorKind(StrEnum):
    not_found = "not_found"
    conflict = "conflict"  # state or uniqueness conflict
    invalid = "invalid"  # well-formed input that the rules refuse
    unauthenticated = "unauthenticated"
    forbidden = "forbidden"
    too_many = "too_many"
    unavailable = "unavailable"


class DomainError(Exception):
    kind: ClassVar[ErrorKind] = ErrorKind.invalid
    title: ClassVar[str] = "The request cannot be carried out"
    # True when what was flushed before the error must still be committed
    # (a failed sign-in is counted although the request fails).
    keeps_changes: ClassVar[bool] = False

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail or self.title
        self.extra = extra
        super().__init__(self.detail)

    @classmethod
    def code(cls) -> str:
        """The problem type's slug: ReceiptAlreadyVoided -> receipt-already-voided."""
        out = []
        for i, ch in enumerate(cls.__name__):
            if ch.isupper() and i:
                out.append("-")
            out.append(ch.lower())
        return "".join(out)


class NotFound(DomainError):
    kind = ErrorKind.not_found
    title = "Not found"


class Conflict(DomainError):
    kind = ErrorKind.conflict
    title = "Conflict with the current state"


class Invalid(DomainError):
    kind = ErrorKind.invalid
    title = "Invalid request"


class NotAuthenticated(DomainError):
    kind = ErrorKind.unauthenticated
    title = "Authentication required"


class Forbidden(DomainError):
    kind = ErrorKind.forbidden
    title = "Not allowed for your role"


class TooManyAttempts(DomainError):
    kind = ErrorKind.too_many
    title = "Too many attempts"


class IllegalTransition(Conflict):
    """A state change the aggregate's transition table does not allow."""

    title = "This change is not allowed in the record's current state"

    def __init__(self, *, entity: str, current: str, action: str) -> None:
        super().__init__(
            f"{entity} is {current}; '{action}' is not allowed from there",
            entity=entity,
            current_state=current,
            action=action,
        )


class AlreadyExists(Conflict):
    title = "A record with these values already exists"


class DatabaseUnavailable(DomainError):
    kind = ErrorKind.unavailable
    title = "The database is not reachable; try again shortly"
