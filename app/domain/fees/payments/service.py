"""Taking a payment at the desk in one call (§5.2): allocate, number, link the cashier's day.

Locks are always taken in the same order -- the cashier's session, then the charges (by id),
then the receipt counter -- so concurrent payments queue instead of deadlocking, and two
payments can never settle the same part of a charge.
"""
from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.model import User
from app.domain.auth.principal import Actor, system_actor
from app.domain.base import snapshot, utcnow
from app.domain.calendar import estate_time
from app.domain.errors import Conflict, Forbidden, Invalid
from app.domain.events import outbox
from app.domain.events.model import EventType
from app.domain.fees.cash import service as cash
from app.domain.fees.cash.model import CashierSession
from app.domain.fees.late_fees import service as late_fees
from app.domain.fees.model import Charge
from app.domain.fees.payments import receipts
from app.domain.fees.payments.model import Allocation, Payment, PaymentMethod, Receipt, ReceiptSeries
from app.domain.fees.payments.schemas import PaymentCreate, PaymentRead
from app.domain.fees.prepaid import ledger as prepaid_ledger
from app.domain.fees.prepaid.model import EntryKind
from app.domain.registry import units
from app.domain.registry.model import Estate

ZERO = Decimal("0.00")


class ReferenceRequired(Invalid):
    title = "A payment or refund other than cash needs the bank's or wallet's reference number"
    title_zh = "非现金的收款或退款须填写银行或支付平台的流水号"


class TenderedOnlyForCash(Invalid):
    title = "Only a cash payment has an amount tendered"
    title_zh = "只有现金收款才有实收现金金额"


class TenderedTooLittle(Invalid):
    title = "The cash tendered is less than the amount"
    title_zh = "实收现金少于应收金额"


class ChargeNotOnUnit(Invalid):
    title = "charge_ids names a charge that is not on this unit"
    title_zh = "charge_ids 中有不属于该房号的费用"


class ChargeAlreadySettled(Conflict):
    title = "The charge is already paid in full"
    title_zh = "该笔费用已全部交清"


class ChargeNotReached(Invalid):
    title = "The amount runs out before this selected charge; pay less charges or a larger amount"
    title_zh = "金额不足以覆盖所选的这笔费用；请少选几笔费用或增加金额"


class NoCashierForPayment(Forbidden):
    title = "Only a person with a cash drawer takes payments"
    title_zh = "只有配有钱箱的人员才能收款"


def check_reference(method: PaymentMethod, reference: str) -> None:
    if method is not PaymentMethod.cash and not reference:
        raise ReferenceRequired(field="reference", method=method.value)


def tender(data: PaymentCreate) -> tuple[Decimal | None, Decimal | None]:
    """(tendered, change) of the payment; cash without `tendered` was handed over exactly."""
    check_reference(data.method, data.reference)
    if data.method is not PaymentMethod.cash:
        if data.tendered is not None:
            raise TenderedOnlyForCash(field="tendered")
        return None, None
    tendered = data.amount if data.tendered is None else data.tendered
    if tendered < data.amount:
        raise TenderedTooLittle(field="tendered", tendered=str(tendered), amount=str(data.amount))
    return tendered, tendered - data.amount


class Owed(Protocol):
    """What allocate reads of a charge (the demo loader splits its own rows the same way)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def outstanding(self) -> Decimal: ...


OwedT = TypeVar("OwedT", bound=Owed)


def allocate(amount: Decimal, charges: Sequence[OwedT], *, selected: bool,
             optional: Collection[uuid.UUID] = ()) -> tuple[list[tuple[OwedT, Decimal]], Decimal]:
    """Split `amount` over the charges in order; what is left over is credit.

    Selected charges must each get something: a charge the money never reaches was chosen by
    mistake. Oldest-first simply stops when the money runs out. `optional` charges (late fees
    the payment itself posted) were not chosen, so the money may stop short of them.
    """
    parts: list[tuple[OwedT, Decimal]] = []
    left = amount
    for charge in charges:
        if left <= 0:
            if selected and charge.id not in optional:
                raise ChargeNotReached(charge_id=str(charge.id), field="charge_ids")
            if not selected:
                break
            continue
        part = min(left, charge.outstanding)
        parts.append((charge, part))
        left -= part
    return parts, left


async def current_session(session: AsyncSession, *, estate: Estate, cashier_id: uuid.UUID, at: datetime,
                          actor: Actor | None = None) -> CashierSession:
    """The cashier's open session of the estate-local day, opened on first use and row-locked so
    a hand-over cannot slip in; SessionHandedOver (409) once that day is handed over."""
    return await cash.session_for_payment(session, estate=estate, cashier_id=cashier_id,
                                          actor=actor or system_actor(), now=at)


async def selected_charges(session: AsyncSession, *, unit_id: uuid.UUID, estate_id: uuid.UUID,
                           charge_ids: Sequence[uuid.UUID] | None, lock: bool = True) -> list[Charge]:
    """The charges a payment settles, in the order chosen (or the unit's open ones, oldest first),
    row-locked unless `lock` is False (a channel order is priced without holding the charges)."""
    base = select(Charge).where(Charge.estate_id == estate_id).order_by(Charge.id)
    if lock:
        base = base.with_for_update()
    base = base.execution_options(populate_existing=True)
    if charge_ids is None:
        rows = (await session.execute(base.where(Charge.unit_id == unit_id, Charge.is_open()))).scalars()
        return late_fees.oldest_first(list(rows))
    found = {c.id: c for c in (await session.execute(base.where(Charge.id.in_(charge_ids)))).scalars()}
    for charge_id in charge_ids:
        charge = found.get(charge_id)
        if charge is None or charge.unit_id != unit_id:
            raise ChargeNotOnUnit(charge_id=str(charge_id), field="charge_ids")
        if charge.outstanding <= 0:
            raise ChargeAlreadySettled(charge_id=str(charge_id), current_state="paid")
    return [found[i] for i in charge_ids]


async def _settle(session: AsyncSession, *, actor: Actor, payment: Payment, parts: list[tuple[Charge, Decimal]],
                  at: datetime) -> list[tuple[Allocation, Charge]]:
    settled = []
    for charge, part in parts:
        await audit.apply(session, actor=actor, row=charge, action="record_payment", amount=part, at=at)
        allocation = Allocation(estate_id=payment.estate_id, payment_id=payment.id, charge_id=charge.id, amount=part)
        session.add(allocation)
        settled.append((allocation, charge))
    return settled


async def _estate_and_cashier(session: AsyncSession, *, estate_id: uuid.UUID, cashier_id: uuid.UUID) -> tuple[Estate, str]:
    """The estate and the cashier's name for the receipt, in one round trip."""
    name = select(User.full_name).where(User.id == cashier_id).scalar_subquery()
    estate, full_name = (await session.execute(select(Estate, name).where(Estate.id == estate_id))).one()
    return estate, full_name or ""


@dataclass(frozen=True, kw_only=True)
class Booking:
    """What one payment books: who took it, by what, and where its receipt is numbered."""

    method: PaymentMethod
    reference: str
    amount: Decimal
    cashier_id: uuid.UUID
    cashier_session_id: uuid.UUID | None  # None: no drawer counts it (channel money)
    series: ReceiptSeries
    tendered: Decimal | None = None
    change: Decimal | None = None
    payer_name: str = ""


Booked = tuple[Payment, Receipt, list[tuple[Allocation, Charge]]]


async def book(session: AsyncSession, *, actor: Actor, estate: Estate, unit_id: uuid.UUID, booking: Booking,
               parts: list[tuple[Charge, Decimal]], credit: Decimal, at: datetime) -> Booked:
    """Store the payment, settle its parts, put any left-over on account, number its receipt, audit
    and announce it: the one way money is booked, at the desk or from a channel.

    Everything that does not need the receipt's number is read and written before the number is taken:
    the estate's counter row stays locked until the commit and serialises the estate's payments.
    """
    payment = Payment(estate_id=estate.id, unit_id=unit_id, method=booking.method, reference=booking.reference,
                      amount=booking.amount, tendered=booking.tendered, change_given=booking.change, credit=credit,
                      payer_name=booking.payer_name, cashier_id=booking.cashier_id,
                      cashier_session_id=booking.cashier_session_id, received_at=at)
    session.add(payment)
    await session.flush()
    settled = await _settle(session, actor=actor, payment=payment, parts=parts, at=at)
    if credit > 0:  # the left-over goes into the unit's prepaid account, free to settle anything
        await prepaid_ledger.post(session, estate_id=estate.id, unit_id=unit_id, kind=EntryKind.overpayment, amount=credit,
                                  earmark=None, at=at, payment_id=payment.id)
    ahead = await outbox.read_ahead(session, estate_id=estate.id, type=EventType.payment_received, unit_id=unit_id)
    await session.flush()
    receipt = await receipts.issue(session, estate=estate, series=booking.series, unit_id=unit_id,
                                   amount=booking.amount, at=at, by=booking.cashier_id,
                                   cashier_session_id=booking.cashier_session_id, payment_id=payment.id)
    # Recorded here, not before the counter, so it shares one INSERT with the receipt's entry.
    await audit.record(session, actor=actor, action="payment.create", entity="payment", entity_id=payment.id,
                       estate_id=estate.id, after=snapshot(payment))
    await audit.record(session, actor=actor, action="receipt.issue", entity="receipt", entity_id=receipt.id,
                       estate_id=estate.id, after=snapshot(receipt))
    await outbox.emit(session, estate_id=estate.id, type=EventType.payment_received, entity="payment", entity_id=payment.id,
                      data={"unit_id": unit_id, "amount": payment.amount, "method": payment.method,
                            "receipt_id": receipt.id, "receipt_number": receipt.number, "cashier_id": booking.cashier_id},
                      at=at, ahead=ahead)
    return payment, receipt, settled


async def take_payment(session: AsyncSession, *, actor: Actor, unit_id: uuid.UUID, data: PaymentCreate,
                       now: datetime | None = None) -> PaymentRead:
    """Allocate the payment, number its receipt and put it in the cashier's day, all or nothing."""
    now = now or utcnow()
    if actor.id is None or actor.is_api_key:
        raise NoCashierForPayment()
    unit = await units.get_unit(session, actor=actor, unit_id=unit_id)
    tendered, change = tender(data)
    estate, cashier_name = await _estate_and_cashier(session, estate_id=unit.estate_id, cashier_id=actor.id)
    drawer = await current_session(session, estate=estate, cashier_id=actor.id, at=now, actor=actor)
    charges = await selected_charges(session, unit_id=unit.id, estate_id=estate.id, charge_ids=data.charge_ids)
    charges, posted = await late_fees.post_in_place(session, actor=actor, estate_id=estate.id, charges=charges,
                                                    today=estate_time.today(estate, now=now))
    parts, credit = allocate(data.amount, charges, selected=data.charge_ids is not None, optional=posted)
    booking = Booking(method=data.method, reference=data.reference, amount=data.amount, cashier_id=actor.id,
                      cashier_session_id=drawer.id, series=ReceiptSeries.receipt, tendered=tendered, change=change,
                      payer_name=data.payer_name)
    payment, receipt, settled = await book(session, actor=actor, estate=estate, unit_id=unit.id, booking=booking,
                                           parts=parts, credit=credit, at=now)
    return PaymentRead(**payment.model_dump(exclude={"estate_id", "created_at"}),
                       receipt=receipts.read_issued(receipt, payment=payment, allocations=settled, unit_label=unit.label,
                                                    cashier_name=cashier_name))
