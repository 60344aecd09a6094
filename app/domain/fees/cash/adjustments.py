"""Voids of receipts from a session already handed over (§5.4), as the hand-over reports them.

The receipt's money was handed to finance with its own session, so the void changes no drawer:
it is booked where and when it was made (the voider's session of the day) and reported as its
own section beside the drawers' figures, naming the receipt, who voided it and the session the
money was handed over with.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.domain.auth.model import User
from app.domain.fees.cash.model import CashierSession, SessionAdjustment
from app.domain.fees.cash.schemas import CENT, AdjustmentRead
from app.domain.fees.payments.model import DRAWER_METHODS, PaymentMethod, Receipt

ZERO = Decimal("0.00")


async def booked_in(session: AsyncSession, session_ids: Sequence[uuid.UUID]) -> list[AdjustmentRead]:
    """The adjustments booked in these sessions, oldest first: one query."""
    if not session_ids:
        return []
    original, voider, cashier = aliased(CashierSession), aliased(User), aliased(User)
    stmt = (
        select(SessionAdjustment, Receipt.number, Receipt.voided_by, voider.full_name, original.id, original.cashier_id,
               cashier.full_name, original.day)
        .join(Receipt, Receipt.id == SessionAdjustment.receipt_id)
        .outerjoin(voider, voider.id == Receipt.voided_by)
        .outerjoin(original, original.id == Receipt.cashier_session_id)
        .outerjoin(cashier, cashier.id == original.cashier_id)
        .where(SessionAdjustment.cashier_session_id.in_(session_ids))
        .order_by(SessionAdjustment.at, SessionAdjustment.id)
    )
    return [
        AdjustmentRead(id=a.id, session_id=a.cashier_session_id, receipt_id=a.receipt_id, receipt_number=number,
                       method=a.method, amount=a.amount, reason=a.reason, at=a.at, voided_by=voided_by,
                       voided_by_name=voided_by_name or "", original_session_id=original_id,
                       original_cashier_id=original_cashier_id, original_cashier_name=original_cashier_name or "",
                       original_day=original_day)
        for a, number, voided_by, voided_by_name, original_id, original_cashier_id, original_cashier_name, original_day
        in (await session.execute(stmt)).all()
    ]


def by_method(adjustments: Sequence[AdjustmentRead]) -> dict[PaymentMethod, Decimal]:
    out = {m: ZERO for m in DRAWER_METHODS}
    for a in adjustments:
        out[PaymentMethod(a.method)] += a.amount
    return {m: v.quantize(CENT) for m, v in out.items()}
