"""The approved waivers of charges, for the bill explanation, the receipt and the reports."""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Subquery, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.base import by_id_in_estate
from app.domain.fees.billing.rules import CENT
from app.domain.fees.model import Charge
from app.domain.fees.waivers.model import Waiver, WaiverState
from app.domain.fees.waivers.schemas import WaiverOfLine
from app.domain.registry.model import Unit


def sentence(amount: object, reason: str) -> str:
    return f"减免 {amount}元（{reason}）"


async def approved_of(session: AsyncSession, charge_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[WaiverOfLine]]:
    """Each charge's approved waivers, oldest first: one query. Reversed ones no longer count and are left out."""
    out: dict[uuid.UUID, list[WaiverOfLine]] = {c: [] for c in charge_ids}
    if not charge_ids:
        return out
    stmt = (select(Waiver).where(Waiver.charge_id.in_(list(charge_ids)), Waiver.status == WaiverState.approved)
            .order_by(Waiver.decided_at, Waiver.id))
    for w in (await session.execute(stmt)).scalars():
        out[w.charge_id].append(WaiverOfLine(waiver_id=w.id, amount=w.amount, reason=w.reason, approved_at=w.decided_at,
                                             rule_id=w.rule_id, text=sentence(w.amount.quantize(CENT), w.reason)))
    return out


async def waived_of_month(session: AsyncSession, *, estate_id: uuid.UUID, charges_of_month: ColumnElement[bool],
                          end: datetime) -> list[Any]:
    """Per (unit, building, item): what waivers approved before `end` took off the month's charges (month report)."""
    stmt = (select(Charge.unit_id, Unit.building_id, Charge.fee_item_id, func.sum(Waiver.amount))
            .select_from(Waiver).join(Charge, Charge.id == Waiver.charge_id)
            .join(Unit, by_id_in_estate(Unit, Charge.unit_id, estate_id))
            .where(Waiver.estate_id == estate_id, Charge.estate_id == estate_id, charges_of_month,
                   Waiver.status == WaiverState.approved, Waiver.decided_at < end)
            .group_by(Charge.unit_id, Unit.building_id, Charge.fee_item_id))
    return list((await session.execute(stmt)).all())


def approved_before(*, estate_id: uuid.UUID, charges: ColumnElement[bool], end: datetime) -> Subquery:
    """Per charge matching `charges` (charge_id, waived): what waivers approved before `end` took off it,
    reversed ones not counted -- the month report's "waived", here for its late-fee block."""
    return (select(Waiver.charge_id, func.sum(Waiver.amount).label("waived"))
            .join(Charge, Charge.id == Waiver.charge_id)
            .where(Waiver.estate_id == estate_id, Charge.estate_id == estate_id, charges,
                   Waiver.status == WaiverState.approved, Waiver.decided_at < end)
            .group_by(Waiver.charge_id).subquery())
