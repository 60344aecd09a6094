"""Fee items and their price history, units' subscriptions, and meter readings (§5.2)."""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import versions
from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import flush_unique, snapshot, utcnow
from app.domain.calendar import estate_time
from app.domain.errors import AlreadyExists, Conflict, Invalid, NotFound
from app.domain.fees.billing import late_fees
from app.domain.fees.billing import rules as billing
from app.domain.fees.billing.schemas import FeeItemCreate, FeeItemUpdate, FeePriceCreate, MeterReadingCreate, SubscriptionPut
from app.domain.fees.model import BillingRun, Charge, ChargeSource, FeeItem, FeeKind, FeePrice, MeterReading, UnitFeeItem
from app.domain.fees.prorate import days as prorate_days
from app.domain.pagination import PageRequest, paginate
from app.domain.registry import service as registry_service
from app.domain.registry.model import Estate, Unit
from app.domain.visibility import Visible, load_visible


class FeeItemNotFound(NotFound):
    title = "Fee item not found"
    title_zh = "未找到该收费项目"


FEE_ITEM = Visible(model=FeeItem, missing=FeeItemNotFound)


class FeeItemCodeTaken(AlreadyExists):
    title = "The estate already has a fee item with this code"
    title_zh = "本小区已有使用此代码的收费项目"


class PriceDateTaken(AlreadyExists):
    title = "The item already has a price from this date"
    title_zh = "该收费项目已有从这一天起执行的单价"


class PriceWouldRewriteBilledCharges(Conflict):
    title = "The date falls in a month already billed; a new price may only apply from a month not yet billed"
    title_zh = "该日期落在已出账的月份；新单价只能从未出账的月份起执行"


class NotSubscribable(Invalid):
    title = "Only per_area, fixed or metered items that do not apply to every unit take subscriptions"
    title_zh = "只有不适用于全部房号的按面积、固定或抄表收费项目才能单独开通"


class SubscriptionNotFound(NotFound):
    title = "The unit is not subscribed to this item"
    title_zh = "该房号未开通此收费项目"


class FeeItemInactive(Invalid):
    title = "The fee item is not active"
    title_zh = "该收费项目未启用"


# --- shared helpers --------------------------------------------------------------------

async def load_estate(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID) -> Estate:
    return await registry_service.check_estate(session, actor=actor, estate_id=estate_id)


async def load_unit(session: AsyncSession, *, actor: Actor, unit_id: uuid.UUID) -> Unit:
    return await load_visible(session, registry_service.UNIT, unit_id, actor=actor)


async def get_item(session: AsyncSession, *, actor: Actor, item_id: uuid.UUID, estate_id: uuid.UUID | None = None) -> FeeItem:
    item = await load_visible(session, FEE_ITEM, item_id, actor=actor)
    if estate_id is not None and item.estate_id != estate_id:
        raise FeeItemNotFound()
    return item


async def prices_of(session: AsyncSession, item_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[FeePrice]]:
    rows = (await session.execute(
        select(FeePrice).where(FeePrice.fee_item_id.in_(item_ids)).order_by(FeePrice.effective_from)
    )).scalars().all()
    out: dict[uuid.UUID, list[FeePrice]] = {i: [] for i in item_ids}
    for row in rows:
        out[row.fee_item_id].append(row)
    return out


def price_in_force(prices: list[FeePrice], day: date) -> Decimal | None:
    return billing.price_on(((p.effective_from, p.unit_price) for p in prices), day)


# --- items and prices ------------------------------------------------------------------

class FeeItemSort(StrEnum):
    """The keys fee items sort by."""

    code = "code"
    name = "name"
    kind = "kind"
    created_at = "created_at"


async def list_items(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, page: PageRequest,
    kind: FeeKind | None, active: bool | None,
) -> tuple[list[dict[str, Any]], int]:
    estate = await load_estate(session, actor=actor, estate_id=estate_id)
    stmt = select(FeeItem).where(FeeItem.estate_id == estate_id)
    if kind is not None:
        stmt = stmt.where(FeeItem.kind == kind.value)
    if active is not None:
        stmt = stmt.where(FeeItem.active == active)
    sortable = {
        FeeItemSort.code: FeeItem.code, FeeItemSort.name: FeeItem.name, FeeItemSort.kind: FeeItem.kind,
        FeeItemSort.created_at: FeeItem.created_at,
    }
    rows, total = await paginate(session, stmt, page, sortable=sortable, default=[FeeItem.code, FeeItem.id])
    prices = await prices_of(session, [r.id for r in rows])
    today = estate_time.today(estate)
    return [{**late_fees.columns(r), "current_price": price_in_force(prices[r.id], today)} for r in rows], total


async def item_detail(session: AsyncSession, *, actor: Actor, item_id: uuid.UUID) -> dict[str, Any]:
    item = await get_item(session, actor=actor, item_id=item_id)
    estate = await session.get_one(Estate, item.estate_id)
    prices = (await prices_of(session, [item.id]))[item.id]
    return {**late_fees.columns(item), "current_price": price_in_force(prices, estate_time.today(estate)), "prices": prices}


async def create_item(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, data: FeeItemCreate) -> dict[str, Any]:
    await load_estate(session, actor=actor, estate_id=estate_id)
    item = FeeItem(estate_id=estate_id, **data.model_dump(exclude={"unit_price", "effective_from"}))
    session.add(item)
    await flush_unique(session, FeeItemCodeTaken(field="code"))
    price = FeePrice(estate_id=estate_id, fee_item_id=item.id, effective_from=data.effective_from, unit_price=data.unit_price)
    session.add(price)
    await session.flush()
    await audit.record(session, actor=actor, action="create", entity="fee_item", entity_id=item.id, estate_id=estate_id,
                       after={**snapshot(item), "price": snapshot(price)})
    return await item_detail(session, actor=actor, item_id=item.id)


async def update_item(
    session: AsyncSession, *, actor: Actor, item_id: uuid.UUID, data: FeeItemUpdate, expected_version: int | None = None,
) -> dict[str, Any]:
    item = await get_item(session, actor=actor, item_id=item_id)
    await versions.check_locked(session, item, expected_version=expected_version)
    before = snapshot(item)
    for key, value in data.model_dump(exclude_unset=True).items():
        setattr(item, key, value)
    await session.flush()
    await audit.record(session, actor=actor, action="update", entity="fee_item", entity_id=item.id, estate_id=item.estate_id,
                       before=before, after=snapshot(item))
    return await item_detail(session, actor=actor, item_id=item.id)


async def _month_billed(session: AsyncSession, *, item: FeeItem, month: str) -> bool:
    run = select(BillingRun.id).where(BillingRun.estate_id == item.estate_id, BillingRun.month >= month)
    charged = select(Charge.id).where(
        Charge.fee_item_id == item.id, Charge.period >= month,
        Charge.source.in_([ChargeSource.billing.value, ChargeSource.meter.value]),
    )
    return (await session.execute(select(run.exists() | charged.exists()))).scalar_one()


async def add_price(session: AsyncSession, *, actor: Actor, item_id: uuid.UUID, data: FeePriceCreate) -> dict[str, Any]:
    item = await get_item(session, actor=actor, item_id=item_id)
    same_day = select(func.count()).select_from(FeePrice).where(
        FeePrice.fee_item_id == item.id, FeePrice.effective_from == data.effective_from)
    if (await session.execute(same_day)).scalar_one():
        raise PriceDateTaken(field="effective_from")
    month = estate_time.month_key(data.effective_from)
    if await _month_billed(session, item=item, month=month):
        raise PriceWouldRewriteBilledCharges(
            f"{month} or a later month is already billed; its charges keep the price they were billed at",
            field="effective_from", month=month)
    price = FeePrice(estate_id=item.estate_id, fee_item_id=item.id, **data.model_dump())
    session.add(price)
    await flush_unique(session, PriceDateTaken(field="effective_from"))
    await audit.record(session, actor=actor, action="add_price", entity="fee_item", entity_id=item.id,
                       estate_id=item.estate_id, after=snapshot(price))
    return await item_detail(session, actor=actor, item_id=item.id)


# --- subscriptions ---------------------------------------------------------------------

def _subscription_read(sub: UnitFeeItem, item: FeeItem) -> dict[str, Any]:
    return {**late_fees.columns(sub), "fee_item_code": item.code, "fee_item_name": item.name, "kind": item.kind}


class SubscriptionSort(StrEnum):
    """The keys a unit's subscriptions sort by."""

    from_month = "from_month"
    created_at = "created_at"


async def list_subscriptions(
    session: AsyncSession, *, actor: Actor, unit_id: uuid.UUID, page: PageRequest,
) -> tuple[list[dict[str, Any]], int]:
    await load_unit(session, actor=actor, unit_id=unit_id)
    stmt = select(UnitFeeItem).where(UnitFeeItem.unit_id == unit_id)
    sortable = {
        SubscriptionSort.from_month: UnitFeeItem.from_month, SubscriptionSort.created_at: UnitFeeItem.created_at,
    }
    rows, total = await paginate(session, stmt, page, sortable=sortable, default=[UnitFeeItem.from_month, UnitFeeItem.id])
    items = {i.id: i for i in (await session.execute(
        select(FeeItem).where(FeeItem.id.in_([r.fee_item_id for r in rows])))).scalars()}
    return [_subscription_read(r, items[r.fee_item_id]) for r in rows], total


async def _unit_and_item(session: AsyncSession, *, actor: Actor, unit_id: uuid.UUID, item_id: uuid.UUID) -> tuple[Unit, FeeItem]:
    unit = await load_unit(session, actor=actor, unit_id=unit_id)
    return unit, await get_item(session, actor=actor, item_id=item_id, estate_id=unit.estate_id)


async def put_subscription(
    session: AsyncSession, *, actor: Actor, unit_id: uuid.UUID, item_id: uuid.UUID, data: SubscriptionPut,
    expected_version: int | None = None,
) -> dict[str, Any]:
    unit, item = await _unit_and_item(session, actor=actor, unit_id=unit_id, item_id=item_id)
    if item.applies_to_all or FeeKind(item.kind) is FeeKind.one_off:
        raise NotSubscribable(field="item_id")
    prorate_days.check_subscription_days(from_month=data.from_month, to_month=data.to_month, starts_on=data.starts_on,
                                         ends_on=data.ends_on)
    sub = await versions.load_for_edit(session, select(UnitFeeItem).where(
        UnitFeeItem.unit_id == unit.id, UnitFeeItem.fee_item_id == item.id),
        record=versions.key("unit_fee_item", unit.id, item.id), expected_version=expected_version)
    before = snapshot(sub) if sub is not None else None
    if sub is None:
        sub = UnitFeeItem(estate_id=unit.estate_id, unit_id=unit.id, fee_item_id=item.id, **data.model_dump())
        session.add(sub)
    else:
        for key, value in data.model_dump().items():
            setattr(sub, key, value)
    await flush_unique(session, AlreadyExists("the unit was subscribed at the same moment; retry"))
    await audit.record(session, actor=actor, action="subscribe", entity="unit_fee_item", entity_id=sub.id,
                       estate_id=unit.estate_id, before=before, after=snapshot(sub))
    return _subscription_read(sub, item)


async def delete_subscription(session: AsyncSession, *, actor: Actor, unit_id: uuid.UUID, item_id: uuid.UUID) -> None:
    unit, item = await _unit_and_item(session, actor=actor, unit_id=unit_id, item_id=item_id)
    sub = (await session.execute(select(UnitFeeItem).where(
        UnitFeeItem.unit_id == unit.id, UnitFeeItem.fee_item_id == item.id))).scalar_one_or_none()
    if sub is None:
        raise SubscriptionNotFound()
    before = snapshot(sub)
    await session.delete(sub)
    await session.flush()
    await audit.record(session, actor=actor, action="unsubscribe", entity="unit_fee_item", entity_id=before["id"],
                       estate_id=unit.estate_id, before=before)


# --- meter readings --------------------------------------------------------------------

class MeterUnitNotInEstate(Invalid):
    title = "unit_id names no unit of this estate"
    title_zh = "unit_id 不是本小区的房号"


class NotAMeteredItem(Invalid):
    title = "fee_item_id names no metered item of this estate"
    title_zh = "fee_item_id 不是本小区的抄表收费项目"


class ReadingAlreadyTaken(AlreadyExists):
    title = "This meter already has a reading for the period"
    title_zh = "该表本期已有抄表读数"


class PreviousReadingNeeded(Invalid):
    title = "The meter has no earlier reading; send previous"
    title_zh = "该表没有之前的读数；请填写上期读数（previous）"


class ReadingBelowPrevious(Invalid):
    title = "current is less than previous"
    title_zh = "本期读数小于上期读数"


class NoPriceInForce(Invalid):
    title = "The item has no price in force on the period's first day"
    title_zh = "该收费项目在本期第一天没有执行中的单价"


async def _reading_targets(session: AsyncSession, *, estate_id: uuid.UUID, data: MeterReadingCreate) -> tuple[Unit, FeeItem]:
    unit = await session.get(Unit, data.unit_id)
    if unit is None or unit.estate_id != estate_id:
        raise MeterUnitNotInEstate(field="unit_id")
    item = await session.get(FeeItem, data.fee_item_id)
    if item is None or item.estate_id != estate_id or FeeKind(item.kind) is not FeeKind.metered:
        raise NotAMeteredItem(field="fee_item_id")
    if not item.active:
        raise FeeItemInactive(field="fee_item_id")
    return unit, item


async def _previous(session: AsyncSession, *, data: MeterReadingCreate) -> Decimal:
    if data.previous is not None:
        return data.previous
    last = (await session.execute(
        select(MeterReading.current).where(
            MeterReading.unit_id == data.unit_id, MeterReading.fee_item_id == data.fee_item_id,
            MeterReading.period < data.period,
        ).order_by(MeterReading.period.desc()).limit(1)
    )).scalar_one_or_none()
    if last is None:
        raise PreviousReadingNeeded(field="previous")
    return last


async def record_reading(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, data: MeterReadingCreate,
) -> dict[str, Any]:
    """Store the reading and bill what was used at once, at the price of the period's first day."""
    estate = await load_estate(session, actor=actor, estate_id=estate_id)
    unit, item = await _reading_targets(session, estate_id=estate_id, data=data)
    previous = await _previous(session, data=data)
    if data.current < previous:
        raise ReadingBelowPrevious(field="current", previous=str(previous))
    price = price_in_force((await prices_of(session, [item.id]))[item.id], estate_time.month_first(data.period))
    if price is None:
        raise NoPriceInForce(field="period")
    reading = MeterReading(estate_id=estate_id, unit_id=unit.id, fee_item_id=item.id, period=data.period,
                           previous=previous.quantize(billing.CENT), current=data.current.quantize(billing.CENT),
                           read_at=utcnow(), read_by=actor.id)
    session.add(reading)
    await flush_unique(session, ReadingAlreadyTaken(field="period"))
    charge = None
    line = billing.metered(price=price, previous=previous, current=data.current)
    if line is not None:
        # Not due before it is billed: a late reading is due on the day it is read.
        due = max(billing.due_date(data.period, item.due_day), estate_time.today(estate))
        charge = Charge(estate_id=estate_id, unit_id=unit.id, fee_item_id=item.id, period=data.period,
                        description=billing.describe(data.period, item.name), amount=line.amount, due_date=due,
                        basis=line.basis, source=ChargeSource.meter, source_id=reading.id)
        session.add(charge)
        await flush_unique(session, ReadingAlreadyTaken("the period is already billed for this meter", field="period"))
        reading.charge_id = charge.id
        await session.flush()
    await audit.record(session, actor=actor, action="read_meter", entity="meter_reading", entity_id=reading.id,
                       estate_id=estate_id, after={**snapshot(reading), "charge": snapshot(charge) if charge else None})
    return {**late_fees.columns(reading), "quantity": reading.current - reading.previous,
            "charge": late_fees.charge_view(charge) if charge else None}
