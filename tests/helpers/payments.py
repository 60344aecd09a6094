"""A front desk with a charge to pay, and paying it over HTTP: shared by the fees tests."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from app.domain.auth.roles import Role
from app.domain.fees.model import Charge
from app.domain.registry.model import Estate, Unit
from tests.factories import Staff, make_staff
from tests.fees_factories import make_charge, make_fee_item
from tests.registry_factories import make_building, make_unit, two_estates

API = "/api/v1"


@dataclass
class Desk:
    estate: Estate
    other: Estate
    unit: Unit
    charges: list[Charge]
    staff: Staff


async def desk(session, *, amounts=("160.56", "45.00", "80.00"), roles=(Role.receptionist,)) -> Desk:
    """A unit with charges falling due a month apart (oldest first), and a receptionist."""
    estate, other = await two_estates(session)
    estate.code = f"QS{uuid.uuid4().hex[:4]}"
    session.add(estate)
    await session.commit()
    unit = await make_unit(session, building=await make_building(session, estate=estate, number=8), entrance="2", number="301")
    item = await make_fee_item(session, estate=estate)
    charges = [await make_charge(session, unit=unit, item=item, amount=a, period=f"2026-{i + 1:02d}",
                                 due_date=date(2026, i + 1, 1)) for i, a in enumerate(amounts)]
    staff = await make_staff(session, estates=[estate], roles=list(roles))
    return Desk(estate=estate, other=other, unit=unit, charges=charges, staff=staff)


async def pay(client, d: Desk, *, key: str | None = None, staff: Staff | None = None, unit_id=None, **body):
    body.setdefault("method", "cash")
    if "charge_ids" not in body:
        body.setdefault("settle", "oldest_first")
    headers = {**(staff or d.staff).headers, "Idempotency-Key": key or str(uuid.uuid4())}
    return await client.post(f"{API}/units/{unit_id or d.unit.id}/payments", json=body, headers=headers)


async def charge_state(session, charge: Charge) -> tuple[str, bool]:
    row = (await session.execute(select(Charge).where(Charge.id == charge.id).execution_options(populate_existing=True))).scalar_one()
    return str(row.amount_paid), row.paid_at is not None
