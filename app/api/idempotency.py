"""The `Idempotency-Key` header of money-moving POSTs.

A missing key is a 422 validation problem naming the header (field `Idempotency-Key`): the
request is well-formed HTTP but incomplete, like a missing body field. The first answer to a
key is stored with the work in one transaction; the same key with the same body returns
that answer again with `Idempotent-Replayed: true`; with another body it is a 409
`idempotency-key-reused`.
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any, TypeVar

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from app.api.deps import SettingsDep
from app.api.errors import PROBLEM as PROBLEM_MEDIA_TYPE
from app.api.errors import problems
from app.config import Settings
from app.domain.auth.principal import Actor
from app.domain.errors import DomainError, Forbidden
from app.domain.idempotency import service as idempotency
from app.domain.idempotency.service import IdempotencyKeyReused, IdempotencyRequestInProgress

REPLAYED = "Idempotent-Replayed"
# The headers of an answer, from its status and body: the same on the first answer and its replays.
HeadersOf = Callable[[int, dict[str, Any]], dict[str, str]]
REPLAYED_HEADER = {"description": "`true` when this is the stored answer to an earlier request with the same key",
                   "schema": {"type": "string", "enum": ["true"]}}

IdempotencyKey = Annotated[str, Header(
    alias="Idempotency-Key", min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$",
    description="A key unique to this payment (a UUID is best), sent again unchanged on a retry. "
                "Required: without it the request is refused with 422. Kept at least 24 hours.",
)]

# For a POST that is safe to repeat but better counted once (a receipt's print): the key may be left out.
OptionalIdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$",
    description="Optional: a key unique to this request (a UUID is best), sent again unchanged on a retry "
                "so the retry is answered from the first request and counts nothing. Kept at least 24 hours.",
)]


def idempotent_responses(status: int, *errors: type[DomainError]) -> dict[int | str, dict[str, Any]]:
    """`responses=` of an idempotent endpoint: its problems plus the replay header on success."""
    out = problems(IdempotencyKeyReused, IdempotencyRequestInProgress, *errors)
    out[status] = {"headers": {REPLAYED: REPLAYED_HEADER}}
    return out


async def run_once(
    session: AsyncSession, *, actor: Actor, key: str, request: Request, body: BaseModel | dict[str, Any], settings: Settings,
    status_code: int, run: Callable[[], Awaitable[Any]], read: type[BaseModel] | None = None,
    headers: HeadersOf | None = None,
) -> JSONResponse:
    """Run `run` once per key: the first time for real, afterwards from the stored answer.

    The key's row is written in the request's own transaction, with the work: a crash before
    the commit leaves neither, and a retry does the work once. An endpoint that answers with a
    status of its own (202: asked, not done) returns a JSONResponse; its status and body are
    stored, and `headers` rebuilds its headers (a Location) from them, on a replay too."""
    if actor.id is None:
        raise Forbidden("an idempotent request needs a user or an API key")
    outcome = await idempotency.begin(
        session, principal_id=actor.id, key=key, method=request.method, path=request.url.path,
        body=body if isinstance(body, dict) else body.model_dump(mode="python"),
        retention=timedelta(hours=settings.idempotency_retention_hours),
    )
    if isinstance(outcome, idempotency.Replay):
        extra = headers(outcome.status, outcome.body) if headers else {}
        return JSONResponse(outcome.body, status_code=outcome.status, headers={**extra, REPLAYED: "true"})
    answer = await run()
    if isinstance(answer, JSONResponse):
        status_code, result = answer.status_code, json.loads(bytes(answer.body))
    else:
        model = read or type(answer)
        result = model.model_validate(answer, from_attributes=True).model_dump(mode="json")
    await idempotency.complete(session, outcome, status=status_code, body=result)
    return JSONResponse(result, status_code=status_code, headers=headers(status_code, result) if headers else None)


async def _fingerprint(arguments: dict[str, Any]) -> dict[str, Any]:
    """What makes two requests the same: their body, form fields and files' contents (not a
    multipart boundary, which a retry chooses afresh)."""
    async def one(value: Any) -> Any:
        if isinstance(value, BaseModel):
            return value.model_dump(mode="python")
        if isinstance(value, UploadFile):
            content = await value.read()
            await value.seek(0)
            return {"filename": value.filename, "content_type": value.content_type, "sha256": hashlib.sha256(content).hexdigest()}
        if isinstance(value, list | tuple):
            return [await one(v) for v in value]
        return value
    return {name: await one(v) for name, v in sorted(arguments.items())
            if not isinstance(v, AsyncSession | Actor | Request | Settings)}


Endpoint = TypeVar("Endpoint", bound=Callable[..., Awaitable[Any]])


def idempotent(status_code: int, *, required: bool = False,
               headers: HeadersOf | None = None) -> Callable[[Endpoint], Endpoint]:
    """An endpoint that honours `Idempotency-Key` as payments do: a retry with the same key and
    body gets the first answer (`Idempotent-Replayed: true`), another body a 409. Optional unless
    `required`; without a key the endpoint runs as it is. The endpoint must take the request's
    session and a signed-in actor, and return its read model."""
    header = IdempotencyKey if required else OptionalIdempotencyKey

    def decorate(endpoint: Endpoint) -> Endpoint:
        signature = inspect.signature(endpoint, eval_str=True)
        read = signature.return_annotation
        read = read if inspect.isclass(read) and issubclass(read, BaseModel) else None

        @functools.wraps(endpoint)
        async def wrapper(*, idempotency_key: str | None, idempotency_request: Request, idempotency_settings: Settings,
                          **arguments: Any) -> Any:
            if idempotency_key is None:
                return await endpoint(**arguments)
            session = next(v for v in arguments.values() if isinstance(v, AsyncSession))
            actor = next(v for v in arguments.values() if isinstance(v, Actor))
            return await run_once(session, actor=actor, key=idempotency_key, request=idempotency_request,
                                  body=await _fingerprint(arguments), settings=idempotency_settings,
                                  status_code=status_code, run=lambda: endpoint(**arguments), read=read, headers=headers)

        extra = [inspect.Parameter("idempotency_key", inspect.Parameter.KEYWORD_ONLY, annotation=header,
                                   default=inspect.Parameter.empty if required else None),
                 inspect.Parameter("idempotency_request", inspect.Parameter.KEYWORD_ONLY, annotation=Request),
                 inspect.Parameter("idempotency_settings", inspect.Parameter.KEYWORD_ONLY,
                                   annotation=SettingsDep)]
        params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in signature.parameters.values()]
        wrapper.__signature__ = signature.replace(parameters=[*params, *extra])  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]
    return decorate


def document(schema: dict[str, Any]) -> dict[str, Any]:
    """Every operation taking an Idempotency-Key documents its 409s and the replay header."""
    conflicts = f"{IdempotencyKeyReused.__name__}, {IdempotencyRequestInProgress.__name__}"
    for ops in schema["paths"].values():
        for op in ops.values():
            if not any(p.get("in") == "header" and p.get("name") == "Idempotency-Key" for p in op.get("parameters", [])):
                continue
            responses = op.setdefault("responses", {})
            entry = responses.setdefault("409", {"description": "", "content": {PROBLEM_MEDIA_TYPE: {
                "schema": {"$ref": "#/components/schemas/Problem"}}}})
            if IdempotencyKeyReused.__name__ not in entry["description"]:
                entry["description"] = ", ".join(filter(None, [entry["description"], conflicts]))
            for status, response in responses.items():
                if status.startswith("2"):
                    response.setdefault("headers", {}).setdefault(REPLAYED, REPLAYED_HEADER)
    return schema
