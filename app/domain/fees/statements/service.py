"""The bill explanation (§7.3.13): a unit's charges line by line, as the desk reads them out.

Every line is explained from what was stored on the charge when it was billed (its `basis`),
never recomputed from today's prices: a price change since then does not rewrite the story.
Late fees posted are lines of their own, explained from their basis. A line's `late_fee` is
what a payment today would post on it (fees/late_fees/service.py `accruing`), no more.
"""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.principal import Actor
from app.domain.calendar import estate_time
from app.domain.errors import Invalid
from app.domain.fees.billing.items import load_unit
from app.domain.fees.billing.rules import CENT
from app.domain.fees.late_fees import accrual
from app.domain.fees.late_fees import service as late_fee_service
from app.domain.fees.late_fees.service import Accruing
from app.domain.fees.model import Charge, ChargeSource, ChargeState, FeeItem, FeeKind
from app.domain.fees.payments import receipts
from app.domain.fees.payments.model import Allocation, Payment, PaymentMethod, Receipt, ReceiptStatus
from app.domain.fees.prepaid import deposits as prepaid_deposits
from app.domain.fees.shared_meters import explain as shared_explain
from app.domain.fees.statements.schemas import BillLine, BillTotals, Computation, LateFeeRead, PaymentOfLine, UnitBill
from app.domain.fees.waivers import reading as waiver_lines
from app.domain.fees.waivers.schemas import WaiverOfLine
from app.domain.registry.model import Building, Estate
from app.domain.registry.names import unit_label
from app.domain.registry.script import Script, in_script
from app.domain.repairs.model import WorkOrder
from app.domain.repairs.vouchers.model import Voucher

ZERO = Decimal("0.00")
# Without the from/to months the bill shows every open charge and the last this-many months.
DEFAULT_MONTHS = 12
RATE_UNITS = {FeeKind.per_area: "元/㎡·月", FeeKind.fixed: "元/月", FeeKind.metered: "元", FeeKind.one_off: "元"}


class MonthsOutOfOrder(Invalid):
    title = "`from` is a later month than `to`"
    title_zh = "`from` 的月份晚于 `to`"


# --- the sentences, pure ---------------------------------------------------------------

def plain(value: Any) -> str:
    """A reading or a quantity without trailing zeros: 1203.00 -> 1203, 25.50 -> 25.5."""
    number = Decimal(str(value)).normalize()
    return format(number, "f")


def yuan(value: Decimal) -> str:
    return str(value.quantize(CENT))


def percent(share: Any) -> str:
    """0.0005 -> 0.05%"""
    return plain(Decimal(str(share)) * 100) + "%"


@dataclass(frozen=True, kw_only=True)
class VoucherInfo:
    work_order_id: uuid.UUID
    work_order_number: str
    work_done: str
    posted_on: date


def _periodic(kind: FeeKind, name: str, unit: str, basis: Mapping[str, Any], amount: Decimal) -> tuple[Computation, str]:
    if basis.get("rate") is None:
        raise KeyError("rate")
    rate, months = str(basis["rate"]), int(basis.get("months", 1))
    comp = Computation(method=kind, rate=rate, rate_unit=unit, months=months, amount=amount)
    factor = ""
    if basis.get("area") is not None:
        comp.area = yuan(Decimal(str(basis["area"])))
        factor = f" × {comp.area}㎡"
    elif basis.get("quantity") is not None:
        comp.quantity = plain(basis["quantity"])
        factor = f" × {comp.quantity}"
    gross = Decimal(str(basis["gross"])) if basis.get("gross") is not None else amount
    share = f"{months}个月"
    if basis.get("days") is not None and basis.get("days_in_month") is not None:
        # Billed by days (move-in, move-out): rules.prorate's 17/30 of a month, rounded once.
        comp.days, comp.days_in_month = int(basis["days"]), int(basis["days_in_month"])
        share = f"{comp.days}/{comp.days_in_month}个月"
    text = f"{name} {rate}{unit}{factor} × {share} = {yuan(gross)}元"
    if basis.get("discount") is not None:
        comp.gross, comp.discount = gross, Decimal(str(basis["discount"]))
        comp.vacant_discount = plain(basis["vacant_discount"])
        text += f"，空置减免{percent(basis['vacant_discount'])} −{yuan(comp.discount)}元 = {yuan(amount)}元"
    return comp, text


def _metered(name: str, unit: str, basis: Mapping[str, Any], amount: Decimal) -> tuple[Computation, str]:
    previous, current = plain(basis["previous"]), plain(basis["current"])
    used = plain(basis.get("quantity") or Decimal(str(basis["current"])) - Decimal(str(basis["previous"])))
    if basis.get("rate") is None:
        raise KeyError("rate")
    rate = str(basis["rate"])
    comp = Computation(method=FeeKind.metered, rate=rate, rate_unit=unit, previous=previous, current=current,
                       quantity=used, amount=amount)
    return comp, f"{name} 上次读数 {previous} → 本次 {current}，用量 {used} × {rate}{unit} = {yuan(amount)}元"


def _one_off(name: str, basis: Mapping[str, Any], amount: Decimal, *, description: str,
             voucher: VoucherInfo | None) -> tuple[Computation, str]:
    comp = Computation(method=FeeKind.one_off, rate_unit="元", amount=amount)
    if basis.get("work_order_id"):
        comp.work_order_id = uuid.UUID(str(basis["work_order_id"]))
        comp.voucher_id = uuid.UUID(str(basis["voucher_id"])) if basis.get("voucher_id") else None
        order = voucher.work_order_number if voucher else str(comp.work_order_id)[:8]
        text = f"{name} {yuan(amount)}元：维修工单 {order} 有偿维修"
        if voucher is not None:
            comp.work_done, comp.work_order_number = voucher.work_done, voucher.work_order_number
            text += f"（{voucher.posted_on.isoformat()}，{voucher.work_done[:60]}）"
        return comp, text
    comp.entered_by = str(basis["entered_by"]) if basis.get("entered_by") else None
    by = f"（前台录入：{comp.entered_by}）" if comp.entered_by else ""
    return comp, f"{name} {yuan(amount)}元：{description}{by}"


def explain(*, kind: FeeKind, item_name: str, rate_unit: str, basis: Mapping[str, Any], amount: Decimal,
            source: ChargeSource, description: str, voucher: VoucherInfo | None = None) -> tuple[Computation, str]:
    """The structured computation of a charge and the sentence the desk reads out.

    A basis that cannot be read back (an old or hand-made charge) still gets a line: the
    description and the amount, with `method` null, never an error.
    """
    unit = rate_unit or RATE_UNITS[kind]
    if source is ChargeSource.late_fee:
        # Posted with every factor in its basis: read back, never recomputed from today's rule.
        text = str(basis.get("explanation") or "")
        return Computation(method=None, amount=amount), f"{description} {yuan(amount)}元" + (f"：{text}" if text else "")
    try:
        if source is ChargeSource.shared_meter:
            return shared_explain.explain(item_name, unit, basis, amount)
        if source is ChargeSource.meter or (kind is FeeKind.metered and "previous" in basis):
            return _metered(item_name, unit, basis, amount)
        if kind is FeeKind.one_off or source in (ChargeSource.voucher, ChargeSource.manual):
            return _one_off(item_name, basis, amount, description=description, voucher=voucher)
        return _periodic(kind, item_name, unit, basis, amount)
    except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError):
        return Computation(method=None, amount=amount), f"{description} {yuan(amount)}元"


def late_fee_read(due: Accruing, *, due_date: date) -> LateFeeRead:
    """What a payment today would post on the charge, with every factor of its rule, and its sentence."""
    acc, rule, posted = due.accrued, due.accrued.rule, due.posted.amount
    amount = due.to_post
    text = accrual.sentence(acc, posted=posted) if amount > 0 else ""
    return LateFeeRead(amount=amount, as_of=acc.as_of, days_past_due=(acc.as_of - due_date).days, days_charged=acc.days,
                       daily_rate=plain(rule.daily_rate) if rule is not None else None,
                       grace_days=rule.grace_days if rule is not None else 0,
                       cap_share=plain(rule.cap_share) if rule is not None and rule.cap_share is not None else None,
                       cap=acc.cap, capped=acc.capped, posted=posted, explanation=text)


def month_key(charge: Charge) -> str:
    """The month a charge belongs to: its period, or for a one-off the month it fell due."""
    return charge.period or estate_time.month_key(charge.due_date)


def default_first_month(today: date) -> str:
    """The first of the last DEFAULT_MONTHS months, this one included: 2026-11 -> 2025-12."""
    return estate_time.month_key(estate_time.add_months(today, 1 - DEFAULT_MONTHS))


def in_window(charge: Charge, *, from_month: str | None, to_month: str | None, today: date) -> bool:
    key = month_key(charge)
    if from_month is None and to_month is None:
        return charge.outstanding > 0 or key >= default_first_month(today)
    return (from_month is None or key >= from_month) and (to_month is None or key <= to_month)


# --- loading ---------------------------------------------------------------------------

async def _charges(session: AsyncSession, *, unit_id: uuid.UUID, first: str | None, last: str | None) -> list[Charge]:
    """Every open charge of the unit and every charge of the months asked for: one query."""
    key = func.coalesce(Charge.period, func.to_char(Charge.due_date, "YYYY-MM"))
    months = and_(true(), *([key >= first] if first else []), *([key <= last] if last else []))
    stmt = select(Charge).where(Charge.unit_id == unit_id, or_(Charge.is_open(), months))
    stmt = stmt.order_by(Charge.due_date, Charge.period, Charge.created_at, Charge.id)
    return list((await session.execute(stmt)).scalars())


async def _vouchers(session: AsyncSession, charges: list[Charge], estate: Estate) -> dict[uuid.UUID | None, VoucherInfo]:
    ids = [c.source_id for c in charges if ChargeSource(c.source) is ChargeSource.voucher and c.source_id is not None]
    if not ids:
        return {}
    rows = (await session.execute(select(Voucher, WorkOrder.number).join(WorkOrder, WorkOrder.id == Voucher.work_order_id)
                                  .where(Voucher.id.in_(ids)))).all()
    return {v.id: VoucherInfo(work_order_id=v.work_order_id, work_order_number=number, work_done=v.work_done,
                              posted_on=estate_time.today(estate, now=v.posted_at)) for v, number in rows}


async def _payments(session: AsyncSession, charge_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[PaymentOfLine]]:
    out: dict[uuid.UUID, list[PaymentOfLine]] = {c: [] for c in charge_ids}
    if not charge_ids:
        return out
    stmt = (select(Allocation, Receipt, Payment.received_at, Payment.method)
            .join(Payment, Payment.id == Allocation.payment_id).join(Receipt, Receipt.payment_id == Payment.id)
            .where(Allocation.charge_id.in_(charge_ids))
            .order_by(Payment.received_at, Allocation.created_at, Allocation.id))
    for alloc, receipt, received_at, method in (await session.execute(stmt)).all():
        # A void reverses every part of its receipt; a part reversed on a valid receipt was moved to the
        # unit's account when its charge's cancel was approved.
        voided = receipt.status == ReceiptStatus.void.value
        out[alloc.charge_id].append(PaymentOfLine(
            receipt_id=receipt.id, receipt_number=receipt.number, paid_at=received_at, method=PaymentMethod(method),
            amount=alloc.amount, voided=voided, voided_at=receipt.voided_at,
            moved_to_account=alloc.reversed_at is not None and not voided))
    return out


def _line(charge: Charge, item: FeeItem, *, due: Accruing, payments: list[PaymentOfLine],
          voucher: VoucherInfo | None, script: Script, waivers: list[WaiverOfLine] | None = None) -> BillLine:
    computation, sentence = explain(
        kind=FeeKind(item.kind), item_name=item.name, rate_unit=item.unit_label, basis=charge.basis or {},
        amount=charge.amount, source=ChargeSource(charge.source), description=charge.description, voucher=voucher)
    if charge.state == ChargeState.cancelled:
        sentence += f"（已取消：{charge.cancel_reason or ''}）"
    fee = late_fee_read(due, due_date=charge.due_date)
    # The sentences the desk reads out, in the estate's characters (the fee item's name included).
    fee = fee.model_copy(update={"explanation": in_script(fee.explanation, script)})
    outstanding = charge.outstanding
    return BillLine(charge_id=charge.id, fee_item_id=item.id, fee_item_name=item.name, description=charge.description,
                    period=charge.period, due_date=charge.due_date, source=ChargeSource(charge.source),
                    computation=computation, explanation=in_script(sentence, script), amount=charge.amount, paid=charge.amount_paid,
                    outstanding=outstanding, late_fee=fee, balance=outstanding + fee.amount, payments=payments,
                    waived=charge.amount_waived,
                    waivers=[w.model_copy(update={"text": in_script(w.text, script)}) for w in waivers or []],
                    state=ChargeState(charge.state), cancel_reason=charge.cancel_reason, replaces_id=charge.replaces_id)


def totals(lines: list[BillLine], account: list[BillLine], *, credit: Decimal) -> BillTotals:
    """Sums of the lines shown; balance_due over every open charge of the account, less credit."""
    owed = sum((ln.outstanding for ln in account), ZERO)
    fees = sum((ln.late_fee.amount for ln in account), ZERO)
    # A cancelled charge is shown, with its reason, but billed nothing: its replacement is the bill.
    billed = sum((ln.amount for ln in lines if ln.state is ChargeState.open), ZERO)
    return BillTotals(billed=billed, paid=sum((ln.paid for ln in lines), ZERO),
                      waived=sum((ln.waived for ln in lines), ZERO),
                      late_fees=sum((ln.late_fee.amount for ln in lines), ZERO),
                      outstanding=sum((ln.outstanding for ln in lines), ZERO), credit=credit,
                      account_outstanding=owed, account_late_fees=fees, balance_due=max(ZERO, owed + fees - credit))


async def unit_bill(
    session: AsyncSession, *, actor: Actor, unit_id: uuid.UUID, from_month: str | None = None,
    to_month: str | None = None, now: datetime | None = None,
) -> UnitBill:
    unit = await load_unit(session, actor=actor, unit_id=unit_id)
    if from_month is not None and to_month is not None and from_month > to_month:
        raise MonthsOutOfOrder(field="from", from_month=from_month, to_month=to_month)
    estate = await session.get(Estate, unit.estate_id)
    building = await session.get(Building, unit.building_id)
    assert estate is not None and building is not None
    today = estate_time.today(estate, now=now)
    first = default_first_month(today) if from_month is None and to_month is None else from_month
    charges = await _charges(session, unit_id=unit.id, first=first, last=to_month)
    items = {i.id: i for i in (await session.execute(
        select(FeeItem).where(FeeItem.id.in_({c.fee_item_id for c in charges})))).scalars()} if charges else {}
    vouchers = await _vouchers(session, charges, estate)
    paid = await _payments(session, [c.id for c in charges])
    due = await late_fee_service.accruing(session, estate_id=estate.id, charges=charges, as_of=today)
    waived = await waiver_lines.approved_of(session, [c.id for c in charges])
    built = [(c, _line(c, items[c.fee_item_id], due=due[c.id], payments=paid[c.id], voucher=vouchers.get(c.source_id),
                       script=estate.script, waivers=waived[c.id])) for c in charges]
    lines = [ln for c, ln in built if in_window(c, from_month=from_month, to_month=to_month, today=today)]
    paid_in, refunded = await receipts.credit_of(session, unit_id=unit.id)
    account = [ln for _, ln in built if ln.outstanding > 0]
    label = unit_label(building_number=building.number, building_name=building.name, entrance=unit.entrance,
                       number=unit.number, script=estate.script)
    return UnitBill(unit_id=unit.id, estate_id=unit.estate_id, unit_label=label, as_of=today, from_month=from_month,
                    to_month=to_month, lines=lines, totals=totals(lines, account, credit=max(ZERO, paid_in - refunded)),
                    account=await prepaid_deposits.account_of(session, unit_id=unit.id))
