"""Cancelling a charge money was paid on: asked by one person, approved by another (issue 17).

Approving locks the request, then the charge and its open late fees (by id, as the desk and the
deduction job lock charges), so a payment taken on the same charge at the same moment either
comes first (the money on the charge is then not what was asked: 409, nothing moved) or waits
and finds the charge cancelled. Each live allocation of the family is reversed through the
charge's `reverse_payment` verb and its amount put into the unit's prepaid account as a
`correction` entry naming the payment: the receipt stays valid (the money was received), and
voiding it later takes that money back off the account like any money the receipt put there.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.base import flush_unique, utcnow
from app.domain.errors import Forbidden, NotFound
from app.domain.fees.billing.charges import CHARGE
from app.domain.fees.billing.items import load_estate
from app.domain.fees.corrections.family import cancel_family, locked_with_late_fees
from app.domain.fees.corrections.model import (
    CANCELLATION_TRANSITIONS,
    CancellationPending,
    CancellationState,
    ChargeCancellation,
)
from app.domain.fees.corrections.schemas import CancellationDecision, ChargeCancellationList, ChargeCancellationRead
from app.domain.fees.model import Charge
from app.domain.fees.payments.model import Allocation
from app.domain.fees.prepaid import ledger
from app.domain.fees.prepaid.model import EntryKind
from app.domain.pagination import PageRequest, paginate
from app.domain.visibility import Visible, load_visible

ZERO = Decimal("0.00")


class CancellationNotFound(NotFound):
    title = "Charge cancellation request not found"
    title_zh = "未找到该费用取消申请"


class NotYourCancellation(Forbidden):
    title = "Only the person who asked, or an approver, withdraws a cancellation request"
    title_zh = "只有申请人或审批人才能撤回费用取消申请"


class CancellationSort(StrEnum):
    created_at = "created_at"
    amount_paid = "amount_paid"


CANCELLATION = Visible(model=ChargeCancellation, missing=CancellationNotFound, id_field="cancellation_id")


def read(row: ChargeCancellation) -> ChargeCancellationRead:
    return ChargeCancellationRead.model_validate(row).model_copy(
        update={"allowed_actions": CANCELLATION_TRANSITIONS.allowed_actions(CancellationState(row.status))})


def _paid(family: list[Charge]) -> Decimal:
    return sum((c.amount_paid for c in family), ZERO)


async def ask(session: AsyncSession, *, actor: Actor, charge: Charge, family: list[Charge], reason: str,
              at: datetime) -> ChargeCancellationRead:
    """The request to cancel a paid charge (family locked by the caller); 409 while one waits."""
    row = ChargeCancellation(estate_id=charge.estate_id, charge_id=charge.id, unit_id=charge.unit_id, reason=reason.strip(),
                             amount_paid=_paid(family), requested_by=actor.id, created_at=at)
    session.add(row)
    await flush_unique(session, CancellationPending(charge_id=str(charge.id)))
    await audit.record(session, actor=actor, action="charge_cancellation.request", row=row)
    return read(row)


async def _move_to_account(session: AsyncSession, *, actor: Actor, family: list[Charge], at: datetime) -> None:
    """Each live allocation of the family reversed, its money on the unit's account (free money).
    Read under the charges' locks: every path that adds or reverses an allocation takes them first."""
    ids = [c.id for c in family]
    charges = {c.id: c for c in family}
    allocs = (await session.execute(select(Allocation).where(Allocation.charge_id.in_(ids), Allocation.reversed_at.is_(None))
                                    .order_by(Allocation.created_at, Allocation.id)
                                    .execution_options(populate_existing=True))).scalars().all()
    for alloc in allocs:
        charge = charges[alloc.charge_id]
        await audit.apply(session, actor=actor, row=charge, action="reverse_payment", amount=alloc.amount)
        alloc.reversed_at = at
        session.add(alloc)
        await ledger.post(session, estate_id=charge.estate_id, unit_id=charge.unit_id, kind=EntryKind.correction,
                          amount=alloc.amount, earmark=None, at=at, payment_id=alloc.payment_id, charge_id=charge.id)


async def approve(session: AsyncSession, *, actor: Actor, cancellation_id: uuid.UUID, data: CancellationDecision,
                  now: datetime | None = None) -> ChargeCancellationRead:
    """Approve as asked: the money moves to the unit's account and the charge (with its late fees) is cancelled."""
    row = await load_visible(session, CANCELLATION, cancellation_id, actor=actor, lock=True)
    charge = await load_visible(session, CHARGE, row.charge_id, actor=actor)
    family = await locked_with_late_fees(session, charge)
    at = now or utcnow()
    await audit.apply(session, actor=actor, row=row, action="approve", charge=charge, paid_now=_paid(family), by=actor.id,
                      at=at, reason=data.reason)
    await _move_to_account(session, actor=actor, family=family, at=at)
    await cancel_family(session, actor=actor, charge=charge, family=family, reason=row.reason, at=at)
    return read(row)


async def decide(session: AsyncSession, *, actor: Actor, cancellation_id: uuid.UUID, action: str,
                 data: CancellationDecision, now: datetime | None = None) -> ChargeCancellationRead:
    """Reject or withdraw: the charge and its money are untouched. Withdrawing is the asker's, or an approver's."""
    row = await load_visible(session, CANCELLATION, cancellation_id, actor=actor, lock=True)
    if action == "withdraw" and actor.id != row.requested_by and not actor.can(Perm.charge_cancellations_approve):
        raise NotYourCancellation(cancellation_id=str(row.id))
    await audit.apply(session, actor=actor, row=row, action=action, by=actor.id, at=now or utcnow(), reason=data.reason)
    return read(row)


async def get_cancellation(session: AsyncSession, *, actor: Actor, cancellation_id: uuid.UUID) -> ChargeCancellationRead:
    return read(await load_visible(session, CANCELLATION, cancellation_id, actor=actor))


async def list_cancellations(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, page: PageRequest,
                             status: CancellationState | None = None,
                             charge_id: uuid.UUID | None = None) -> ChargeCancellationList:
    await load_estate(session, actor=actor, estate_id=estate_id)
    stmt = select(ChargeCancellation).where(ChargeCancellation.estate_id == estate_id)
    if status is not None:
        stmt = stmt.where(ChargeCancellation.status == status)
    if charge_id is not None:
        stmt = stmt.where(ChargeCancellation.charge_id == charge_id)
    sortable = {CancellationSort.created_at: ChargeCancellation.created_at,
                CancellationSort.amount_paid: ChargeCancellation.amount_paid}
    rows, total = await paginate(session, stmt, page, sortable=sortable,
                                 default=[ChargeCancellation.created_at.desc(), ChargeCancellation.id])
    return ChargeCancellationList(items=[read(r) for r in rows], total=total, limit=page.limit, offset=page.offset)
