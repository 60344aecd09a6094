"""Claiming an Idempotency-Key, replaying its first answer, and forgetting expired ones."""
from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.base import jsonable, rows_affected, utcnow
from app.domain.errors import Conflict
from app.domain.idempotency.model import IdempotencyRecord

# A key is kept at least a day, whatever the settings say: a client retrying after hours of
# outage must still get the first answer back, not take the payment a second time.
MIN_RETENTION = timedelta(hours=24)


class IdempotencyKeyReused(Conflict):
    title = "This Idempotency-Key was already used for a different request"
    title_zh = "此 Idempotency-Key 已用于另一个不同的请求"


class IdempotencyRequestInProgress(Conflict):
    title = "A request with this Idempotency-Key is still being processed; retry shortly"
    title_zh = "使用此 Idempotency-Key 的请求仍在处理中，请稍后重试"


@dataclass(frozen=True)
class Replay:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Claim:
    record_id: uuid.UUID


def _canonical(value: Any) -> Any:
    # 12.5, "12.50" and 12.50 are the same amount: the same request.
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return jsonable(value)


def request_hash(body: dict[str, Any]) -> str:
    text = json.dumps(_canonical(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


async def _insert(session: AsyncSession, *, principal_id: uuid.UUID, key: str, method: str, path: str,
                  digest: str, expires_at: datetime) -> uuid.UUID | None:
    # A concurrent holder of the same key makes this wait until it commits or rolls back.
    stmt = (insert(IdempotencyRecord)
            .values(id=uuid.uuid4(), created_at=utcnow(), principal_id=principal_id, key=key, method=method, path=path,
                    request_hash=digest, expires_at=expires_at)
            .on_conflict_do_nothing(index_elements=["principal_id", "key"]).returning(IdempotencyRecord.id))
    return (await session.execute(stmt)).scalar()


async def begin(
    session: AsyncSession, *, principal_id: uuid.UUID, key: str, method: str, path: str, body: dict[str, Any],
    retention: timedelta, now: datetime | None = None,
) -> Replay | Claim:
    """Claim the key for this request, or the stored answer of its first use."""
    now = now or utcnow()
    digest = request_hash(body)
    expires_at = now + max(retention, MIN_RETENTION)
    for _ in range(3):  # the row may be purged between the insert and the select
        new_id = await _insert(session, principal_id=principal_id, key=key, method=method, path=path,
                               digest=digest, expires_at=expires_at)
        if new_id is not None:
            return Claim(new_id)
        stmt = (select(IdempotencyRecord).where(IdempotencyRecord.principal_id == principal_id, IdempotencyRecord.key == key)
                .with_for_update().execution_options(populate_existing=True))
        row = (await session.execute(stmt)).scalar_one_or_none()
        if row is None:
            continue
        if row.expires_at <= now:  # an expired key is free again
            row.method, row.path, row.request_hash = method, path, digest
            row.status, row.response_body, row.expires_at, row.created_at = None, None, expires_at, now
            session.add(row)
            await session.flush()
            return Claim(row.id)
        return _answer(row, method=method, path=path, digest=digest)
    raise IdempotencyRequestInProgress(key=key)


def _answer(row: IdempotencyRecord, *, method: str, path: str, digest: str) -> Replay:
    if (row.method, row.path, row.request_hash) != (method, path, digest):
        raise IdempotencyKeyReused(f"the key '{row.key}' was first used for {row.method} {row.path} with another body",
                                   key=row.key, first_used_at=row.created_at.isoformat())
    if row.status is None or row.response_body is None:
        raise IdempotencyRequestInProgress(key=row.key)
    return Replay(status=row.status, body=row.response_body)


async def complete(session: AsyncSession, claim: Claim, *, status: int, body: dict[str, Any]) -> None:
    """Store the answer in the request's own transaction: it exists exactly when the work does."""
    await session.flush()
    # An UPDATE by id, not a load and a dirty flush: the claim was inserted with Core, so the
    # record is not in the session and loading it would cost a round trip.
    result = await session.execute(update(IdempotencyRecord).where(IdempotencyRecord.id == claim.record_id)
                                   .values(status=status, response_body=jsonable(body)))
    assert rows_affected(result) == 1


async def purge_expired(session: AsyncSession, *, now: datetime) -> int:
    result = await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= now))
    return rows_affected(result)
