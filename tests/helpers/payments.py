"""A front desk with a charge to pay, and paying it over HTTP: shared by the fees tests."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from app.domain.auth.roles import Role
from app.domain.fees.model import Charge
from app.domain.registry.model import Company, Estate, Unit
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


async def long_desk(session, *, months: int = 14) -> Desk:
    """A unit owing what a long-unpaid account owes: `months` of management fee billed per m²,
    a month's garbage fee, a water reading and a one-off with no computation: months + 3 charges."""
    from app.domain.fees.model import ChargeSource, FeeKind

    d = await desk(session, amounts=())
    company = await session.get(Company, d.estate.company_id)
    company.legal_name, company.address, company.phone = "新乡市祥瑞物业服务有限公司", "新乡市平原路88号", "0373-5551234"
    session.add(company)
    await session.commit()
    fee = await make_fee_item(session, estate=d.estate, price="1.80", unit_label="元/㎡·月")
    garbage = await make_fee_item(session, estate=d.estate, kind=FeeKind.fixed, price="15.00", name="垃圾清运费", unit_label="元/月")
    water = await make_fee_item(session, estate=d.estate, kind=FeeKind.metered, price="3.50", name="水费", unit_label="元/吨")
    other = await make_fee_item(session, estate=d.estate, kind=FeeKind.one_off, price="0", name="装修垃圾清运费")
    for n in range(months):
        year, month = 2025 + (n // 12), n % 12 + 1
        d.charges.append(await make_charge(
            session, unit=d.unit, item=fee, amount="160.56", period=f"{year}-{month:02d}", due_date=date(year, month, 1),
            basis={"rate": "1.80", "area": "89.20", "months": 1, "vacant_discount": None}))
    d.charges.append(await make_charge(session, unit=d.unit, item=garbage, amount="15.00", period="2026-03", due_date=date(2026, 3, 1),
                                       basis={"rate": "15.00", "units": "1", "months": 1, "vacant_discount": None}))
    d.charges.append(await make_charge(session, unit=d.unit, item=water, amount="42.00", period="2026-03", due_date=date(2026, 3, 2),
                                       source=ChargeSource.meter,
                                       basis={"rate": "3.50", "previous": "1203.00", "current": "1215.00", "quantity": "12.00"}))
    d.charges.append(await make_charge(session, unit=d.unit, item=other, amount="200.00", period=None, due_date=date(2026, 3, 3),
                                       source=ChargeSource.manual))
    return d


async def print_receipt(client, staff: Staff, receipt_id, *, reason: str | None = None, key: str | None = None):
    """POST …/prints: a recorded print (补打 N after the first, which needs a reason)."""
    headers = {**staff.headers, **({"Idempotency-Key": key} if key else {})}
    return await client.post(f"{API}/receipts/{receipt_id}/prints", json={} if reason is None else {"reason": reason},
                             headers=headers)


async def set_receipt_paper(session, estate: Estate, *, copies: list[str] | None = None, note: str | None = None) -> None:
    """The estate's receipt settings, set straight in the database (the PATCH is tested in test_receipt_prints)."""
    if copies is not None:
        estate.receipt_copies = copies
    if note is not None:
        estate.receipt_note = note
    session.add(estate)
    await session.commit()


def keyed(headers: dict[str, str]) -> dict[str, str]:
    """The headers with a fresh Idempotency-Key: a money-moving POST (a void) requires one."""
    return {**headers, "Idempotency-Key": str(uuid.uuid4())}
