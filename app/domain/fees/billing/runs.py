"""The monthly billing run: every private unit's charges for the month, once (§5.2, §5.8).

A run is planned (what it would create, minus what exists), then written with
INSERT .. ON CONFLICT DO NOTHING against the partial unique index on (unit, item, period):
two runs racing for one month cannot bill a unit twice, and the (estate, month) unique
BillingRun row makes a repeated run answer with the first one.
"""
from __future__ import annotations

import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import snapshot, utcnow
from app.domain.calendar import estate_time
from app.domain.fees.billing import rules as billing
from app.domain.fees.billing.items import load_estate, price_in_force, prices_of
from app.domain.fees.model import BILLED_ONCE, BillingRun, Charge, ChargeSource, FeeItem, FeeKind, UnitFeeItem, VacantRule
from app.domain.fees.prepaid import deductions as prepaid_deductions
from app.domain.fees.prorate import days as prorate
from app.domain.fees.prorate import service as billing_periods
from app.domain.fees.waivers import rules as discount_rules
from app.domain.pagination import PageRequest, paginate
from app.domain.registry.model import Building, Estate, Unit
from app.domain.registry.names import unit_label

PREVIEW_LINES = 20
BILLED_KINDS = [FeeKind.per_area.value, FeeKind.fixed.value]


@dataclass
class PlannedLine:
    unit: Unit
    label: str
    item: FeeItem
    amount: Decimal
    basis: dict[str, Any]


@dataclass
class Plan:
    month: str
    lines: list[PlannedLine] = field(default_factory=list)
    skipped_vacant: int = 0
    items_without_price: list[str] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))


async def _units(session: AsyncSession, estate: Estate) -> list[tuple[Unit, str]]:
    rows = (await session.execute(
        select(Unit, Building).join(Building, Building.id == Unit.building_id).where(Unit.estate_id == estate.id)
        .order_by(Building.number.asc().nulls_last(), Building.name, Unit.entrance, Unit.number, Unit.id)
    )).all()
    return [(u, unit_label(building_number=b.number, building_name=b.name, entrance=u.entrance, number=u.number,
                           script=estate.script)) for u, b in rows]


async def _subscriptions(session: AsyncSession, estate_id: uuid.UUID, month: str) -> dict[tuple[uuid.UUID, uuid.UUID], UnitFeeItem]:
    rows = (await session.execute(select(UnitFeeItem).where(
        UnitFeeItem.estate_id == estate_id, UnitFeeItem.from_month <= month,
        (UnitFeeItem.to_month.is_(None)) | (UnitFeeItem.to_month >= month),
    ))).scalars()
    return {(r.unit_id, r.fee_item_id): r for r in rows}


async def _existing(session: AsyncSession, estate_id: uuid.UUID, month: str) -> set[tuple[uuid.UUID, uuid.UUID]]:
    # Cancelled charges count too: a month once billed is corrected by a replacement, not rebilled.
    rows = await session.execute(select(Charge.unit_id, Charge.fee_item_id).where(
        Charge.estate_id == estate_id, Charge.period == month,
        Charge.source.in_([ChargeSource.billing.value, ChargeSource.meter.value])))
    return {(r.unit_id, r.fee_item_id) for r in rows}


def _line(item: FeeItem, unit: Unit, *, price: Decimal, quantity: Decimal | None, days: tuple[int, int]) -> billing.Line | None:
    return billing.compute(kind=FeeKind(item.kind), price=price, area=unit.area, quantity=quantity, vacant=unit.is_vacant,
                           vacant_rule=VacantRule(item.vacant_rule), vacant_discount=item.vacant_discount,
                           days=days[0], days_in_month=days[1])


@dataclass
class _Month:
    """What one month's plan reads once: the units, their subscriptions, billing periods and charges."""

    month: str
    units: list[tuple[Unit, str]]
    subscribed: dict[tuple[uuid.UUID, uuid.UUID], UnitFeeItem]
    periods: dict[uuid.UUID, prorate.Span]
    existing: set[tuple[uuid.UUID, uuid.UUID]]


def _plan_item(plan: Plan, ctx: _Month, item: FeeItem, price: Decimal) -> None:
    for unit, label in ctx.units:
        sub = ctx.subscribed.get((unit.id, item.id))
        if item.applies_to_all and unit.is_public or not item.applies_to_all and sub is None:
            continue
        if (unit.id, item.id) in ctx.existing:
            continue
        spans = [ctx.periods.get(unit.id, (None, None))] + ([prorate.subscription_span(sub)] if sub else [])
        days = prorate.month_days(ctx.month, *spans)
        if days[0] == 0:  # moved out before the month, or in after it
            continue
        quantity = None if item.applies_to_all or sub is None else sub.quantity
        line = _line(item, unit, price=price, quantity=quantity, days=days)
        if line is None:
            plan.skipped_vacant += unit.is_vacant
            continue
        plan.lines.append(PlannedLine(unit=unit, label=label, item=item, amount=line.amount, basis=line.basis))


async def plan_month(session: AsyncSession, *, estate: Estate, month: str) -> Plan:
    """What a run for the month would create now: nothing for (unit, item) pairs already billed.

    A month the unit's billing period or a subscription starts or ends in is prorated by days.
    """
    plan = Plan(month=month)
    items = list((await session.execute(select(FeeItem).where(
        FeeItem.estate_id == estate.id, FeeItem.active.is_(True), FeeItem.kind.in_(BILLED_KINDS),
    ).order_by(FeeItem.code))).scalars())
    prices = await prices_of(session, [i.id for i in items])
    ctx = _Month(month=month, units=await _units(session, estate), subscribed=await _subscriptions(session, estate.id, month),
                 periods=await billing_periods.periods_of(session, estate.id), existing=await _existing(session, estate.id, month))
    first_day = estate_time.month_first(month)
    for item in items:
        price = price_in_force(prices[item.id], first_day)
        if price is None:
            plan.items_without_price.append(item.code)
            continue
        _plan_item(plan, ctx, item, price)
    return plan


async def _run_of(session: AsyncSession, estate_id: uuid.UUID, month: str) -> BillingRun | None:
    return (await session.execute(select(BillingRun).where(
        BillingRun.estate_id == estate_id, BillingRun.month == month))).scalar_one_or_none()


def _summary(plan: Plan, *, already_run: bool) -> dict[str, Any]:
    lines = [] if already_run else plan.lines
    per_item: OrderedDict[uuid.UUID, dict[str, Any]] = OrderedDict()
    for line in lines:
        row = per_item.setdefault(line.item.id, {"fee_item_id": line.item.id, "code": line.item.code,
                                                 "name": line.item.name, "count": 0, "total": Decimal("0.00")})
        row["count"] += 1
        row["total"] += line.amount
    return {
        "month": plan.month, "already_run": already_run, "count": len(lines),
        "total": sum((line.amount for line in lines), Decimal("0.00")), "per_item": list(per_item.values()),
        "lines": [{"unit_id": ln.unit.id, "unit_label": ln.label, "fee_item_id": ln.item.id, "fee_item_name": ln.item.name,
                   "amount": ln.amount, "basis": ln.basis} for ln in lines[:PREVIEW_LINES]],
        "skipped_vacant": 0 if already_run else plan.skipped_vacant,
        "items_without_price": plan.items_without_price,
    }


async def preview(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, month: str) -> dict[str, Any]:
    """What a run would create; writes nothing."""
    estate = await load_estate(session, actor=actor, estate_id=estate_id)
    already = await _run_of(session, estate.id, month) is not None
    return _summary(await plan_month(session, estate=estate, month=month), already_run=already)


async def _claim_run(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, month: str) -> BillingRun | None:
    """The month's new BillingRun row, or None when another run has it already."""
    run_id = (await session.execute(
        insert(BillingRun).values(id=uuid.uuid4(), created_at=utcnow(), estate_id=estate_id, month=month,
                                  created_by=actor.label[:100], created_by_id=None if actor.is_api_key else actor.id,
                                  charges_created=0, total=Decimal("0.00"))
        .on_conflict_do_nothing(index_elements=["estate_id", "month"]).returning(BillingRun.id)
    )).scalar_one_or_none()
    return None if run_id is None else await session.get(BillingRun, run_id)


async def _insert_charges(session: AsyncSession, *, run: BillingRun, plan: Plan) -> list[Decimal]:
    if not plan.lines:
        return []
    now = utcnow()
    values = [dict(id=uuid.uuid4(), created_at=now, estate_id=run.estate_id, unit_id=ln.unit.id, fee_item_id=ln.item.id,
                   period=plan.month, description=billing.describe(plan.month, ln.item.name), amount=ln.amount,
                   amount_paid=Decimal("0.00"), due_date=billing.due_date(plan.month, ln.item.due_day), basis=ln.basis,
                   source=ChargeSource.billing.value, source_id=None, billing_run_id=run.id) for ln in plan.lines]
    stmt = insert(Charge).on_conflict_do_nothing(
        index_elements=["unit_id", "fee_item_id", "period"], index_where=text(BILLED_ONCE),
    ).returning(Charge.amount)
    amounts: list[Decimal] = []
    for start in range(0, len(values), 1000):  # keep each statement well under the bind-parameter limit
        amounts += list((await session.execute(stmt.values(values[start:start + 1000]))).scalars())
    return amounts


async def run_month(session: AsyncSession, *, actor: Actor, estate: Estate, month: str) -> tuple[BillingRun, int]:
    """Bill the month; a month billed already answers with its run and 0 created."""
    estate_time.month_first(month)
    run = await _claim_run(session, actor=actor, estate_id=estate.id, month=month)
    if run is None:
        existing = await _run_of(session, estate.id, month)
        assert existing is not None  # the run whose row made the claim conflict
        return existing, 0
    plan = await plan_month(session, estate=estate, month=month)
    amounts = await _insert_charges(session, run=run, plan=plan)
    run.charges_created, run.total = len(amounts), sum(amounts, Decimal("0.00"))
    await session.flush()
    await audit.record(session, actor=actor, action="billing_run", entity="billing_run", entity_id=run.id,
                       estate_id=estate.id, after={**snapshot(run), "items_without_price": plan.items_without_price,
                                                   "skipped_vacant": plan.skipped_vacant})
    # The estate's approved discount rules for the month waive their share of the new charges.
    await discount_rules.apply_for_month(session, actor=actor, estate_id=estate.id, month=month)
    # Then money waiting on prepaid accounts settles what is left of the new month at once, not at
    # tomorrow's 06:30 run.
    await prepaid_deductions.deduct_estate(session, actor=actor, estate=estate)
    return run, run.charges_created


async def run(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, month: str) -> tuple[BillingRun, int]:
    estate = await load_estate(session, actor=actor, estate_id=estate_id)
    return await run_month(session, actor=actor, estate=estate, month=month)


class BillingRunSort(StrEnum):
    """The keys billing runs sort by."""

    month = "month"
    created_at = "created_at"


async def list_runs(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, page: PageRequest) -> tuple[list[BillingRun], int]:
    await load_estate(session, actor=actor, estate_id=estate_id)
    stmt = select(BillingRun).where(BillingRun.estate_id == estate_id)
    sortable = {BillingRunSort.month: BillingRun.month, BillingRunSort.created_at: BillingRun.created_at}
    return await paginate(session, stmt, page, sortable=sortable, default=[BillingRun.month.desc(), BillingRun.id])


