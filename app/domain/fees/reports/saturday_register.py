"""The Saturday register (§5.5): the week's receipts line by line, with totals by fee item,
method and receptionist, handed to the supervisor every Saturday.

The register's week runs Saturday 00:00 to Friday 24:00, estate-local, not ISO's Monday to
Sunday: it is handed over on Saturday, so a Monday-to-Sunday week would either be handed
over unfinished (Saturday afternoon and Sunday missing) or six days late. A week is named by
the ISO week of its Friday (five of its seven days): 2026-W48 is Saturday 21 to Friday 27
November 2026, and the job firing on Saturday 28 November produces it.

Which receipts: those issued in the week (issue time, estate-local), payment receipts and
refund documents alike. A voided receipt is listed as void and counts 0; a refund counts
negative. A deduction from a prepaid account (QS-K) is listed with what it settled and counts
0: its money was counted once, as the deposit or overpayment that put it on account (counting
both would show money the drawer never held). Status is as of when the register is read: a stored register keeps what it showed.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, String, cast, func, or_, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.model import User
from app.domain.auth.principal import Actor
from app.domain.base import by_id_in_estate, utcnow
from app.domain.calendar import estate_time
from app.domain.errors import Invalid
from app.domain.fees.model import Charge, FeeItem
from app.domain.fees.payments.model import (
    METHOD_NAMES,
    Allocation,
    Payment,
    PaymentMethod,
    Receipt,
    ReceiptSeries,
    ReceiptStatus,
    Refund,
)
from app.domain.fees.reports.model import FeeReport, FeeReportKind, store
from app.domain.fees.reports.schemas import (
    CashierTotal,
    ItemTotal,
    MethodTotal,
    RegisterCounts,
    RegisterLine,
    SaturdayRegister,
    SettledPart,
)
from app.domain.registry import service as registry_service
from app.domain.registry.model import Building, Estate, Owner, Unit, UnitOwner
from app.domain.registry.names import unit_label
from app.domain.registry.script import script_of

ZERO = Decimal("0.00")
CREDIT_NAME = "预收款（存入账户）"
REFUND_NAME = "退还预收款"


class InvalidWeek(Invalid):
    title = "Not an ISO week (2026-W48)"
    title_zh = "不是有效的 ISO 周（如 2026-W48）"


def _settled_parts() -> Any:
    """What the receipt's payment settled, as a JSON list built in the same statement (amounts as text:
    exact, not floats)."""
    part = func.json_build_object("fee_item_id", Charge.fee_item_id, "fee_item_name", FeeItem.name,
                                  "fee_item_code", FeeItem.code, "period", Charge.period,
                                  "amount", cast(Allocation.amount, String))
    return (select(func.json_agg(aggregate_order_by(part, Allocation.created_at, Allocation.id), type_=JSON))
            .select_from(Allocation).join(Charge, Charge.id == Allocation.charge_id)
            .join(FeeItem, FeeItem.id == Charge.fee_item_id)
            # A part an approved cancel moved to the account settles nothing now: the receipt's money
            # is the unit's (kept on account, as the month report counts it). A void shows what it had settled.
            .where(Allocation.payment_id == Receipt.payment_id,
                   or_(Allocation.reversed_at.is_(None), Receipt.status == ReceiptStatus.void.value)).scalar_subquery())


def _owner_name() -> Any:
    """The unit's primary owner (the earliest linked first): the payer when the payment names none."""
    return (select(Owner.full_name).join(UnitOwner, UnitOwner.owner_id == Owner.id).where(UnitOwner.unit_id == Receipt.unit_id)
            .order_by(UnitOwner.is_primary.desc(), UnitOwner.created_at).limit(1).scalar_subquery())


def _parts(settled: list[dict[str, Any]] | None) -> list[SettledPart]:
    return [SettledPart(fee_item_id=p["fee_item_id"], fee_item_name=p["fee_item_name"], fee_item_code=p["fee_item_code"],
                        period=p["period"], amount=Decimal(p["amount"])) for p in settled or ()]


async def lines(session: AsyncSession, *, estate_id: uuid.UUID, start: datetime, end: datetime) -> list[RegisterLine]:
    """Every receipt issued in [start, end), with what it settled and its payer: one statement, the
    columns the register shows and no more (no ORM entities to build)."""
    stmt = (select(Receipt.id, Receipt.number, Receipt.series, Receipt.status, Receipt.issued_at, Receipt.unit_id,
                   Receipt.amount, Receipt.issued_by, Receipt.voided_at, Receipt.void_reason, Payment.id, Payment.payer_name,
                   Payment.credit, func.coalesce(Payment.method, Refund.method), User.full_name, Building.number,
                   Building.name, Unit.entrance, Unit.number, _owner_name(), _settled_parts())
            .outerjoin(Payment, Payment.id == Receipt.payment_id).outerjoin(Refund, Refund.id == Receipt.refund_id)
            .join(User, User.id == Receipt.issued_by).join(Unit, by_id_in_estate(Unit, Receipt.unit_id, estate_id))
            .join(Building, Building.id == Unit.building_id)
            .where(Receipt.estate_id == estate_id, Receipt.issued_at >= start, Receipt.issued_at < end)
            .order_by(Receipt.issued_at, Receipt.number))
    out = []
    script = await script_of(session, estate_id)
    rows = await session.execute(stmt)
    for (receipt_id, number, series, status, issued_at, unit_id, amount, cashier_id, voided_at, void_reason, payment_id,
         payer_name, credit, method, cashier, b_number, b_name, entrance, unit_number, owner, settled) in rows:
        signed = -amount if series == ReceiptSeries.refund.value else amount
        counts = status != ReceiptStatus.void.value and series != ReceiptSeries.account.value
        parts = _parts(settled)
        if payment_id and status == ReceiptStatus.issued.value and series != ReceiptSeries.account.value:
            credit = amount - sum((p.amount for p in parts), ZERO)  # kept on account, at payment or by a cancel since
        out.append(RegisterLine(
            receipt_id=receipt_id, number=number, series=series, status=status, issued_at=issued_at, unit_id=unit_id,
            unit_label=unit_label(building_number=b_number, building_name=b_name, entrance=entrance, number=unit_number,
                                  script=script),
            payer=(payer_name or "") or owner or "", credit=credit if payment_id else ZERO, method=PaymentMethod(method),
            settled=parts,
            amount=signed, counted=signed if counts else ZERO, cashier_id=cashier_id,
            cashier_name=cashier, voided_at=voided_at, void_reason=void_reason,
        ))
    return out


def _by_fee_item(rows: list[RegisterLine]) -> list[ItemTotal]:
    """Allocations per fee item, then money kept on account and refunds: together the grand total.

    Summed in plain dicts and turned into models once: assigning to a model per part costs more
    than the rest of the register."""
    amounts: dict[tuple[int, str], Decimal] = {}
    receipts: dict[tuple[int, str], set[uuid.UUID]] = {}
    heads: dict[tuple[int, str], tuple[uuid.UUID | None, str]] = {}

    def add(key: tuple[int, str], item_id: uuid.UUID | None, name: str, amount: Decimal, receipt_id: uuid.UUID) -> None:
        if key not in heads:
            heads[key], amounts[key], receipts[key] = (item_id, name), ZERO, set()
        amounts[key] += amount
        receipts[key].add(receipt_id)

    for line in rows:
        if not line.counted:  # a void, or a deduction whose money was counted when it was paid in
            continue
        for part in line.settled:
            add((0, part.fee_item_name + str(part.fee_item_id)), part.fee_item_id, part.fee_item_name, part.amount, line.receipt_id)
        if line.credit:
            add((1, "credit"), None, CREDIT_NAME, line.credit, line.receipt_id)
        if line.series is ReceiptSeries.refund:
            add((2, "refund"), None, REFUND_NAME, line.amount, line.receipt_id)
    return [ItemTotal(fee_item_id=heads[k][0], name=heads[k][1], amount=amounts[k], receipts=len(receipts[k]))
            for k in sorted(heads)]


def _by_method(rows: list[RegisterLine]) -> list[MethodTotal]:
    out = {m: MethodTotal(method=m, name=METHOD_NAMES[m], amount=ZERO, receipts=0) for m in PaymentMethod}
    for line in rows:
        if line.status is not ReceiptStatus.void:
            out[line.method].amount += line.counted
            out[line.method].receipts += 1
    return list(out.values())


def _by_cashier(rows: list[RegisterLine]) -> list[CashierTotal]:
    out: dict[uuid.UUID, CashierTotal] = {}
    for line in rows:
        total = out.setdefault(line.cashier_id, CashierTotal(cashier_id=line.cashier_id, name=line.cashier_name,
                                                              amount=ZERO, receipts=0, voided=0))
        if line.status is ReceiptStatus.void:
            total.voided += 1
        else:
            total.amount += line.counted
            total.receipts += 1
    return sorted(out.values(), key=lambda t: (t.name, str(t.cashier_id)))


def _counts(rows: list[RegisterLine]) -> RegisterCounts:
    live = [r for r in rows if r.status is not ReceiptStatus.void]
    return RegisterCounts(lines=len(rows), receipts=sum(r.series is ReceiptSeries.receipt for r in live),
                          refunds=sum(r.series is ReceiptSeries.refund for r in live), voided=len(rows) - len(live))


async def compute(session: AsyncSession, *, estate: Estate, week: str) -> SaturdayRegister:
    estate_time.parse(week, estate_time.week_monday, error=InvalidWeek, field="week")
    start, end = estate_time.register_week_bounds(week, estate_time.estate_zone(estate))
    rows = await lines(session, estate_id=estate.id, start=start, end=end)
    return SaturdayRegister(
        estate_id=estate.id, estate_name=estate.name, week=week, first_day=start.date(),
        last_day=start.date() + timedelta(days=6), starts_at=start, ends_at=end, as_of=utcnow(), lines=rows,
        by_fee_item=_by_fee_item(rows), by_method=_by_method(rows), by_cashier=_by_cashier(rows),
        grand_total=sum((r.counted for r in rows), ZERO), counts=_counts(rows),
    )


def current_week(estate: Estate, *, now: datetime | None = None) -> str:
    return estate_time.register_week_of(estate_time.today(estate, now=now))



async def saturday_register(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID,
                            week: str | None = None) -> tuple[Estate, SaturdayRegister]:
    """The week's register as it stands now; the current week (estate-local) by default."""
    estate = await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    return estate, await compute(session, estate=estate, week=week or current_week(estate))


async def produce(session: AsyncSession, *, estate: Estate, week: str, produced_by: str,
                  produced_by_id: uuid.UUID | None = None) -> FeeReport:
    """Compute the week's register and store it, replacing the one stored for that week before."""
    report = await compute(session, estate=estate, week=week)
    return await store(session, estate_id=estate.id, kind=FeeReportKind.saturday_register, period=week, report=report,
                       total=report.grand_total, produced_by=produced_by, produced_by_id=produced_by_id)
