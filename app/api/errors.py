"""One place that turns every error into RFC 9457 application/problem+json."""
from __future__ import annotations

import logging
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from app.api import problem_catalogue, validation_zh
from app.api.language import Language, chinese, negotiate
from app.api.problem_catalogue import STATUS
from app.domain.errors import DomainError

log = logging.getLogger("propdesk.errors")

PROBLEM = "application/problem+json"
CONNECTION_FAILURES: tuple[type[Exception], ...] = (
    OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.exceptions.InternalClientError)


class Problem(BaseModel):
    """RFC 9457 problem details; extension members carry the facts of the error."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None


# What FastAPI takes as an endpoint's `responses=`.
Responses = dict[int | str, dict[str, Any]]


def problems(*errors: type[DomainError]) -> Responses:
    """The `responses=` of an endpoint: each status it may answer with, and the error names."""
    out: Responses = {}
    for err in errors:
        status = STATUS[err.kind]
        entry = out.setdefault(status, {"model": Problem, "content": {PROBLEM: {}}, "description": ""})
        entry["description"] = ", ".join(filter(None, [entry["description"], err.__name__]))
    return out


def problem_response(
    *, status: int, code: str, title: str, detail: str | None, request: Request, headers: dict[str, str] | None = None,
    title_zh: str | None = None, detail_zh: str | None = None, **extra: Any
) -> JSONResponse:
    """The problem, in the language the request accepts; `type` and every member name stay English.

    Chinese: `title_zh` (else the catalogue's title of `code`) and `detail_zh`, else the Chinese
    title when the detail is only the English title again; other details keep their English facts.
    """
    language = negotiate(request.headers.get("accept-language"))
    if language is not Language.english:
        zh_title = title_zh or problem_catalogue.title_zh(code) or title
        if detail_zh is None and detail == title:
            detail_zh = zh_title
        title, detail = chinese(zh_title, language), chinese(detail_zh, language) if detail_zh is not None else detail
    body = {"type": f"/problems/{code}", "title": title, "status": status, "detail": detail, "instance": str(request.url.path), **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers={**(headers or {}), **language_headers(language)})


def language_headers(language: Language) -> dict[str, str]:
    # Vary: a cache must not hand one client's Chinese problem to another client asking in English.
    return {"Content-Language": language.value, "Vary": "Accept-Language"}


async def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
    status = STATUS[exc.kind]
    headers = None
    if "retry_after_seconds" in exc.extra:
        headers = {"Retry-After": str(exc.extra["retry_after_seconds"])}
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    if "current_etag" in exc.extra:
        headers = {"ETag": exc.extra["current_etag"]}
    return problem_response(status=status, code=exc.code(), title=exc.title, detail=exc.detail, request=request, headers=headers,
                            title_zh=exc.title_zh, **exc.extra)


def _field_errors(errors: list[dict[str, Any]], language: Language) -> list[dict[str, Any]]:
    out = []
    for e in errors:
        loc = [str(p) for p in e.get("loc", ())]
        message = e.get("msg") if language is Language.english else chinese(validation_zh.field_message(e), language)
        out.append({"field": ".".join(loc[1:]) or ".".join(loc), "location": loc[0] if loc else None, "problem": message})
    return out


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = _field_errors(list(exc.errors()), negotiate(request.headers.get("accept-language")))
    fields = ", ".join(e["field"] for e in errors[:5])
    return problem_response(status=422, code="validation-failed", title="The request is not valid", detail=f"check: {fields}",
                            detail_zh=f"请检查：{fields}", request=request, errors=errors)


def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 400:
        # Starlette's "error parsing the body" (not UTF-8, broken multipart) is bad input like
        # any other: answer the documented 422 instead of an undocumented 400.
        return problem_response(status=422, code="validation-failed", title="The request body could not be read",
                                title_zh="无法读取请求内容", detail=str(exc.detail), request=request)
    code = {404: "not-found", 405: "method-not-allowed", 401: "not-authenticated", 413: "too-large"}.get(exc.status_code, "http-error")
    headers = getattr(exc, "headers", None)
    if exc.status_code == 405:
        headers = {**(headers or {}), **_allow(request)}
    return problem_response(status=exc.status_code, code=code, title=str(exc.detail), detail=str(exc.detail), request=request,
                            headers=headers)


METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


def _allow(request: Request) -> dict[str, str]:
    """Every method the path answers. Starlette's 405 names the methods of the first route whose
    path matched, and GET /x and PATCH /x are two routes; the OpenAPI document knows them all."""
    table = getattr(request.app.state, "allowed_methods", None)
    if table is None:
        table = [(compile_path(path)[0], {m.upper() for m in operations})
                 for path, operations in request.app.openapi().get("paths", {}).items()]
        request.app.state.allowed_methods = table
    methods = set().union(*(allowed for regex, allowed in table if regex.match(request.url.path)))
    return {"Allow": ", ".join(m for m in METHOD_ORDER if m in methods)} if methods else {}


async def _db_error(request: Request, exc: DBAPIError) -> JSONResponse:
    # The last line of defence: input the schemas let through but PostgreSQL refused.
    if isinstance(exc, IntegrityError):
        return problem_response(status=409, code="constraint-violated", title="The change conflicts with existing records",
                                detail=_pg_message(exc), request=request)
    if isinstance(exc, (OperationalError, InterfaceError)) or exc.connection_invalidated or _is_connection_error(exc):
        log.warning("database unavailable: %s", exc.__class__.__name__)
        return _unavailable(request)
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", "") or ""
    if sqlstate.startswith("22"):
        return problem_response(status=422, code="invalid-value", title="A value is out of range or malformed",
                                detail=_pg_message(exc), request=request)
    log.exception("database error")
    return problem_response(status=500, code="internal-error", title="Internal error", detail=None, request=request)


def _pg_message(exc: DBAPIError) -> str:
    orig = getattr(exc, "orig", None)
    return str(getattr(orig, "args", [""])[0] or "").split("\n")[0][:300]


def _is_connection_error(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None)
    cause = getattr(orig, "__cause__", None)
    # InternalClientError: the connection was cut mid-operation (a server shutdown) and is unusable.
    return isinstance(cause, (OSError, asyncpg.exceptions.ConnectionDoesNotExistError, asyncpg.exceptions.CannotConnectNowError,
                              asyncpg.exceptions.InternalClientError))


def _unavailable(request: Request) -> JSONResponse:
    return problem_response(status=503, code="database-unavailable", title="The database is not reachable; try again shortly",
                            detail=None, request=request, headers={"Retry-After": "5"})


async def _connection_failed(request: Request, exc: Exception) -> JSONResponse:
    # Opening a connection fails outside SQLAlchemy's error wrapping: the socket is gone
    # (OSError), the server is starting or stopping (asyncpg's own errors), or it timed out.
    log.warning("database unavailable: %r", exc)
    return _unavailable(request)


async def _pool_exhausted(request: Request, exc: PoolTimeout) -> JSONResponse:
    # Every connection of the pool is busy and none came back within db_pool_timeout_seconds:
    # an overload, not a fault of this request; the client may retry shortly.
    log.warning("database pool exhausted: %s", exc)
    return problem_response(status=503, code="database-busy", title="The database is busy; try again shortly",
                            detail=None, request=request, headers={"Retry-After": "2"})


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error")
    return problem_response(status=500, code="internal-error", title="Internal error", detail=None, request=request)


def problem_media_types(schema: dict[str, Any]) -> dict[str, Any]:
    """FastAPI files a response `model` under application/json; problems are application/problem+json."""
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for response in operation.get("responses", {}).values():
                content = response.get("content", {})
                if PROBLEM in content and "application/json" in content:
                    content[PROBLEM] = content.pop("application/json")
    return schema


# Writes that never add a row to an estate, so never meet a closed one.
_NO_ESTATE_WRITES = ("/api/v1/auth/", "/api/v1/company", "/api/v1/users", "/api/v1/api-keys")


def document_estate_closed(schema: dict[str, Any]) -> dict[str, Any]:
    """Any write may add a row to a closed estate, refused centrally (registry/closing.py): say so."""
    for path, item in schema.get("paths", {}).items():
        if not path.startswith("/api/v1/") or path.startswith(_NO_ESTATE_WRITES) or path == "/api/v1/estates":
            continue
        for method, operation in item.items():
            if method not in ("post", "put", "patch"):
                continue
            entry = operation.setdefault("responses", {}).setdefault(
                "409", {"description": "", "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}})
            entry["description"] = ", ".join(filter(None, [entry.get("description"), "EstateClosed"]))
    return schema


def install(app: FastAPI) -> None:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_estate_closed(problem_media_types(original()))
        return app.openapi_schema

    # FastAPI's documented way to post-process the schema is to replace the method; and Starlette
    # types a handler as taking any Exception, where ours name the class they are registered for.
    app.openapi = openapi  # type: ignore[method-assign]
    app.add_exception_handler(DomainError, _domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(DBAPIError, _db_error)  # type: ignore[arg-type]
    # Handlers for these classes, not the catch-all below: Starlette re-raises what the
    # catch-all handled, and uvicorn then drops the client's keep-alive connection.
    app.add_exception_handler(PoolTimeout, _pool_exhausted)  # type: ignore[arg-type]
    for lost in CONNECTION_FAILURES:
        app.add_exception_handler(lost, _connection_failed)
    app.add_exception_handler(Exception, _unhandled)
