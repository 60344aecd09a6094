"""Refunds of overpayments (退款): money paid back from a unit's credit, with its own number.

Only what is on account may be paid back: the free money of the unit's prepaid account
(prepaid/ledger.py). The balance row is locked while it is checked, so two refunds at once
cannot both spend it; above the approval amount a refund goes through prepaid/refunds.py.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.principal import Actor
from app.domain.base import utcnow
from app.domain.errors import Conflict
from app.domain.fees.payments import receipts
from app.domain.fees.payments import service as payments
from app.domain.fees.payments.model import PaymentMethod, Refund
from app.domain.fees.payments.schemas import RefundCreate, RefundRead, UnitCredit
from app.domain.fees.prepaid import ledger as prepaid_ledger
from app.domain.fees.prepaid import refunds as prepaid_refunds
from app.domain.fees.prepaid.model import BalanceTooLow
from app.domain.registry import units
from app.domain.registry.model import Estate


class RefundExceedsCredit(Conflict):
    title = "The refund is more than the unit's credit"
    title_zh = "退款金额超过该房号的预收款"


class RefundNeedsApproval(Conflict):
    title = "A refund this large needs a second person's approval: ask for it at /units/{unit_id}/account/refunds"
    title_zh = "这么大金额的退款需要另一人审批：请在 /units/{unit_id}/account/refunds 提出申请"


async def unit_credit(session: AsyncSession, *, actor: Actor, unit_id: uuid.UUID) -> UnitCredit:
    unit = await units.get_unit(session, actor=actor, unit_id=unit_id)
    free = await prepaid_ledger.free_money(session, unit_id=unit.id)
    return UnitCredit(unit_id=unit.id, paid_in=free.paid_in, refunded=free.refunded, deducted=free.deducted,
                      credit=free.balance)


async def make_refund(session: AsyncSession, *, actor: Actor, unit_id: uuid.UUID, data: RefundCreate,
                      approval_above: Decimal | None = None, now: datetime | None = None) -> RefundRead:
    """Pay back free money of the unit's prepaid account at once (at most `approval_above`)."""
    now = now or utcnow()
    if actor.id is None or actor.is_api_key:
        raise payments.NoCashierForPayment()
    unit = await units.get_unit(session, actor=actor, unit_id=unit_id)
    payments.check_reference(data.method, data.reference)
    if approval_above is not None and data.amount > approval_above:
        raise RefundNeedsApproval(field="amount", approval_above=str(approval_above))
    estate = await session.get(Estate, unit.estate_id)
    assert estate is not None
    try:
        receipt = await prepaid_refunds.pay_out(session, actor=actor, estate=estate, unit_id=unit.id, amount=data.amount,
                                                method=data.method, reference=data.reference, reason=data.reason,
                                                earmark=None, now=now)
    except BalanceTooLow as exc:
        credit = exc.extra.get("balance")
        raise RefundExceedsCredit(f"the unit has {credit} on account", field="amount", credit=credit) from None
    refund = await session.get(Refund, receipt.refund_id)
    assert refund is not None
    # The row read back may hold its method as the column's text: the read model wants the enum.
    return RefundRead(**refund.model_dump(exclude={"estate_id", "created_at", "method"}), method=PaymentMethod(refund.method),
                      receipt=await receipts.read(session, receipt))
