"""The `Idempotency-Key` header of money-moving POSTs.

A missing key is a 422 validation problem naming the header (field `Idempotency-Key`): the
request is well-formed HTTP but incomplete, like a missing body field. The first answer to a
key is stored with the work in one transaction; the same key with the same body returns
that answer again with `Idempotent-Replayed: true`; with another body it is a 409
`idempotency-key-reused`.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.errors import problems
from app.config import Settings
from app.domain.auth.principal import Actor
from app.domain.errors import DomainError, Forbidden
from app.domain.idempotency import service as idempotency
from app.domain.idempotency.service import IdempotencyKeyReused, IdempotencyRequestInProgress

REPLAYED = "Idempotent-Replayed"

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
    out[status] = {"headers": {REPLAYED: {
        "description": "`true` when this is the stored answer to an earlier request with the same key",
        "schema": {"type": "string", "enum": ["true"]},
    }}}
    return out


async def run_once(
    session: AsyncSession, *, actor: Actor, key: str, request: Request, body: BaseModel, settings: Settings,
    status_code: int, run: Callable[[], Awaitable[BaseModel]],
) -> JSONResponse:
    """Run `run` once per key: the first time for real, afterwards from the stored answer."""
    if actor.id is None:
        raise Forbidden("an idempotent request needs a user or an API key")
    outcome = await idempotency.begin(
        session, principal_id=actor.id, key=key, method=request.method, path=request.url.path,
        body=body.model_dump(mode="python"), retention=timedelta(hours=settings.idempotency_retention_hours),
    )
    if isinstance(outcome, idempotency.Replay):
        return JSONResponse(outcome.body, status_code=outcome.status, headers={REPLAYED: "true"})
    result = (await run()).model_dump(mode="json")
    await idempotency.complete(session, outcome, status=status_code, body=result)
    return JSONResponse(result, status_code=status_code)
