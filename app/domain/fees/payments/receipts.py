"""Receipts (收据): numbering, reading, listing and voiding (printing is prints.py).

A receipt number is taken from the gapless counter inside the transaction of the payment or
refund it documents. A void keeps the number, marks it void and reverses what the receipt
did; if its cashier session was already handed over, the void is booked as an adjustment in
the voider's current session instead of rewriting the past.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.model import User
from app.domain.auth.principal import Actor
from app.domain.base import Entity, snapshot, utcnow
from app.domain.calendar import estate_time
from app.domain.errors import Conflict, NotFound
from app.domain.fees.cash import service as cash
from app.domain.fees.cash.model import CashierSession, SessionAdjustment
from app.domain.fees.channels import refund_model as channel_refunds
from app.domain.fees.model import Charge
from app.domain.fees.payments.model import (
    RECEIPT_TRANSITIONS,
    Allocation,
    Payment,
    PaymentMethod,
    Receipt,
    ReceiptPrint,
    ReceiptSeries,
    ReceiptStatus,
    Refund,
    format_number,
    next_seq,
)
from app.domain.fees.payments.rmb import capital
from app.domain.fees.payments.schemas import AllocationLine, ReceiptPrintRead, ReceiptRead
from app.domain.fees.prepaid import ledger as prepaid_ledger
from app.domain.fees.prepaid.model import BalanceTooLow
from app.domain.pagination import PageRequest, paginate
from app.domain.registry import service as registry_service
from app.domain.registry import units
from app.domain.registry.model import Estate
from app.domain.visibility import Visible, load_visible

ZERO = Decimal("0.00")


class ReceiptNotFound(NotFound):
    title = "Receipt not found"
    title_zh = "未找到该收据"


RECEIPT = Visible(model=Receipt, missing=ReceiptNotFound)


class CreditAlreadyRefunded(Conflict):
    title = "The money this receipt put on account has been refunded or deducted since; void those first"
    title_zh = "该收据存入账户的预收款已被退款或抵扣；请先作废那些记录"


async def issue(
    session: AsyncSession, *, estate: Estate, series: ReceiptSeries, unit_id: uuid.UUID, amount: Decimal, at: datetime,
    by: uuid.UUID, cashier_session_id: uuid.UUID | None, payment_id: uuid.UUID | None = None,
    refund_id: uuid.UUID | None = None,
) -> Receipt:
    """Number and store the receipt; the counter row stays locked until the transaction ends."""
    year = estate_time.today(estate, now=at).year
    seq = await next_seq(session, estate_id=estate.id, series=series, year=year)
    receipt = Receipt(estate_id=estate.id, series=series, year=year, seq=seq,
                      number=format_number(estate_code=estate.code, series=series, year=year, seq=seq),
                      payment_id=payment_id, refund_id=refund_id, unit_id=unit_id, amount=amount, issued_at=at,
                      issued_by=by, cashier_session_id=cashier_session_id)
    session.add(receipt)
    await session.flush()
    return receipt


async def credit_of(session: AsyncSession, *, unit_id: uuid.UUID, lock: bool = False) -> tuple[Decimal, Decimal]:
    """A unit's free money on its prepaid account: (paid in, paid out), entries undone by a void left out.

    Paid in: overpayments and deposits not earmarked; paid out: refunds and deductions from them,
    so paid_in - paid_out is the free balance. With `lock`, the balance rows are locked first."""
    if lock:
        await prepaid_ledger.lock(session, unit_id=unit_id)
    free = await prepaid_ledger.free_money(session, unit_id=unit_id)
    return free.paid_in, free.refunded + free.deducted


# --- reading ---------------------------------------------------------------------------------

Row = TypeVar("Row", bound=Entity)


async def _by_id(session: AsyncSession, model: type[Row], ids: set[uuid.UUID | None]) -> dict[uuid.UUID | None, Row]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return {r.id: r for r in (await session.execute(select(model).where(model.id.in_(wanted)))).scalars()}


async def _allocations(session: AsyncSession, payment_ids: set[uuid.UUID | None]
                       ) -> dict[uuid.UUID | None, list[AllocationLine]]:
    out: dict[uuid.UUID | None, list[AllocationLine]] = {p: [] for p in payment_ids}
    if not payment_ids:
        return out
    stmt = (select(Allocation, Charge.description, Charge.period, Charge.amount, Charge.amount_waived)
            .join(Charge, Charge.id == Allocation.charge_id)
            .where(Allocation.payment_id.in_(payment_ids)).order_by(Allocation.created_at, Allocation.id))
    for alloc, description, period, billed, waived in (await session.execute(stmt)).all():
        out[alloc.payment_id].append(AllocationLine(charge_id=alloc.charge_id, description=description, period=period,
                                                    amount=alloc.amount, reversed_at=alloc.reversed_at, billed=billed,
                                                    waived=waived))
    return out


async def prints_of(session: AsyncSession, receipt_ids: set[uuid.UUID]) -> dict[uuid.UUID, list[ReceiptPrintRead]]:
    out: dict[uuid.UUID, list[ReceiptPrintRead]] = {r: [] for r in receipt_ids}
    if not receipt_ids:
        return out
    stmt = (select(ReceiptPrint).where(ReceiptPrint.receipt_id.in_(receipt_ids))
            .order_by(ReceiptPrint.receipt_id, ReceiptPrint.number))
    for p in (await session.execute(stmt)).scalars():
        out[p.receipt_id].append(ReceiptPrintRead(number=p.number, at=p.printed_at, by=p.printed_by,
                                                  by_name=p.printed_by_name, reason=p.reason))
    return out


async def reads(session: AsyncSession, rows: Sequence[Receipt]) -> list[ReceiptRead]:
    """Receipts with their payment or refund, allocations, unit label and cashier: a few batched queries."""
    payments = await _by_id(session, Payment, {r.payment_id for r in rows})
    refunds = await _by_id(session, Refund, {r.refund_id for r in rows})
    allocations = await _allocations(session, set(payments))
    labels = await units.labels_of(session, {r.unit_id for r in rows})
    names = {u.id: u.full_name for u in (await _by_id(session, User, {r.issued_by for r in rows})).values()}
    prints = await prints_of(session, {r.id for r in rows})
    return [_to_read(r, pay=payments.get(r.payment_id), ref=refunds.get(r.refund_id),
                     allocations=allocations.get(r.payment_id, []), label=labels.get(r.unit_id, ""),
                     cashier_name=names.get(r.issued_by, ""), prints=prints[r.id]) for r in rows]


def _to_read(r: Receipt, *, pay: Payment | None, ref: Refund | None, allocations: list[AllocationLine], label: str,
             cashier_name: str, prints: list[ReceiptPrintRead]) -> ReceiptRead:
    source = pay or ref
    assert source is not None, f"receipt {r.number} documents nothing"
    return ReceiptRead(
        id=r.id, estate_id=r.estate_id, series=r.series, number=r.number, year=r.year, seq=r.seq, status=r.status,
        unit_id=r.unit_id, unit_label=label, payment_id=r.payment_id, refund_id=r.refund_id,
        amount=r.amount, amount_in_words=capital(r.amount), method=PaymentMethod(source.method),
        reference=source.reference, payer_name=pay.payer_name if pay else "",
        tendered=pay.tendered if pay else None, change=pay.change_given if pay else None,
        credit=pay.credit if pay else ZERO, allocations=allocations if pay else [],
        issued_at=r.issued_at, issued_by=r.issued_by, cashier_name=cashier_name,
        cashier_session_id=r.cashier_session_id, prints=prints, reprint_count=max(len(prints) - 1, 0),
        void_reason=r.void_reason,
        voided_at=r.voided_at, voided_by=r.voided_by,
    )


def read_issued(r: Receipt, *, payment: Payment, allocations: Sequence[tuple[Allocation, Charge]], unit_label: str,
                cashier_name: str) -> ReceiptRead:
    """What `read` returns for a receipt just issued, built from the rows the payment already holds.

    Saves the re-reads while the receipt counter is locked; the lines are ordered as
    `_allocations` orders them.
    """
    lines = [AllocationLine(charge_id=a.charge_id, description=c.description, period=c.period, amount=a.amount,
                            reversed_at=a.reversed_at, billed=c.amount, waived=c.amount_waived)
             for a, c in sorted(allocations, key=lambda ac: (ac[0].created_at, ac[0].id))]
    return _to_read(r, pay=payment, ref=None, allocations=lines, label=unit_label, cashier_name=cashier_name, prints=[])


async def read(session: AsyncSession, row: Receipt) -> ReceiptRead:
    return (await reads(session, [row]))[0]


async def get_receipt(session: AsyncSession, *, actor: Actor, receipt_id: uuid.UUID) -> ReceiptRead:
    return await read(session, await load_visible(session, RECEIPT, receipt_id, actor=actor))


class ReceiptSort(StrEnum):
    """The keys receipts sort by."""

    number = "number"
    issued_at = "issued_at"
    amount = "amount"
    status = "status"


async def list_receipts(
    session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, page: PageRequest, number: str | None = None,
    unit_id: uuid.UUID | None = None, cashier_id: uuid.UUID | None = None, method: PaymentMethod | None = None,
    status: ReceiptStatus | None = None, series: ReceiptSeries | None = None,
    since: datetime | None = None, until: datetime | None = None,
) -> tuple[list[ReceiptRead], int]:
    await registry_service.check_estate(session, actor=actor, estate_id=estate_id)
    stmt = select(Receipt).where(Receipt.estate_id == estate_id)
    if number:
        stmt = stmt.where(Receipt.number.contains(number, autoescape=True))
    for column, value in ((Receipt.unit_id, unit_id), (Receipt.issued_by, cashier_id),
                          (Receipt.status, status.value if status else None), (Receipt.series, series.value if series else None)):
        if value is not None:
            stmt = stmt.where(column == value)
    if method is not None:
        paid = select(Payment.id).where(Payment.method == method.value)
        refunded = select(Refund.id).where(Refund.method == method.value)
        stmt = stmt.where(Receipt.payment_id.in_(paid) | Receipt.refund_id.in_(refunded))
    if since is not None:
        stmt = stmt.where(Receipt.issued_at >= since)
    if until is not None:
        stmt = stmt.where(Receipt.issued_at < until)
    sortable = {
        ReceiptSort.number: Receipt.number, ReceiptSort.issued_at: Receipt.issued_at,
        ReceiptSort.amount: Receipt.amount, ReceiptSort.status: Receipt.status,
    }
    rows, total = await paginate(session, stmt, page, sortable=sortable, default=[Receipt.issued_at.desc(), Receipt.number.desc()])
    return await reads(session, rows), total


# --- voiding ---------------------------------------------------------------------------------

async def _adjustment_session(session: AsyncSession, *, actor: Actor, row: Receipt,
                              now: datetime | None) -> CashierSession | None:
    """The voider's current session when the receipt's own session is already handed over."""
    estate = await session.get(Estate, row.estate_id)
    assert estate is not None
    return await cash.adjustment_session(session, estate=estate, receipt_session_id=row.cashier_session_id, actor=actor, now=now)


async def _undo_on_account(session: AsyncSession, *, payment: Payment | None, refund: Refund | None, now: datetime) -> None:
    """What the document moved on the prepaid account moves back; money since spent cannot be."""
    source = payment or refund
    assert source is not None
    try:
        await prepaid_ledger.reverse_document(session, unit_id=source.unit_id, at=now,
                                              payment_id=payment.id if payment else None, refund_id=refund.id if refund else None)
    except BalanceTooLow as exc:
        raise CreditAlreadyRefunded(credit=str(payment.credit if payment else ZERO), balance=exc.extra.get("balance")) from None


async def _reverse_payment(session: AsyncSession, *, actor: Actor, payment: Payment, now: datetime) -> None:
    allocs = list((await session.execute(select(Allocation).where(
        Allocation.payment_id == payment.id, Allocation.reversed_at.is_(None)))).scalars())
    charge_ids = sorted(a.charge_id for a in allocs)
    charges = {c.id: c for c in (await session.execute(
        select(Charge).where(Charge.id.in_(charge_ids)).order_by(Charge.id).with_for_update()
        .execution_options(populate_existing=True))).scalars()}
    for alloc in allocs:
        charge = charges[alloc.charge_id]
        await audit.apply(session, actor=actor, row=charge, action="reverse_payment", amount=alloc.amount)
        alloc.reversed_at = now
        session.add(alloc)
    before = snapshot(payment)
    payment.credit = ZERO
    session.add(payment)
    await audit.record(session, actor=actor, action="payment.void", row=payment, before=before)


async def void_receipt(session: AsyncSession, *, actor: Actor, receipt_id: uuid.UUID, reason: str,
                       now: datetime | None = None, channel_refund_id: uuid.UUID | None = None) -> ReceiptRead:
    """`channel_refund_id`: the channel refund whose success this void is (refunds of channel payments)."""
    row = await load_visible(session, RECEIPT, receipt_id, actor=actor, lock=True)
    RECEIPT_TRANSITIONS.next_state(ReceiptStatus(row.status), "void")  # twice: 409 before anything moves
    # Money on its way back through the channel: voided now, the refund failing would leave a
    # reversed receipt with the money kept. The refund voids it itself when the money has left.
    under_way = await channel_refunds.refund_under_way(session, receipt_id=row.id)
    if under_way is not None and under_way.id != channel_refund_id:
        raise channel_refunds.ReceiptHasChannelRefund(channel_refund_id=str(under_way.id), current=under_way.status)
    current = await _adjustment_session(session, actor=actor, row=row, now=now)
    # Timed only now, past the lock on the receipt's session: a void that waited for a hand-over
    # must not carry a time from before it.
    now = now or utcnow()
    payment = await session.get(Payment, row.payment_id) if row.payment_id else None
    refund = await session.get(Refund, row.refund_id) if row.refund_id else None
    if payment is not None:
        await _reverse_payment(session, actor=actor, payment=payment, now=now)
    await _undo_on_account(session, payment=payment, refund=refund, now=now)
    if current is not None:
        source = payment or refund
        assert source is not None
        # A voided payment takes its money back from what finance received; a voided refund returns it.
        amount = -row.amount if payment is not None else row.amount
        adjustment = SessionAdjustment(estate_id=row.estate_id, cashier_session_id=current.id, receipt_id=row.id,
                                       method=PaymentMethod(source.method).value, amount=amount, reason=reason, at=now)
        session.add(adjustment)
        await session.flush()
        await audit.record(session, actor=actor, action="session_adjustment.create", row=adjustment)
    await audit.apply(session, actor=actor, row=row, action="void", reason=reason, by=actor.id, at=now, event_at=now)
    return await read(session, row)
