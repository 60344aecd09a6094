"""A unit owing two months' management fee under a late-fee rule, shared by the late-fee tests."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select

from app.domain.auth.roles import Role
from app.domain.fees.model import Charge, FeeItem
from app.domain.registry.model import Estate, Unit
from tests.factories import Staff, make_staff
from tests.fees_factories import make_charge, make_fee_item, make_late_fee_rule
from tests.registry_factories import make_building, make_unit, two_estates

API = "/api/v1"
# 2026-11-10 10:00 in Shanghai.
NOW = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)


@dataclass
class Late:
    estate: Estate
    other: Estate
    unit: Unit
    item: FeeItem
    september: Charge
    october: Charge
    desk: Staff


async def late(session) -> Late:
    """8-2-301 owes September's and October's management fee, 223.00 each, due on the 1st; the
    estate's rule: 0.05% a day after 10 days' grace, at most 5% of the charge."""
    estate, other = await two_estates(session)
    unit = await make_unit(session, building=await make_building(session, estate=estate, number=8), entrance="2", number="301")
    item = await make_fee_item(session, estate=estate, code="mgmt")
    await make_late_fee_rule(session, items=[item], daily_rate="0.0005", grace_days=10, cap_share="0.05")
    sep = await make_charge(session, unit=unit, item=item, amount="223.00", period="2026-09", due_date=date(2026, 9, 1),
                            description="2026年9月物业管理费")
    octo = await make_charge(session, unit=unit, item=item, amount="223.00", period="2026-10", due_date=date(2026, 10, 1),
                             description="2026年10月物业管理费")
    desk = await make_staff(session, estates=[estate], roles=[Role.receptionist])
    return Late(estate=estate, other=other, unit=unit, item=item, september=sep, october=octo, desk=desk)


async def pay(client, w: Late, amount: str, *, charge_ids=None, key: str | None = None, staff: Staff | None = None):
    body: dict = {"amount": amount, "method": "cash"}
    body.update({"charge_ids": [str(c.id) for c in charge_ids]} if charge_ids is not None else {"settle": "oldest_first"})
    headers = {**(staff or w.desk).headers, "Idempotency-Key": key or str(uuid.uuid4())}
    return await client.post(f"{API}/units/{w.unit.id}/payments", json=body, headers=headers)


async def late_fees_on(session, charge: Charge) -> list[Charge]:
    stmt = (select(Charge).where(Charge.late_fee_of == charge.id).order_by(Charge.created_at)
            .execution_options(populate_existing=True))
    return list((await session.execute(stmt)).scalars())
