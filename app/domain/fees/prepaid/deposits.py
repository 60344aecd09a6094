"""Deposits into a unit's prepaid account at the desk, and reading the account's balance.

A deposit is a Payment that settles nothing (all of it `credit`, kept on account) with a
receipt in the deposit series (QS-D-2026-000001): the cashier's session counts it for its
method like any payment, and the month-end report sees it as money put on account.
"""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import snapshot, utcnow
from app.domain.errors import Invalid
from app.domain.fees.model import FeeItem
from app.domain.fees.payments import receipts
from app.domain.fees.payments import service as payments
from app.domain.fees.payments.model import Payment, ReceiptSeries
from app.domain.fees.payments.schemas import PaymentCreate
from app.domain.fees.prepaid import ledger
from app.domain.fees.prepaid.model import EntryKind
from app.domain.fees.prepaid.schemas import AccountRead, BalanceLine, DepositCreate, DepositRead
from app.domain.registry import units

FREE_NAME = "不限项目"


class EarmarkNotInEstate(Invalid):
    title = "earmarks names a fee item that is not the unit's estate's"
    title_zh = "earmarks 中有不属于该房号所在小区的收费项目"


async def account_of(session: AsyncSession, *, unit_id: uuid.UUID) -> AccountRead:
    by_earmark = await ledger.balances(session, unit_id=unit_id)
    ids = [k for k in by_earmark if k is not None]
    names: dict[uuid.UUID | None, str] = {None: FREE_NAME}
    if ids:
        names |= dict((await session.execute(select(FeeItem.id, FeeItem.name).where(FeeItem.id.in_(ids)))).all())
    lines = [BalanceLine(fee_item_id=k, name=names.get(k, ""), balance=b)
             for k, b in sorted(by_earmark.items(), key=lambda kv: (kv[0] is not None, names.get(kv[0], "")))]
    return AccountRead(unit_id=unit_id, balance=sum((ln.balance for ln in lines), ledger.ZERO), earmarks=lines)


async def get_account(session: AsyncSession, *, actor: Actor, unit_id: uuid.UUID) -> AccountRead:
    unit = await units.get_unit(session, actor=actor, unit_id=unit_id)
    return await account_of(session, unit_id=unit.id)


async def _check_earmarks(session: AsyncSession, *, estate_id: uuid.UUID, data: DepositCreate) -> None:
    wanted = {e.fee_item_id for e in data.earmarks}
    if not wanted:
        return
    found = set((await session.execute(select(FeeItem.id).where(FeeItem.id.in_(wanted), FeeItem.estate_id == estate_id))).scalars())
    for item_id in sorted(wanted - found):
        raise EarmarkNotInEstate(fee_item_id=str(item_id), field="earmarks")


async def take_deposit(session: AsyncSession, *, actor: Actor, unit_id: uuid.UUID, data: DepositCreate,
                       now: datetime | None = None) -> DepositRead:
    """Number the deposit's receipt, put it in the cashier's day and on the account, all or nothing.

    Locks in the desk's order: the cashier's session, the account's balance rows, the counter."""
    now = now or utcnow()
    if actor.id is None or actor.is_api_key:
        raise payments.NoCashierForPayment()
    unit = await units.get_unit(session, actor=actor, unit_id=unit_id)
    tendered, change = payments.tender(PaymentCreate(settle="oldest_first", amount=data.amount, method=data.method,
                                                     reference=data.reference, tendered=data.tendered))
    await _check_earmarks(session, estate_id=unit.estate_id, data=data)
    estate, cashier_name = await payments._estate_and_cashier(session, estate_id=unit.estate_id, cashier_id=actor.id)
    drawer = await payments.current_session(session, estate=estate, cashier_id=actor.id, at=now, actor=actor)
    payment = Payment(estate_id=estate.id, unit_id=unit.id, method=data.method, reference=data.reference, amount=data.amount,
                      tendered=tendered, change_given=change, credit=data.amount, payer_name=data.payer_name,
                      cashier_id=actor.id, cashier_session_id=drawer.id, received_at=now)
    session.add(payment)
    await session.flush()
    free = data.amount - sum((e.amount for e in data.earmarks), ledger.ZERO)
    parts = [(e.fee_item_id, e.amount) for e in data.earmarks] + ([(None, free)] if free > 0 else [])
    for earmark, amount in parts:
        await ledger.post(session, estate_id=estate.id, unit_id=unit.id, kind=EntryKind.deposit, amount=amount,
                          earmark=earmark, at=now, payment_id=payment.id)
    receipt = await receipts.issue(session, estate=estate, series=ReceiptSeries.deposit, unit_id=unit.id, amount=data.amount,
                                   at=now, by=actor.id, cashier_session_id=drawer.id, payment_id=payment.id)
    await audit.record(session, actor=actor, action="account.deposit", entity="payment", entity_id=payment.id,
                       estate_id=estate.id, after={**snapshot(payment), "earmarks": [(str(k), str(a)) for k, a in parts]})
    await audit.record(session, actor=actor, action="receipt.issue", entity="receipt", entity_id=receipt.id,
                       estate_id=estate.id, after=snapshot(receipt))
    read = receipts.read_issued(receipt, payment=payment, allocations=[], unit_label=unit.label, cashier_name=cashier_name)
    return DepositRead(payment_id=payment.id, unit_id=unit.id, amount=payment.amount, receipt=read,
                       account=await account_of(session, unit_id=unit.id))
