"""A unit's billing period (move-in, move-out): what the billing run prorates by (issue 17)."""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import versions
from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import flush_unique, snapshot
from app.domain.errors import AlreadyExists, Invalid
from app.domain.fees.billing.items import load_unit
from app.domain.fees.prorate.days import Span
from app.domain.fees.prorate.model import UnitBillingPeriod
from app.domain.fees.prorate.schemas import BillingPeriodPut


class BilledToBeforeFrom(Invalid):
    title = "billed_to is before billed_from"
    title_zh = "billed_to 早于 billed_from"


def _read(unit_id: uuid.UUID, row: UnitBillingPeriod | None) -> dict[str, Any]:
    return {"unit_id": unit_id, "billed_from": row.billed_from if row else None, "billed_to": row.billed_to if row else None,
            "version": versions.version_of(row)}


async def _row(session: AsyncSession, unit_id: uuid.UUID) -> UnitBillingPeriod | None:
    return (await session.execute(select(UnitBillingPeriod).where(UnitBillingPeriod.unit_id == unit_id))).scalar_one_or_none()


async def get_period(session: AsyncSession, *, actor: Actor, unit_id: uuid.UUID) -> dict[str, Any]:
    unit = await load_unit(session, actor=actor, unit_id=unit_id)
    return _read(unit.id, await _row(session, unit.id))


async def put_period(
    session: AsyncSession, *, actor: Actor, unit_id: uuid.UUID, data: BillingPeriodPut, expected_version: int | None = None,
) -> dict[str, Any]:
    """Set the unit's move-in and move-out days; months billed already keep their charges."""
    unit = await load_unit(session, actor=actor, unit_id=unit_id)
    if data.billed_from is not None and data.billed_to is not None and data.billed_to < data.billed_from:
        raise BilledToBeforeFrom(field="billed_to")
    row = await versions.load_for_edit(session, select(UnitBillingPeriod).where(UnitBillingPeriod.unit_id == unit.id),
                                       record=versions.key("unit_billing_period", unit.id), expected_version=expected_version)
    before = snapshot(row) if row is not None else None
    if row is None:
        row = UnitBillingPeriod(estate_id=unit.estate_id, unit_id=unit.id, **data.model_dump())
        session.add(row)
    else:
        row.billed_from, row.billed_to = data.billed_from, data.billed_to
    await flush_unique(session, AlreadyExists("the unit's billing period was set at the same moment; retry"))
    await audit.record(session, actor=actor, action="set_billing_period", row=row, before=before)
    return _read(unit.id, row)


async def periods_of(session: AsyncSession, estate_id: uuid.UUID) -> dict[uuid.UUID, Span]:
    rows = (await session.execute(select(UnitBillingPeriod).where(UnitBillingPeriod.estate_id == estate_id))).scalars()
    return {r.unit_id: (r.billed_from, r.billed_to) for r in rows}
