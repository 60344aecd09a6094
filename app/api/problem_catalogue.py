"""Every problem `type` the API can answer: the named domain errors and the handler's own.

A domain error's type is its class name in kebab case (DomainError.code); two classes of one
name in different areas share a type, and the catalogue lists both under it. The handler's
own problems (validation, routing, the database) have no class; they are listed here with
their titles so that their pages and their Chinese titles come from the same place.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import app.domain
import app.jobs
from app.domain.errors import DomainError, ErrorKind, NotFound

# The status of each kind; app/api/errors.py answers with it.
STATUS = {
    ErrorKind.not_found: 404,
    ErrorKind.conflict: 409,
    ErrorKind.invalid: 422,
    ErrorKind.unauthenticated: 401,
    ErrorKind.forbidden: 403,
    ErrorKind.too_many: 429,
    ErrorKind.unavailable: 503,
    ErrorKind.precondition_failed: 412,
    ErrorKind.precondition_required: 428,
}


class ProblemTypeNotFound(NotFound):
    title = "No problem type of that name"
    title_zh = "没有这个名称的问题类型"


@dataclass(frozen=True)
class Variant:
    """One class (or handler case) answering under a type."""

    origin: str  # module.Class, or "app.api.errors" for the handler's own
    title: str
    title_zh: str
    description: str


@dataclass(frozen=True)
class ProblemType:
    name: str
    status: int
    variants: tuple[Variant, ...]
    # For the handler's own problems: which operations may answer it, in words.
    answered_by: str = ""
    class_names: tuple[str, ...] = field(default=())

    @property
    def type(self) -> str:
        return f"/problems/{self.name}"

    @property
    def title(self) -> str:
        return self.variants[0].title

    @property
    def title_zh(self) -> str:
        return self.variants[0].title_zh

    @property
    def description(self) -> str:
        return "\n\n".join(v.description for v in self.variants if v.description)


def _own(name: str, status: int, title: str, title_zh: str, description: str, answered_by: str) -> ProblemType:
    return ProblemType(name, status, (Variant("app.api.errors", title, title_zh, description),), answered_by)


ANY_API = "Any /api/v1 operation"
# The handler's own problems (app/api/errors.py, app/api/middleware.py, app/main.py).
HANDLER_PROBLEMS = (
    _own("validation-failed", 422, "The request is not valid", "请求内容无效",
         "The request's parameters or body do not have the declared form: `errors[]` names each field "
         "(`field`, `location`) and what is wrong with it (`problem`).", ANY_API),
    _own("not-found", 404, "Not Found", "未找到", "No route answers this path.", "Any path"),
    _own("method-not-allowed", 405, "Method Not Allowed", "不支持该请求方法",
         "The path exists but not with this method; the `Allow` header lists the methods it takes.", "Any path"),
    _own("too-large", 413, "Request body too large", "请求内容过大",
         "The body is larger than the server's limit (`max_request_bytes`).", "Any operation that takes a body"),
    _own("http-error", 400, "HTTP error", "HTTP 错误", "Any other refusal at the HTTP level; `status` says which.", "Any path"),
    _own("constraint-violated", 409, "The change conflicts with existing records", "此项更改与已有记录冲突",
         "The database refused the change (a unique or foreign-key constraint) that the rules did not catch first.",
         "Any write"),
    _own("invalid-value", 422, "A value is out of range or malformed", "有取值超出范围或格式不正确",
         "The database refused a value the request's schema let through.", "Any write"),
    _own("internal-error", 500, "Internal error", "服务器内部错误",
         "An error the server did not expect; it is logged with the request's X-Request-ID.", "Any operation"),
    _own("database-busy", 503, "The database is busy; try again shortly", "数据库繁忙，请稍后重试",
         "Every database connection was busy; retry after `Retry-After` seconds.", "Any operation"),
    _own("migrations-pending", 503, "Database schema is not at head", "数据库结构尚未升级到最新版本",
         "The database's schema is behind the code's migrations.", "GET /readyz"),
)
# Types that are both a class and a handler case: the class's page says where else it comes from.
HANDLER_ALSO = {
    "not-found": "Any path: no route answers it, or the record it names does not exist",
    "not-authenticated": f"{ANY_API} that needs a credential",
    "database-unavailable": ANY_API + ", and GET /readyz",
}


def _subclasses(cls: type[DomainError]) -> list[type[DomainError]]:
    out: list[type[DomainError]] = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


@cache
def error_classes() -> tuple[type[DomainError], ...]:
    """Every DomainError subclass of the app; importing every domain and job module finds them all."""
    for package in (app.domain, app.jobs):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)
    seen = dict.fromkeys(_subclasses(DomainError))
    return tuple(sorted(seen, key=lambda c: (c.code(), c.__module__)))


def _variant(cls: type[DomainError]) -> Variant:
    return Variant(f"{cls.__module__}.{cls.__name__}", cls.title, cls.title_zh, inspect.cleandoc(cls.__dict__.get("__doc__") or ""))


@cache
def catalogue() -> dict[str, ProblemType]:
    """Every problem type by name, in name order."""
    grouped: dict[str, list[type[DomainError]]] = {}
    for cls in error_classes():
        grouped.setdefault(cls.code(), []).append(cls)
    out = {name: ProblemType(name, STATUS[classes[0].kind], tuple(_variant(c) for c in classes), HANDLER_ALSO.get(name, ""),
                             tuple(sorted({c.__name__ for c in classes})))
           for name, classes in grouped.items()}
    for own in HANDLER_PROBLEMS:
        out.setdefault(own.name, own)
    return dict(sorted(out.items()))


def title_zh(name: str) -> str | None:
    found = catalogue().get(name)
    return found.title_zh if found is not None else None


def operations_answering(schema: dict[str, Any]) -> dict[str, list[str]]:
    """Problem name -> "METHOD /path" of each operation whose `responses=` name one of its classes."""
    by_class = {cls.__name__: cls.code() for cls in error_classes()}
    out: dict[str, list[str]] = {}
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            for response in operation.get("responses", {}).values():
                for word in str(response.get("description", "")).split(", "):
                    if word in by_class:
                        out.setdefault(by_class[word], []).append(f"{method.upper()} {path}")
    return {name: sorted(set(ops)) for name, ops in out.items()}
