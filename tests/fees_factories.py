"""Fees rows made straight in the database, for tests that should not depend on other
fees endpoints (cash hand-over, reports, bill explanation)."""
from __future__ import annotations

import itertools
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.model import User
from app.domain.base import utcnow
from app.domain.fees.late_fees.model import LateFeeRule
from app.domain.fees.model import Charge, ChargeSource, FeeItem, FeeKind, FeePrice
from app.domain.fees.payments.model import (
    Allocation,
    Payment,
    PaymentMethod,
    Receipt,
    ReceiptSeries,
    format_number,
    next_seq,
)
from app.domain.registry.model import Estate, Unit

_seq = itertools.count(1)


async def make_fee_item(
    session: AsyncSession, *, estate: Estate, kind: FeeKind = FeeKind.per_area, price: Decimal | str = "1.80",
    code: str | None = None, name: str = "物业管理费", effective_from: date = date(2020, 1, 1), **extra: object,
) -> FeeItem:
    item = FeeItem(estate_id=estate.id, code=code or f"fee{next(_seq)}", name=name, kind=kind, **extra)
    session.add(item)
    await session.flush()
    session.add(FeePrice(estate_id=estate.id, fee_item_id=item.id, effective_from=effective_from, unit_price=Decimal(price)))
    await session.commit()
    return item


async def make_late_fee_rule(
    session: AsyncSession, *, items: list[FeeItem], daily_rate: Decimal | str = "0.0005", grace_days: int = 0,
    cap_share: Decimal | str | None = None, effective_from: date = date(2000, 1, 1),
) -> LateFeeRule:
    """The estate's late-fee rule covering `items` (all of one estate), in force from `effective_from`."""
    rule = LateFeeRule(estate_id=items[0].estate_id, effective_from=effective_from, daily_rate=Decimal(daily_rate),
                       grace_days=grace_days, cap_share=Decimal(cap_share) if cap_share is not None else None,
                       fee_item_ids=[i.id for i in items])
    session.add(rule)
    await session.commit()
    return rule


async def make_charge(
    session: AsyncSession, *, unit: Unit, item: FeeItem, amount: Decimal | str, period: str | None = "2026-10",
    due_date: date | None = None, paid: Decimal | str = "0.00", source: ChargeSource = ChargeSource.billing,
    basis: dict | None = None, description: str | None = None,
) -> Charge:
    charge = Charge(estate_id=unit.estate_id, unit_id=unit.id, fee_item_id=item.id, period=period,
                    description=description or f"{period or ''}{item.name}", amount=Decimal(amount), amount_paid=Decimal(paid),
                    due_date=due_date or date(2026, 10, 1), basis=basis or {}, source=source)
    session.add(charge)
    await session.commit()
    return charge


async def make_receipt(
    session: AsyncSession, *, estate: Estate, unit: Unit, cashier: User, amount: Decimal | str,
    method: PaymentMethod = PaymentMethod.cash, at: datetime | None = None, charges: list[Charge] = (),
    cashier_session_id=None, tendered: Decimal | str | None = None,
) -> Receipt:
    """A payment with its numbered receipt, settling `charges` in full (in order) up to `amount`."""
    at = at or utcnow()
    amount = Decimal(amount)
    cash = method is PaymentMethod.cash
    tendered_d = Decimal(tendered) if (cash and tendered is not None) else (amount if cash else None)
    payment = Payment(estate_id=estate.id, unit_id=unit.id, method=method, reference="" if cash else f"REF{next(_seq)}",
                      amount=amount, tendered=tendered_d, change_given=(tendered_d - amount) if cash else None,
                      cashier_id=cashier.id, cashier_session_id=cashier_session_id, received_at=at)
    session.add(payment)
    await session.flush()
    left = amount
    for charge in charges:
        part = min(left, charge.amount - charge.amount_paid)
        if part <= 0:
            continue
        session.add(Allocation(estate_id=estate.id, payment_id=payment.id, charge_id=charge.id, amount=part))
        charge.amount_paid += part
        if charge.amount_paid == charge.amount:
            charge.paid_at = at
        left -= part
        session.add(charge)
    payment.credit = left
    seq = await next_seq(session, estate_id=estate.id, series=ReceiptSeries.receipt, year=at.year)
    receipt = Receipt(estate_id=estate.id, year=at.year, seq=seq, payment_id=payment.id, unit_id=unit.id, amount=amount,
                      number=format_number(estate_code=estate.code, series=ReceiptSeries.receipt, year=at.year, seq=seq),
                      issued_at=at, issued_by=cashier.id, cashier_session_id=cashier_session_id)
    session.add(receipt)
    await session.commit()
    return receipt
