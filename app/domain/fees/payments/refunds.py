"""Refunds of overpayments (退款): money paid back from a unit's credit, with its own number.

Only what is on account may be paid back: the credit of the unit's payments (receipts not
voided) less the refunds already made (not voided). The unit row is locked while the credit
is counted, so two refunds at once cannot both spend it.
"""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import snapshot, utcnow
from app.domain.errors import Conflict
from app.domain.fees.payments import receipts
from app.domain.fees.payments import service as payments
from app.domain.fees.payments.model import ReceiptSeries, Refund
from app.domain.fees.payments.schemas import RefundCreate, RefundRead, UnitCredit
from app.domain.registry import units
from app.domain.registry.model import Estate


class RefundExceedsCredit(Conflict):
    title = "The refund is more than the unit's credit"


async def unit_credit(session: AsyncSession, *, actor: Actor, unit_id: uuid.UUID) -> UnitCredit:
    unit = await units.get_unit(session, actor=actor, unit_id=unit_id)
    paid_in, refunded = await receipts.credit_of(session, unit_id=unit.id)
    return UnitCredit(unit_id=unit.id, paid_in=paid_in, refunded=refunded, credit=paid_in - refunded)


async def make_refund(session: AsyncSession, *, actor: Actor, unit_id: uuid.UUID, data: RefundCreate,
                      now: datetime | None = None) -> RefundRead:
    now = now or utcnow()
    if actor.id is None or actor.is_api_key:
        raise payments.NoCashierForPayment()
    unit = await units.get_unit(session, actor=actor, unit_id=unit_id)
    payments.check_reference(data.method, data.reference)
    estate = await session.get(Estate, unit.estate_id)
    assert estate is not None
    drawer = await payments.current_session(session, estate=estate, cashier_id=actor.id, at=now, actor=actor)
    paid_in, refunded = await receipts.credit_of(session, unit_id=unit.id, lock=True)
    credit = paid_in - refunded
    if data.amount > credit:
        raise RefundExceedsCredit(f"the unit has {credit} on account", field="amount", credit=str(credit))
    refund = Refund(estate_id=estate.id, unit_id=unit.id, amount=data.amount, method=data.method, reference=data.reference,
                    reason=data.reason, cashier_id=actor.id, cashier_session_id=drawer.id, refunded_at=now)
    session.add(refund)
    await session.flush()
    receipt = await receipts.issue(session, estate=estate, series=ReceiptSeries.refund, unit_id=unit.id, amount=data.amount,
                                   at=now, by=actor.id, cashier_session_id=drawer.id, refund_id=refund.id)
    await audit.record(session, actor=actor, action="refund.create", entity="refund", entity_id=refund.id,
                       estate_id=estate.id, after=snapshot(refund))
    await audit.record(session, actor=actor, action="receipt.issue", entity="receipt", entity_id=receipt.id,
                       estate_id=estate.id, after=snapshot(receipt))
    return RefundRead(**refund.model_dump(exclude={"estate_id", "created_at"}), receipt=await receipts.read(session, receipt))
