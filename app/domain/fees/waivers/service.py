"""Asking for, deciding and reading waivers (减免) on single charges.

Approving locks the waiver, then its charge, FOR UPDATE: a payment settling the same charge
locks it too (payments/service.py), so whichever comes second reads what the first left, and
a waiver the outstanding no longer covers is refused (409 waiver-over-outstanding) instead
of breaking the charge's paid + waived <= amount check.
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
from app.domain.auth.roles import Perm, Role
from app.domain.base import utcnow
from app.domain.errors import Forbidden, Invalid, NotFound
from app.domain.fees.billing.items import load_estate
from app.domain.fees.model import Charge, ChargeState
from app.domain.fees.waivers.model import WAIVER_TRANSITIONS, Waiver, WaiverKind, WaiverState, waiver_amount
from app.domain.fees.waivers.schemas import Decision, WaiverCreate, WaiverList, WaiverRead
from app.domain.pagination import PageRequest, paginate

HUNDRED = Decimal("100")


class ChargeNotFound(NotFound):
    title = "Charge not found"
    title_zh = "未找到该笔应收费用"


class WaiverNotFound(NotFound):
    title = "Waiver not found"
    title_zh = "未找到该减免申请"


class PercentAboveHundred(Invalid):
    title = "A percentage is at most 100"
    title_zh = "百分比最多为 100"


class ChargeNotWaivable(Invalid):
    title = "The charge owes nothing: it is settled, waived or cancelled"
    title_zh = "该笔费用已无欠款：已交清、已减免或已取消"


class WaiverMoreThanOwed(Invalid):
    title = "The waiver is more than the charge owes"
    title_zh = "减免金额超过该笔费用的欠款"


class FinanceApproves(Forbidden):
    title = "A waiver above the threshold is approved by finance"
    title_zh = "超过限额的减免须由财务审批"


class NotYourRequest(Forbidden):
    title = "Only the person who asked, or an approver, withdraws a request"
    title_zh = "只有申请人或审批人才能撤回申请"


class WaiverSort(StrEnum):
    created_at = "created_at"
    amount = "amount"


def read(waiver: Waiver) -> WaiverRead:
    return WaiverRead.model_validate(waiver).model_copy(
        update={"allowed_actions": WAIVER_TRANSITIONS.allowed_actions(WaiverState(waiver.status))})


async def load_charge(session: AsyncSession, *, actor: Actor, charge_id: uuid.UUID, lock: bool = False) -> Charge:
    """The charge if the actor's estates hold it (another estate's: 404, as if missing)."""
    stmt = select(Charge).where(Charge.id == charge_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    charge = (await session.execute(stmt)).scalar_one_or_none()
    if charge is None or not actor.sees(charge.estate_id):
        raise ChargeNotFound(charge_id=str(charge_id))
    return charge


async def _load(session: AsyncSession, *, actor: Actor, waiver_id: uuid.UUID, lock: bool = False) -> Waiver:
    stmt = select(Waiver).where(Waiver.id == waiver_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    waiver = (await session.execute(stmt)).scalar_one_or_none()
    if waiver is None or not actor.sees(waiver.estate_id):
        raise WaiverNotFound(waiver_id=str(waiver_id))
    return waiver


def check_value(kind: WaiverKind | str, value: Decimal) -> None:
    if kind != WaiverKind.amount and value > HUNDRED:
        raise PercentAboveHundred(field="value", value=str(value))


async def request_waiver(session: AsyncSession, *, actor: Actor, charge_id: uuid.UUID, data: WaiverCreate,
                         now: datetime | None = None) -> WaiverRead:
    """Ask for a waiver on a charge still owing; its amount is fixed now (a percent of the billed amount)."""
    charge = await load_charge(session, actor=actor, charge_id=charge_id)
    check_value(data.kind, data.value)
    if ChargeState(charge.state) is not ChargeState.open or charge.outstanding <= 0:
        raise ChargeNotWaivable(field="charge_id", outstanding=str(charge.outstanding))
    amount = waiver_amount(kind=data.kind, value=data.value, billed=charge.amount)
    if amount <= 0 or amount > charge.outstanding:
        raise WaiverMoreThanOwed(field="value", amount=str(amount), outstanding=str(charge.outstanding))
    waiver = Waiver(estate_id=charge.estate_id, charge_id=charge.id, unit_id=charge.unit_id, kind=data.kind, value=data.value,
                    amount=amount, reason=data.reason, requested_by=actor.id, created_at=now or utcnow())
    session.add(waiver)
    await session.flush()
    await audit.record(session, actor=actor, action="waiver.request", row=waiver)
    return read(waiver)


def check_approver(actor: Actor, *, amount: Decimal, finance_above: Decimal) -> None:
    """Above the threshold only finance approves; the system actor (a rule's application) is not asked."""
    if not actor.is_system and amount > finance_above and not actor.has_role(Role.finance):
        raise FinanceApproves(amount=str(amount), finance_above=str(finance_above))


async def approve(session: AsyncSession, *, actor: Actor, waiver_id: uuid.UUID, data: Decision, finance_above: Decimal,
                  now: datetime | None = None) -> WaiverRead:
    waiver = await _load(session, actor=actor, waiver_id=waiver_id, lock=True)
    check_approver(actor, amount=waiver.amount, finance_above=finance_above)
    charge = await load_charge(session, actor=actor, charge_id=waiver.charge_id, lock=True)
    before = audit.audit_snapshot(charge)
    await audit.apply(session, actor=actor, row=waiver, action="approve", charge=charge, by=actor.id, at=now or utcnow(),
                      reason=data.reason)
    await audit.record(session, actor=actor, action="charge.waive", row=charge, before=before)
    return read(waiver)


async def decide(session: AsyncSession, *, actor: Actor, waiver_id: uuid.UUID, action: str, data: Decision,
                 now: datetime | None = None) -> WaiverRead:
    """Reject or withdraw: the charge is untouched. Withdrawing is the asker's, or an approver's."""
    waiver = await _load(session, actor=actor, waiver_id=waiver_id, lock=True)
    if action == "withdraw" and actor.id != waiver.requested_by and not actor.can(Perm.waivers_approve):
        raise NotYourRequest(waiver_id=str(waiver.id))
    await audit.apply(session, actor=actor, row=waiver, action=action, by=actor.id, at=now or utcnow(), reason=data.reason)
    return read(waiver)


async def reverse(session: AsyncSession, *, actor: Actor, waiver_id: uuid.UUID, data: Decision, finance_above: Decimal,
                  now: datetime | None = None) -> WaiverRead:
    """An approval made in error: the amount is owed again (the line stays, reversed, with why)."""
    waiver = await _load(session, actor=actor, waiver_id=waiver_id, lock=True)
    check_approver(actor, amount=waiver.amount, finance_above=finance_above)
    charge = await load_charge(session, actor=actor, charge_id=waiver.charge_id, lock=True)
    before = audit.audit_snapshot(charge)
    await audit.apply(session, actor=actor, row=waiver, action="reverse", charge=charge, by=actor.id, at=now or utcnow(),
                      reason=data.reason)
    await audit.record(session, actor=actor, action="charge.unwaive", row=charge, before=before)
    return read(waiver)


async def get_waiver(session: AsyncSession, *, actor: Actor, waiver_id: uuid.UUID) -> WaiverRead:
    return read(await _load(session, actor=actor, waiver_id=waiver_id))


async def list_waivers(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, page: PageRequest,
                       status: WaiverState | None = None, charge_id: uuid.UUID | None = None) -> WaiverList:
    await load_estate(session, actor=actor, estate_id=estate_id)
    stmt = select(Waiver).where(Waiver.estate_id == estate_id)
    if status is not None:
        stmt = stmt.where(Waiver.status == status)
    if charge_id is not None:
        stmt = stmt.where(Waiver.charge_id == charge_id)
    sortable = {WaiverSort.created_at: Waiver.created_at, WaiverSort.amount: Waiver.amount}
    rows, total = await paginate(session, stmt, page, sortable=sortable, default=[Waiver.created_at.desc(), Waiver.id])
    return WaiverList(items=[read(w) for w in rows], total=total, limit=page.limit, offset=page.offset)
