"""Settling a unit's open charges from its prepaid account (预存款抵扣), oldest first.

A deduction is a Payment of method `account` with its allocations and a document in its own
series (QS-K-2026-000001), so every report that reads payments and receipts counts it as
collected under 预存款抵扣 without a special case; no cashier session holds it. Each
earmark's money settles only charges of its fee item, and goes before the free money.
A late charge is settled as at the desk: its accrued late fee is posted first and settled
right after it (take_payment and this share late_fees.post_in_place).

Locks, in the order the desk takes them: the unit's open charges (by id), then the account's
balance rows, then the document counter. A desk payment for the same unit waits on the
charges; whichever comes second sees them as the first left them, so nothing is settled twice
and the balance's CHECK never has to refuse.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.model import User
from app.domain.auth.principal import Actor
from app.domain.base import snapshot, utcnow
from app.domain.calendar import estate_time
from app.domain.events import outbox
from app.domain.events.model import EventType
from app.domain.fees.late_fees import service as late_fees
from app.domain.fees.model import Charge
from app.domain.fees.payments import receipts
from app.domain.fees.payments.model import Allocation, Payment, PaymentMethod, ReceiptSeries
from app.domain.fees.prepaid import ledger
from app.domain.fees.prepaid.model import NO_EARMARK, AccountBalance, EntryKind
from app.domain.registry.model import Estate

ZERO = Decimal("0.00")
REFERENCE = "预存款"
# The name the documents and registers show as the deduction's cashier: no person took money.
DEDUCTION_USER = "预存款自动抵扣"


@dataclass(frozen=True)
class Part:
    charge: Charge
    earmark: uuid.UUID | None
    amount: Decimal


def plan(charges: list[Charge], balances: dict[uuid.UUID, Decimal]) -> list[Part]:
    """Oldest charge first; its own item's earmarked money first, then free money (pure)."""
    left = dict(balances)
    parts = []
    for charge in charges:
        owed = charge.outstanding
        for key in (charge.fee_item_id, NO_EARMARK):
            take = min(owed, left.get(key, ZERO))
            if take > 0:
                parts.append(Part(charge=charge, earmark=None if key == NO_EARMARK else key, amount=take))
                left[key] -= take
                owed -= take
    return parts


def _per_charge(parts: list[Part]) -> list[tuple[Charge, Decimal]]:
    """The parts summed per charge, in the plan's order (pure)."""
    sums: dict[uuid.UUID, tuple[Charge, Decimal]] = {}
    for part in parts:
        charge, amount = sums.get(part.charge.id, (part.charge, ZERO))
        sums[part.charge.id] = (charge, amount + part.amount)
    return list(sums.values())


async def deduction_user(session: AsyncSession, *, company_id: uuid.UUID) -> uuid.UUID:
    """The company's no-login user that deductions are issued by (documents name an issuer)."""
    username = f"prepaid-{company_id.hex[:16]}"
    await session.execute(insert(User).values(id=uuid.uuid4(), created_at=utcnow(), company_id=company_id, username=username,
                                              full_name=DEDUCTION_USER, roles=[], password_hash="!", is_active=False)
                          .on_conflict_do_nothing(index_elements=["username"]))
    return (await session.execute(select(User.id).where(User.username == username))).scalar_one()


async def _open_charges(session: AsyncSession, *, unit_id: uuid.UUID) -> list[Charge]:
    stmt = (select(Charge).where(Charge.unit_id == unit_id, Charge.is_open()).order_by(Charge.id).with_for_update()
            .execution_options(populate_existing=True))
    return late_fees.oldest_first(list((await session.execute(stmt)).scalars().all()))


async def _parts(session: AsyncSession, *, actor: Actor, estate: Estate, unit_id: uuid.UUID, now: datetime) -> list[Part]:
    """What the account settles, as the desk would: when it settles anything, the late fees the
    overdue charges accrued up to today are posted first, each right after its charge, and
    settled with it as far as the money goes. Nothing settled, nothing posted (no payment was
    taken; the month-end job posts them)."""
    charges = await _open_charges(session, unit_id=unit_id)
    balances = await ledger.lock(session, unit_id=unit_id) if charges else {}
    # A late fee is of its charge's fee item: the money that reaches neither reaches both.
    if not plan(charges, balances):
        return []
    charges, _ = await late_fees.post_in_place(session, actor=actor, estate_id=estate.id, charges=charges,
                                               today=estate_time.today(estate, now=now))
    return plan(charges, balances)


async def deduct_unit(session: AsyncSession, *, actor: Actor, estate: Estate, unit_id: uuid.UUID,
                      now: datetime | None = None) -> Payment | None:
    """Settle what the account can of the unit's open charges; None when nothing could be."""
    now = now or utcnow()
    parts = await _parts(session, actor=actor, estate=estate, unit_id=unit_id, now=now)
    if not parts:
        return None
    total = sum((p.amount for p in parts), ZERO)
    issuer = await deduction_user(session, company_id=estate.company_id)
    payment = Payment(estate_id=estate.id, unit_id=unit_id, method=PaymentMethod.account, reference=REFERENCE, amount=total,
                      cashier_id=issuer, received_at=now)
    session.add(payment)
    await session.flush()
    # A charge met by earmarked and free money both is one allocation (one receipt line), two entries.
    for charge, amount in _per_charge(parts):
        await audit.apply(session, actor=actor, row=charge, action="record_payment", amount=amount, at=now)
        session.add(Allocation(estate_id=estate.id, payment_id=payment.id, charge_id=charge.id, amount=amount))
    for part in parts:
        await ledger.post(session, estate_id=estate.id, unit_id=unit_id, kind=EntryKind.deduction, amount=-part.amount,
                          earmark=part.earmark, at=now, payment_id=payment.id, charge_id=part.charge.id)
    ahead = await outbox.read_ahead(session, estate_id=estate.id, type=EventType.account_deducted, unit_id=unit_id)
    receipt = await receipts.issue(session, estate=estate, series=ReceiptSeries.account, unit_id=unit_id, amount=total,
                                   at=now, by=issuer, cashier_session_id=None, payment_id=payment.id)
    await audit.record(session, actor=actor, action="account.deduct", entity="payment", entity_id=payment.id,
                       estate_id=estate.id, after={**snapshot(payment), "parts": [
                           {"charge_id": p.charge.id, "earmark": p.earmark, "amount": p.amount} for p in parts]})
    await audit.record(session, actor=actor, action="receipt.issue", entity="receipt", entity_id=receipt.id,
                       estate_id=estate.id, after=snapshot(receipt))
    await outbox.emit(session, estate_id=estate.id, type=EventType.account_deducted, entity="payment", entity_id=payment.id,
                      data={"unit_id": unit_id, "amount": total, "receipt_id": receipt.id, "receipt_number": receipt.number},
                      at=now, ahead=ahead)
    return payment


async def deduct_estate(session: AsyncSession, *, actor: Actor, estate: Estate, now: datetime | None = None) -> dict[str, object]:
    """Every unit of the estate with money on account and a charge open: one deduction each."""
    owing = exists().where(Charge.unit_id == AccountBalance.unit_id, Charge.estate_id == estate.id, Charge.is_open())
    stmt = (select(AccountBalance.unit_id).where(AccountBalance.estate_id == estate.id, AccountBalance.balance > 0, owing)
            .distinct().order_by(AccountBalance.unit_id))
    unit_ids = list((await session.execute(stmt)).scalars())
    done = [p for u in unit_ids if (p := await deduct_unit(session, actor=actor, estate=estate, unit_id=u, now=now))]
    return {"units": len(done), "total": str(sum((p.amount for p in done), ZERO))}
