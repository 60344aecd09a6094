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
    precondition_failed = "precondition_failed"  # If-Match names another version
    precondition_required = "precondition_required"  # If-Match missing where the office requires it


class DomainError(Exception):
    kind: ClassVar[ErrorKind] = ErrorKind.invalid
    title: ClassVar[str] = "The request cannot be carried out"
    # The same title for a Chinese reader (Accept-Language: zh); every subclass sets its own.
    title_zh: ClassVar[str] = "无法执行该请求"
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
    title_zh = "未找到"


class Conflict(DomainError):
    kind = ErrorKind.conflict
    title = "Conflict with the current state"
    title_zh = "与当前状态冲突"


class Invalid(DomainError):
    kind = ErrorKind.invalid
    title = "Invalid request"
    title_zh = "请求无效"


class NotAuthenticated(DomainError):
    kind = ErrorKind.unauthenticated
    title = "Authentication required"
    title_zh = "需要登录认证"


class Forbidden(DomainError):
    kind = ErrorKind.forbidden
    title = "Not allowed for your role"
    title_zh = "您的角色无权进行此操作"


class TooManyAttempts(DomainError):
    kind = ErrorKind.too_many
    title = "Too many attempts"
    title_zh = "尝试次数过多"


class IllegalTransition(Conflict):
    """A state change the aggregate's transition table does not allow."""

    title = "This change is not allowed in the record's current state"
    title_zh = "该记录当前的状态不允许此项操作"

    def __init__(self, *, entity: str, current: str, action: str) -> None:
        super().__init__(
            f"{entity} is {current}; '{action}' is not allowed from there",
            entity=entity,
            current_state=current,
            action=action,
        )


class AlreadyExists(Conflict):
    title = "A record with these values already exists"
    title_zh = "已有相同内容的记录"


class DatabaseUnavailable(DomainError):
    kind = ErrorKind.unavailable
    title = "The database is not reachable; try again shortly"
    title_zh = "数据库无法连接，请稍后重试"
