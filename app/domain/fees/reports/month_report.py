"""The month-end fee report for finance (§5.8), per fee item and per building, with estate totals.

Definitions, for a month M of the estate (say 2026-11):

- The date that counts is the receipt's issue time, estate-local: "the month's receipts" are
  those issued from 1 November 00:00 to 1 December 00:00 in the estate's time zone.
- A charge is "of the month" when its period is M; a one-off charge (no period) belongs to
  the month of its due date.
- billed: the amounts of the month's charges, cancelled charges left out (their replacements are in).
- corrections: the month's cancelled charges and the replacements billed for them (net effect
  on billed = replacements - cancelled).
- collected_for_month: what the month's receipts settled of the month's charges.
- collected_before: what receipts of earlier months settled of them (paid in advance).
- waived: what waivers (减免) approved before the month's end took off the month's charges
  (reversed waivers count nowhere, as voided receipts).
- outstanding: billed - waived - collected_before - collected_for_month, i.e. unpaid at the
  month's end; a receipt of a later month does not change it.
- collection_rate: collected_for_month / (billed - waived), four decimals: a waived amount was
  never to be collected (null when nothing is left to collect).
- collected_for_earlier (arrears recovered) / collected_for_later: what the month's receipts
  settled of charges of earlier / later months.
- credit_received: overpayments kept on account by the month's receipts, and what they had
  settled of charges cancelled since (the money moved to the unit's account on approval, the
  receipt valid); refunds: credit paid back on the month's refund documents. Neither belongs to a fee item, so they appear on the
  building lines and the totals only.
- account_used: what deductions from prepaid accounts (预存款抵扣, QS-K documents) settled; their
  money came in earlier on a deposit's or overpayment's receipt, as credit_received.
- collected_in_month = collected_for_month + collected_for_earlier + collected_for_later
  + credit_received - account_used - refunds, which for the totals equals receipts_total, the sum of the
  month's receipts not voided with refunds negative: the report reconciles with the receipts.
- Households (units): billed = with a charge of the month in the line; paid in full = nothing
  outstanding at the month's end; unpaid = nothing paid; partly paid = the rest.

Voids and refunds: a voided receipt (or refund document) counts nowhere, in no month, whenever
it was voided; its allocations were reversed and its credit cleared. Figures are as of when the
report is read (`as_of`): a void after the job stored the month's report changes the live report,
not the stored one.
"""
from __future__ import annotations

import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.principal import Actor
from app.domain.base import by_id_in_estate, utcnow
from app.domain.calendar import estate_time
from app.domain.errors import Invalid
from app.domain.fees.corrections.report import month_corrections
from app.domain.fees.model import Charge, ChargeState, FeeItem
from app.domain.fees.payments.model import Allocation, Payment, Receipt, ReceiptSeries, ReceiptStatus
from app.domain.fees.reports.model import FeeReport, FeeReportKind, store
from app.domain.fees.reports.month_late_fees import month_late_fees
from app.domain.fees.reports.schemas import RATE_PLACES, MonthBuildingLine, MonthFeeReport, MonthItemLine, MonthTotals
from app.domain.fees.waivers import reading as waivers_report
from app.domain.registry import service as registry_service
from app.domain.registry.model import Building, Estate, Unit
from app.domain.types import MONTH_PATTERN

ZERO = Decimal("0.00")
ISSUED = Receipt.status == ReceiptStatus.issued.value
CANCELLED = 2  # the bucket of what receipts settled of charges cancelled since
CHARGE_MONTH = func.coalesce(Charge.period, func.to_char(Charge.due_date, "YYYY-MM"))


def of_month(month: str) -> ColumnElement[bool]:
    """CHARGE_MONTH == month, written so that the indexes on (estate_id, period) and, for one-offs,
    (estate_id, due_date) find the month's charges instead of reading every charge of the estate."""
    first, after = estate_time.month_span(month)
    return or_(Charge.period == month, and_(Charge.period.is_(None), Charge.due_date >= first, Charge.due_date < after))


@dataclass
class Acc:
    """The running figures of one line (a fee item, a building or the estate)."""

    billed: Decimal = ZERO
    waived: Decimal = ZERO
    before: Decimal = ZERO
    during: Decimal = ZERO
    earlier: Decimal = ZERO
    later: Decimal = ZERO
    credit: Decimal = ZERO
    refunds: Decimal = ZERO
    used: Decimal = ZERO  # settled from prepaid accounts: collected, but no money in
    units: dict[uuid.UUID, list[Decimal]] = field(default_factory=lambda: defaultdict(lambda: [ZERO, ZERO]))

    def figures(self) -> dict[str, Any]:
        # units: [billed less waived, paid] per household; waived in full counts as paid in full.
        full = sum(1 for billed, paid in self.units.values() if paid >= billed)
        unpaid = sum(1 for billed, paid in self.units.values() if paid == 0 < billed)
        to_collect = self.billed - self.waived
        rate = (self.during / to_collect).quantize(RATE_PLACES, ROUND_HALF_UP) if to_collect > 0 else None
        return dict(
            billed=self.billed, waived=self.waived, collected_before=self.before, collected_for_month=self.during,
            outstanding=to_collect - self.before - self.during, collection_rate=rate,
            collected_for_earlier=self.earlier, collected_for_later=self.later,
            collected_in_month=self.during + self.earlier + self.later + self.credit - self.used - self.refunds,
            households_billed=len(self.units), households_paid_in_full=full, households_unpaid=unpaid,
            households_partly_paid=len(self.units) - full - unpaid,
        )


class InvalidMonth(Invalid):
    title = "Not a month (2026-11)"
    title_zh = "不是有效的月份（如 2026-11）"


async def _charges(session: AsyncSession, *, estate_id: uuid.UUID, month: str, start: datetime, end: datetime) -> list[Any]:
    """Per (unit, building, item): the month's charges and what was paid on them before and during it.

    The payments are found from the month's charges (by allocation.charge_id), not from the estate's
    receipts up to the month's end: a month has a few allocations, the history behind it many."""
    paid = (select(Allocation.charge_id,
                   func.sum(Allocation.amount).filter(Receipt.issued_at < start).label("before"),
                   func.sum(Allocation.amount).filter(Receipt.issued_at >= start).label("during"))
            .join(Receipt, Receipt.payment_id == Allocation.payment_id).join(Charge, Charge.id == Allocation.charge_id)
            .where(Charge.estate_id == estate_id, of_month(month), Receipt.estate_id == estate_id, ISSUED,
                   Receipt.issued_at < end)
            .group_by(Allocation.charge_id).subquery())
    stmt = (select(Charge.unit_id, Unit.building_id, Charge.fee_item_id, func.sum(Charge.amount),
                   func.coalesce(func.sum(paid.c.before), 0), func.coalesce(func.sum(paid.c.during), 0))
            .join(Unit, by_id_in_estate(Unit, Charge.unit_id, estate_id)).outerjoin(paid, paid.c.charge_id == Charge.id)
            .where(Charge.estate_id == estate_id, of_month(month), Charge.state == ChargeState.open.value)
            .group_by(Charge.unit_id, Unit.building_id, Charge.fee_item_id))
    return list((await session.execute(stmt)).all())


async def _collected(session: AsyncSession, *, estate_id: uuid.UUID, month: str, start: datetime, end: datetime) -> list[Any]:
    """Per (building, item, -1/0/1 for earlier/this/later month, 2 for a charge cancelled since): what the
    month's receipts settled."""
    bucket = case((Charge.state == ChargeState.cancelled.value, CANCELLED), (CHARGE_MONTH < month, -1),
                  (CHARGE_MONTH == month, 0), else_=1).label("bucket")
    stmt = (select(Unit.building_id, Charge.fee_item_id, bucket, func.sum(Allocation.amount))
            .select_from(Allocation).join(Receipt, Receipt.payment_id == Allocation.payment_id)
            .join(Charge, Charge.id == Allocation.charge_id).join(Unit, by_id_in_estate(Unit, Charge.unit_id, estate_id))
            .where(Receipt.estate_id == estate_id, ISSUED, Receipt.issued_at >= start, Receipt.issued_at < end)
            .group_by(Unit.building_id, Charge.fee_item_id, bucket))
    return list((await session.execute(stmt)).all())


async def _receipts(session: AsyncSession, *, estate_id: uuid.UUID, start: datetime, end: datetime) -> list[Any]:
    """Per (building, series, status): the month's receipts, their amounts and the credit they kept."""
    stmt = (select(Unit.building_id, Receipt.series, Receipt.status, func.count(), func.sum(Receipt.amount),
                   func.coalesce(func.sum(Payment.credit), 0))
            .select_from(Receipt).join(Unit, by_id_in_estate(Unit, Receipt.unit_id, estate_id))
            .outerjoin(Payment, Payment.id == Receipt.payment_id)
            .where(Receipt.estate_id == estate_id, Receipt.issued_at >= start, Receipt.issued_at < end)
            .group_by(Unit.building_id, Receipt.series, Receipt.status))
    return list((await session.execute(stmt)).all())


def _add_charges(rows: list[Any], items: dict[uuid.UUID, Acc], buildings: dict[uuid.UUID, Acc], total: Acc) -> None:
    for unit_id, building_id, item_id, billed, before, during in rows:
        for acc in (items[item_id], buildings[building_id], total):
            acc.billed += billed
            acc.before += before
            acc.during += during
            acc.units[unit_id][0] += billed
            acc.units[unit_id][1] += before + during


def _add_waived(rows: list[Any], items: dict[uuid.UUID, Acc], buildings: dict[uuid.UUID, Acc], total: Acc) -> None:
    for unit_id, building_id, item_id, waived in rows:
        for acc in (items[item_id], buildings[building_id], total):
            acc.waived += waived
            acc.units[unit_id][0] -= waived


def _add_collected(rows: list[Any], items: dict[uuid.UUID, Acc], buildings: dict[uuid.UUID, Acc], total: Acc) -> None:
    for building_id, item_id, bucket, amount in rows:
        if bucket == 0:
            continue  # the month's own charges: counted with them, from the same allocations
        if bucket == CANCELLED:  # on the unit's account now: kept, like an overpayment, on no fee item
            for acc in (buildings[building_id], total):
                acc.credit += amount
            continue
        for acc in (items[item_id], buildings[building_id], total):
            if bucket < 0:
                acc.earlier += amount
            else:
                acc.later += amount


def _add_receipts(rows: list[Any], buildings: dict[uuid.UUID, Acc], total: Acc) -> dict[str, Any]:
    counts = {"receipts_total": ZERO, "receipts": 0, "refund_documents": 0, "voided": 0}
    for building_id, series, status, n, amount, credit in rows:
        if status == ReceiptStatus.void.value:
            counts["voided"] += n
        elif series == ReceiptSeries.account.value:
            # The money came in on a deposit's receipt, counted then: not a receipt of the month's takings.
            buildings[building_id].used += amount
            total.used += amount
        elif series == ReceiptSeries.refund.value:
            counts["refund_documents"] += n
            counts["receipts_total"] -= amount
            buildings[building_id].refunds += amount
            total.refunds += amount
        else:
            counts["receipts"] += n
            counts["receipts_total"] += amount
            buildings[building_id].credit += credit
            total.credit += credit
    return counts


async def compute(session: AsyncSession, *, estate: Estate, month: str) -> MonthFeeReport:
    if not re.fullmatch(MONTH_PATTERN, month):  # the office's years only, as the API's pattern
        raise InvalidMonth(f"{month!r} is not a month", field="month")
    start, end = estate_time.month_bounds(month, estate_time.estate_zone(estate))
    items: dict[uuid.UUID, Acc] = defaultdict(Acc)
    buildings: dict[uuid.UUID, Acc] = defaultdict(Acc)
    total = Acc()
    _add_charges(await _charges(session, estate_id=estate.id, month=month, start=start, end=end), items, buildings, total)
    _add_waived(await waivers_report.waived_of_month(session, estate_id=estate.id, charges_of_month=of_month(month), end=end),
                items, buildings, total)
    _add_collected(await _collected(session, estate_id=estate.id, month=month, start=start, end=end), items, buildings, total)
    counts = _add_receipts(await _receipts(session, estate_id=estate.id, start=start, end=end), buildings, total)
    fee_items = (await session.execute(select(FeeItem).where(FeeItem.estate_id == estate.id)
                                       .order_by(FeeItem.code))).scalars().all()
    blds = (await session.execute(select(Building).where(Building.estate_id == estate.id)
                                  .order_by(Building.number.nulls_last(), Building.name))).scalars().all()
    by_item = [MonthItemLine(fee_item_id=i.id, code=i.code, name=i.name, **items[i.id].figures())
               for i in fee_items if i.active or i.id in items]
    by_building = [MonthBuildingLine(building_id=b.id, name=b.name, credit_received=buildings[b.id].credit,
                                     refunds=buildings[b.id].refunds, account_used=buildings[b.id].used,
                                     **buildings[b.id].figures()) for b in blds]
    return MonthFeeReport(
        estate_id=estate.id, estate_name=estate.name, month=month, starts_at=start, ends_at=end, as_of=utcnow(),
        by_fee_item=by_item, by_building=by_building,
        corrections=await month_corrections(session, estate_id=estate.id, of_month=of_month(month)),
        totals=MonthTotals(credit_received=total.credit, refunds=total.refunds, account_used=total.used, **total.figures(),
                           **counts),
        late_fees=await month_late_fees(session, estate_id=estate.id, month=month, start=start, end=end),
    )


def current_month(estate: Estate, *, now: datetime | None = None) -> str:
    return estate_time.month_key(estate_time.today(estate, now=now))


async def month_fee_report(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID,
                           month: str | None = None) -> tuple[Estate, MonthFeeReport]:
    """The month's report as it stands now; the current month (estate-local) by default."""
    estate = await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    return estate, await compute(session, estate=estate, month=month or current_month(estate))


async def produce(session: AsyncSession, *, estate: Estate, month: str, produced_by: str,
                  produced_by_id: uuid.UUID | None = None) -> FeeReport:
    """Compute the month's report and store it, replacing the one stored for that month before."""
    report = await compute(session, estate=estate, month=month)
    return await store(session, estate_id=estate.id, kind=FeeReportKind.month_end, period=month, report=report,
                       total=report.totals.collected_in_month, produced_by=produced_by, produced_by_id=produced_by_id)
