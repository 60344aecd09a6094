"""Charges on a unit's account: the list the desk reads (with late fees posted and accruing), one-off
charges entered at the desk (deposits), and repair charges from chargeable vouchers."""
from __future__ import annotations

import uuid
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import snapshot
from app.domain.calendar import estate_time
from app.domain.errors import Invalid, NotFound
from app.domain.fees.billing import late_fees
from app.domain.fees.billing.items import FeeItemInactive, load_estate, load_unit
from app.domain.fees.billing.schemas import ManualChargeCreate
from app.domain.fees.late_fees import service as late_fee_service
from app.domain.fees.model import Charge, ChargeSource, FeeItem, FeeKind
from app.domain.pagination import PageRequest, paginate
from app.domain.registry.model import Estate
from app.domain.repairs.model import WorkOrder
from app.domain.repairs.vouchers.model import Voucher
from app.domain.visibility import Visible

# The one-off item repair charges are billed under; made on first use when the estate has none.
REPAIR_ITEM_CODE = "repair"
REPAIR_ITEM_NAME = "维修费"


class ChargeStatus(StrEnum):
    open = "open"
    paid = "paid"


class ChargeNotFound(NotFound):
    title = "Charge not found"
    title_zh = "未找到该笔应收费用"


CHARGE = Visible(model=Charge, missing=ChargeNotFound)


class NotAOneOffItem(Invalid):
    title = "fee_item_id names no one_off item of the unit's estate"
    title_zh = "fee_item_id 不是该房号所在小区的一次性收费项目"


# --- reading -------------------------------------------------------------------------

with_late_fee = late_fees.charge_view


class ChargeSort(StrEnum):
    """The keys charges sort by."""

    due_date = "due_date"
    period = "period"
    amount = "amount"
    created_at = "created_at"


async def _page_with_late_fees(
    session: AsyncSession, stmt: Any, *, estate: Estate, page: PageRequest, status: ChargeStatus | None, period: str | None,
) -> tuple[list[dict[str, Any]], int]:
    if status is ChargeStatus.open:
        stmt = stmt.where(Charge.is_open())
    elif status is ChargeStatus.paid:
        stmt = stmt.where(~Charge.is_open())
    if period is not None:
        stmt = stmt.where(Charge.period == period)
    sortable = {
        ChargeSort.due_date: Charge.due_date, ChargeSort.period: Charge.period, ChargeSort.amount: Charge.amount,
        ChargeSort.created_at: Charge.created_at,
    }
    rows, total = await paginate(session, stmt, page, sortable=sortable, default=[Charge.due_date, Charge.created_at, Charge.id])
    due = await late_fee_service.accruing(session, estate_id=estate.id, charges=rows, as_of=estate_time.today(estate))
    return [with_late_fee(r, posted=due[r.id].posted.amount, days=due[r.id].posted.days, accruing=due[r.id].to_post)
            for r in rows], total


async def list_unit_charges(
    session: AsyncSession, *, actor: Actor, unit_id: uuid.UUID, page: PageRequest,
    status: ChargeStatus | None = None, period: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    unit = await load_unit(session, actor=actor, unit_id=unit_id)
    estate = await session.get_one(Estate, unit.estate_id)
    stmt = select(Charge).where(Charge.unit_id == unit.id)
    return await _page_with_late_fees(session, stmt, estate=estate, page=page, status=status, period=period)


async def list_estate_charges(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, page: PageRequest,
    status: ChargeStatus | None = None, period: str | None = None, fee_item_id: uuid.UUID | None = None,
) -> tuple[list[dict[str, Any]], int]:
    estate = await load_estate(session, actor=actor, estate_id=estate_id)
    stmt = select(Charge).where(Charge.estate_id == estate.id)
    if fee_item_id is not None:
        stmt = stmt.where(Charge.fee_item_id == fee_item_id)
    return await _page_with_late_fees(session, stmt, estate=estate, page=page, status=status, period=period)


# --- one-off charges -------------------------------------------------------------------

async def create_manual_charge(
    session: AsyncSession, *, actor: Actor, unit_id: uuid.UUID, data: ManualChargeCreate,
) -> dict[str, Any]:
    """A deposit or other one-off charge, due today."""
    unit = await load_unit(session, actor=actor, unit_id=unit_id)
    item = await session.get(FeeItem, data.fee_item_id)
    if item is None or item.estate_id != unit.estate_id or FeeKind(item.kind) is not FeeKind.one_off:
        raise NotAOneOffItem(field="fee_item_id")
    if not item.active:
        raise FeeItemInactive(field="fee_item_id")
    estate = await session.get_one(Estate, unit.estate_id)
    charge = Charge(estate_id=unit.estate_id, unit_id=unit.id, fee_item_id=item.id, period=None,
                    description=data.description, amount=data.amount, due_date=estate_time.today(estate),
                    basis={"amount": str(data.amount), "entered_by": actor.label[:100]}, source=ChargeSource.manual)
    session.add(charge)
    await session.flush()
    await audit.record(session, actor=actor, action="create", entity="charge", entity_id=charge.id,
                       estate_id=unit.estate_id, after=snapshot(charge))
    return with_late_fee(charge)


async def _repair_item(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID) -> FeeItem:
    item = (await session.execute(select(FeeItem).where(
        FeeItem.estate_id == estate_id, FeeItem.code == REPAIR_ITEM_CODE))).scalar_one_or_none()
    if item is not None:
        return item
    item = FeeItem(estate_id=estate_id, code=REPAIR_ITEM_CODE, name=REPAIR_ITEM_NAME, kind=FeeKind.one_off,
                   unit_label="元", applies_to_all=False)
    session.add(item)
    await session.flush()
    await audit.record(session, actor=actor, action="create", entity="fee_item", entity_id=item.id, estate_id=estate_id,
                       after=snapshot(item))
    return item


async def _charge_of(session: AsyncSession, voucher_id: uuid.UUID) -> Charge | None:
    return (await session.execute(select(Charge).where(
        Charge.source == ChargeSource.voucher.value, Charge.source_id == voucher_id))).scalar_one_or_none()


async def charge_for_voucher(session: AsyncSession, *, actor: Actor, voucher: Voucher) -> Charge | None:
    """The unit's repair charge for a chargeable voucher; the same charge however often it is asked.

    None when there is nothing to charge: a free voucher, a zero amount, or a public-area
    order with no unit to bill.
    """
    if not voucher.chargeable or voucher.amount <= 0:
        return None
    existing = await _charge_of(session, voucher.id)
    if existing is not None:
        return existing
    order = await session.get(WorkOrder, voucher.work_order_id)
    if order is None or order.unit_id is None:
        return None
    item = await _repair_item(session, actor=actor, estate_id=voucher.estate_id)
    estate = await session.get_one(Estate, voucher.estate_id)
    charge = Charge(estate_id=voucher.estate_id, unit_id=order.unit_id, fee_item_id=item.id, period=None,
                    description=f"{item.name}（{voucher.work_done[:80]}）", amount=Decimal(voucher.amount),
                    due_date=estate_time.today(estate, now=voucher.posted_at), source=ChargeSource.voucher,
                    source_id=voucher.id, basis={"voucher_id": str(voucher.id), "work_order_id": str(order.id),
                                                 "amount": str(voucher.amount)})
    session.add(charge)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        # Another request charged this voucher at the same moment: answer with its charge.
        return await _charge_of(session, voucher.id)
    await audit.record(session, actor=actor, action="charge_voucher", entity="charge", entity_id=charge.id,
                       estate_id=voucher.estate_id, after=snapshot(charge))
    return charge
