"""Refunds of a prepaid account's balance (退款), approved by a second person above a set amount.

At or below the amount the desk pays it back at once: a Refund with its QS-R document in the
cashier's session, and a `refund` entry on the account. Above it, the request waits; another
person with refunds:approve approves (the money moves then, from the approver's drawer) or
rejects it, with a reason, through the refund's transition table. A request reserves nothing:
the balance is checked again when it is approved.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import snapshot, utcnow
from app.domain.errors import NotFound
from app.domain.fees.payments import receipts
from app.domain.fees.payments import service as payments
from app.domain.fees.payments.model import PaymentMethod, Receipt, ReceiptSeries, Refund
from app.domain.fees.prepaid import ledger
from app.domain.fees.prepaid.model import AccountRefund, BalanceTooLow, EntryKind, RefundState
from app.domain.fees.prepaid.schemas import AccountRefundCreate, AccountRefundRead
from app.domain.registry import units
from app.domain.registry.model import Estate
from app.domain.visibility import Visible, load_visible


class AccountRefundNotFound(NotFound):
    title = "Refund request not found"
    title_zh = "未找到该退款申请"


ACCOUNT_REFUND = Visible(model=AccountRefund, missing=AccountRefundNotFound)


async def pay_out(session: AsyncSession, *, actor: Actor, estate: Estate, unit_id: uuid.UUID, amount: Decimal,
                  method: PaymentMethod, reference: str, reason: str, earmark: uuid.UUID | None, now: datetime) -> Receipt:
    """Pay `amount` back from the account: the Refund, its numbered document, the account's entry."""
    assert actor.id is not None
    payments.check_reference(method, reference)
    drawer = await payments.current_session(session, estate=estate, cashier_id=actor.id, at=now, actor=actor)
    refund = Refund(estate_id=estate.id, unit_id=unit_id, amount=amount, method=method, reference=reference, reason=reason,
                    cashier_id=actor.id, cashier_session_id=drawer.id, refunded_at=now)
    session.add(refund)
    await session.flush()
    await ledger.debit(session, estate_id=estate.id, unit_id=unit_id, kind=EntryKind.refund, amount=amount, earmark=earmark,
                       at=now, refund_id=refund.id)
    receipt = await receipts.issue(session, estate=estate, series=ReceiptSeries.refund, unit_id=unit_id, amount=amount,
                                   at=now, by=actor.id, cashier_session_id=drawer.id, refund_id=refund.id)
    await audit.record(session, actor=actor, action="refund.create", entity="refund", entity_id=refund.id,
                       estate_id=estate.id, after=snapshot(refund))
    await audit.record(session, actor=actor, action="receipt.issue", entity="receipt", entity_id=receipt.id,
                       estate_id=estate.id, after=snapshot(receipt))
    return receipt


def _read(row: AccountRefund, receipt: Receipt | None) -> AccountRefundRead:
    return AccountRefundRead(**row.model_dump(exclude={"estate_id", "created_at", "earmark_fee_item_id"}),
                             fee_item_id=row.earmark_fee_item_id, receipt_number=receipt.number if receipt else None)


async def request_refund(session: AsyncSession, *, actor: Actor, unit_id: uuid.UUID, data: AccountRefundCreate,
                         approval_above: Decimal, now: datetime | None = None) -> AccountRefundRead:
    now = now or utcnow()
    if actor.id is None or actor.is_api_key:
        raise payments.NoCashierForPayment()
    unit = await units.get_unit(session, actor=actor, unit_id=unit_id)
    payments.check_reference(data.method, data.reference)
    estate = await session.get(Estate, unit.estate_id)
    assert estate is not None
    receipt = None
    if data.amount <= approval_above:  # no one else need approve: paid out now, the request born approved
        receipt = await pay_out(session, actor=actor, estate=estate, unit_id=unit.id, amount=data.amount, method=data.method,
                                reference=data.reference, reason=data.reason, earmark=data.fee_item_id, now=now)
    else:  # checked now too, so a request the account cannot pay is refused at once
        have = (await ledger.balances(session, unit_id=unit.id)).get(data.fee_item_id, ledger.ZERO)
        if have < data.amount:
            raise BalanceTooLow(f"the account has {have} here", field="amount", balance=str(have))
    row = AccountRefund(estate_id=estate.id, unit_id=unit.id, earmark_fee_item_id=data.fee_item_id, amount=data.amount,
                        method=data.method.value, reference=data.reference, reason=data.reason, requested_by=actor.id,
                        requested_at=now, status=RefundState.approved if receipt else RefundState.requested,
                        refund_id=receipt.refund_id if receipt else None)
    session.add(row)
    await session.flush()
    await audit.record(session, actor=actor, action="account_refund.request", row=row)
    return _read(row, receipt)


async def decide(session: AsyncSession, *, actor: Actor, refund_id: uuid.UUID, approve: bool, reason: str,
                 now: datetime | None = None) -> AccountRefundRead:
    """Approve (and pay, from the approver's drawer) or reject a waiting refund; never one's own."""
    now = now or utcnow()
    if actor.id is None or actor.is_api_key:
        raise payments.NoCashierForPayment()
    row = await load_visible(session, ACCOUNT_REFUND, refund_id, actor=actor, lock=True)
    await audit.apply(session, actor=actor, row=row, action="approve" if approve else "reject", by=actor.id, reason=reason,
                      at=now)
    receipt = None
    if approve:
        estate = await session.get(Estate, row.estate_id)
        assert estate is not None
        receipt = await pay_out(session, actor=actor, estate=estate, unit_id=row.unit_id, amount=row.amount,
                                method=PaymentMethod(row.method), reference=row.reference, reason=row.reason,
                                earmark=row.earmark_fee_item_id, now=now)
        row.refund_id = receipt.refund_id
        session.add(row)
        await session.flush()
    return _read(row, receipt)
