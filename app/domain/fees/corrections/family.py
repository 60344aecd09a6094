"""A charge with the late fees posted on it: locked together, cancelled together."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.fees.model import Charge, ChargeSource, ChargeState


async def locked_with_late_fees(session: AsyncSession, charge: Charge) -> list[Charge]:
    """The charge and the open late fees posted on it, locked in id order like every charge lock."""
    fees = (Charge.late_fee_of == charge.id) & (Charge.source == ChargeSource.late_fee.value) & \
        (Charge.state == ChargeState.open.value)
    stmt = select(Charge).where(or_(Charge.id == charge.id, fees)).order_by(Charge.id).with_for_update()
    return list((await session.execute(stmt.execution_options(populate_existing=True))).scalars())


async def cancel_family(session: AsyncSession, *, actor: Actor, charge: Charge, family: list[Charge], reason: str,
                        at: datetime) -> None:
    """Cancel the charge, then its late fees under the charge's reason (reckoned on a wrong amount)."""
    await audit.apply(session, actor=actor, row=charge, action="cancel", reason=reason, at=at)
    for fee in (f for f in family if f.id != charge.id):
        await audit.apply(session, actor=actor, row=fee, action="cancel", reason=f"所欠收费已取消：{reason}"[:500], at=at,
                          audit_extra={"with_charge": str(charge.id)})
