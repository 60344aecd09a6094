"""A paid charge's cancel asked and decided over HTTP: shared by the charge-cancellation tests."""
from __future__ import annotations

import uuid

from sqlalchemy import func, select

from app.domain.auth.roles import Role
from app.domain.fees.model import Charge
from app.domain.fees.payments.model import Allocation
from tests.factories import Staff, make_staff
from tests.helpers.payments import API, Desk, desk

REASON = "面积录错：应为83.50㎡"


async def paid_desk(session) -> tuple[Desk, Staff, Staff]:
    """A unit owing 160.56 (2026-01), a receptionist at the desk, finance who asks, a supervisor who approves."""
    d = await desk(session, amounts=("160.56",))
    finance = await make_staff(session, estates=[d.estate], roles=[Role.finance], full_name="王会计")
    supervisor = await make_staff(session, estates=[d.estate], roles=[Role.supervisor], full_name="张主管")
    return d, finance, supervisor


async def ask(client, charge_id, staff: Staff, *, reason: str = REASON, key: str | None = None):
    headers = {**staff.headers, **({"Idempotency-Key": key} if key else {})}
    return await client.post(f"{API}/charges/{charge_id}/cancel", json={"reason": reason}, headers=headers)


async def decide(client, cancellation_id, verb: str, staff: Staff, *, reason: str | None = None):
    body = None if reason is None else {"reason": reason}
    return await client.post(f"{API}/charge-cancellations/{cancellation_id}/{verb}", json=body, headers=staff.headers)


async def fresh_charge(session, charge_id) -> Charge:
    stmt = select(Charge).where(Charge.id == charge_id).execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one()


async def live_allocated(session, charge_id: uuid.UUID):
    stmt = select(func.coalesce(func.sum(Allocation.amount), 0)).where(Allocation.charge_id == charge_id,
                                                                       Allocation.reversed_at.is_(None))
    return (await session.execute(stmt)).scalar_one()
