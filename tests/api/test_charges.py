"""A unit's charges with outstanding and late fee as of today; one-off charges; repair vouchers as charges."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.principal import system_actor
from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.fees.billing import charges
from app.domain.fees.model import Charge, FeeItem, FeeKind
from app.domain.repairs.model import WorkOrderStatus
from app.domain.repairs.vouchers.model import Voucher
from tests.factories import make_staff
from tests.fees_factories import make_charge, make_fee_item, make_late_fee_rule
from tests.helpers.problems import assert_422
from tests.registry_factories import count_rows, make_building, make_unit, two_estates
from tests.repairs_factories import make_order

API = "/api/v1"


def shanghai_today():
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


async def unit_with_item(session, **rules):
    estate, other = await two_estates(session)
    unit = await make_unit(session, building=await make_building(session, estate=estate))
    item = await make_fee_item(session, estate=estate, code="mgmt", **rules)
    return estate, other, unit, item


class TestChargePermissions:
    async def test_anonymous_403_other_estate(self, client, session):
        estate, other, unit, item = await unit_with_item(session)
        deposit = await make_fee_item(session, estate=estate, code="deposit", kind=FeeKind.one_off, applies_to_all=False)
        body = {"fee_item_id": str(deposit.id), "amount": "500", "description": "装修押金"}
        assert (await client.get(f"{API}/units/{unit.id}/charges")).status_code == 401
        assert (await client.get(f"{API}/estates/{estate.id}/charges")).status_code == 401
        assert (await client.post(f"{API}/units/{unit.id}/charges", json=body)).status_code == 401
        tech = await make_staff(session, estates=[estate], roles=[Role.technician])
        assert (await client.get(f"{API}/units/{unit.id}/charges", headers=tech.headers)).status_code == 403
        desk = await make_staff(session, estates=[estate], roles=[Role.receptionist])
        assert (await client.post(f"{API}/units/{unit.id}/charges", json=body, headers=desk.headers)).status_code == 403
        outsider = await make_staff(session, estates=[other], roles=[Role.finance])
        assert (await client.get(f"{API}/units/{unit.id}/charges", headers=outsider.headers)).status_code == 404
        assert (await client.get(f"{API}/estates/{estate.id}/charges", headers=outsider.headers)).status_code == 404
        assert (await client.post(f"{API}/units/{unit.id}/charges", json=body, headers=outsider.headers)).status_code == 404
        assert await count_rows(session, Charge) == 0


class TestListCharges:
    async def test_outstanding_and_late_fee_accruing_as_of_today(self, client, session):
        estate, _, unit, item = await unit_with_item(session)
        await make_late_fee_rule(session, items=[item], daily_rate="0.0005", grace_days=10, cap_share="0.1")
        today = shanghai_today()
        # Due 40 days ago, 10 days' grace: 30 days late. 160.56 × 0.0005 × 30 = 2.4084 -> 2.41
        late = await make_charge(session, unit=unit, item=item, amount="160.56", period="2026-01", due_date=today - timedelta(days=40))
        # Half paid, 30 days late: 60.56 × 0.0005 × 30 = 0.9084 -> 0.91
        part = await make_charge(session, unit=unit, item=item, amount="160.56", paid="100.00", period="2026-02",
                                 due_date=today - timedelta(days=40))
        # Two years late: 160.56 × 0.0005 × 720 = 57.80, capped at 10% of 160.56 = 16.06
        capped = await make_charge(session, unit=unit, item=item, amount="160.56", period="2024-01", due_date=today - timedelta(days=730))
        within_grace = await make_charge(
            session, unit=unit, item=item, amount="160.56", period="2026-03", due_date=today - timedelta(days=5)
        )
        paid = await make_charge(
            session, unit=unit, item=item, amount="160.56", paid="160.56", period="2025-01", due_date=today - timedelta(days=400)
        )
        desk = await make_staff(session, estates=[estate], roles=[Role.receptionist])
        r = await client.get(f"{API}/units/{unit.id}/charges", headers=desk.headers)
        assert r.status_code == 200, r.text
        got = {c["id"]: (c["outstanding"], c["late_fee_accruing"], c["late_fee_days"]) for c in r.json()["items"]}
        assert {c["late_fee"] for c in r.json()["items"]} == {"0.00"}  # nothing posted yet
        assert {k: (o, a, 0) for k, (o, a, _) in got.items()} == {
            str(late.id): ("160.56", "2.41", 0),
            str(part.id): ("60.56", "0.91", 0),
            str(capped.id): ("160.56", "16.06", 0),
            str(within_grace.id): ("160.56", "0.00", 0),
            str(paid.id): ("0.00", "0.00", 0),
        }
        assert r.json()["items"][0]["id"] == str(capped.id)  # oldest due first
        # Accruing is exactly what posting today posts; once posted it is the charge's late fee.
        r = await client.post(f"{API}/units/{unit.id}/late-fees", headers=desk.headers)
        assert r.status_code == 200, r.text
        assert {p["late_fee_of"]: p["amount"] for p in r.json()["posted"]} == {
            str(late.id): "2.41", str(part.id): "0.91", str(capped.id): "16.06"}
        r = await client.get(f"{API}/units/{unit.id}/charges", params={"limit": 100}, headers=desk.headers)
        after = {c["id"]: (c["late_fee"], c["late_fee_days"], c["late_fee_accruing"]) for c in r.json()["items"]}
        assert after[str(late.id)] == ("2.41", 30, "0.00") and after[str(capped.id)] == ("16.06", 720, "0.00")

    async def test_filters(self, client, session):
        estate, _, unit, item = await unit_with_item(session)
        open_c = await make_charge(session, unit=unit, item=item, amount="10.00", period="2026-10")
        paid_c = await make_charge(session, unit=unit, item=item, amount="10.00", paid="10.00", period="2026-09")
        desk = await make_staff(session, estates=[estate])

        async def ids(url: str, **params) -> list[str]:
            r = await client.get(url, params=params, headers=desk.headers)
            assert r.status_code == 200, r.text
            return [c["id"] for c in r.json()["items"]]

        url = f"{API}/units/{unit.id}/charges"
        assert await ids(url, status="open") == [str(open_c.id)]
        assert await ids(url, status="paid") == [str(paid_c.id)]
        assert await ids(url, period="2026-09") == [str(paid_c.id)]
        assert set(await ids(f"{API}/estates/{estate.id}/charges", fee_item_id=str(item.id))) == {str(open_c.id), str(paid_c.id)}
        for params in ({"status": "late"}, {"period": "2026-13"}, {"period": "x" * 100}, {"sort": "owner"}):
            assert_422(await client.get(url, params=params, headers=desk.headers), next(iter(params)))


class TestManualCharge:
    async def test_deposit(self, client, session):
        estate, _, unit, _ = await unit_with_item(session)
        deposit = await make_fee_item(session, estate=estate, code="deposit", name="装修押金", kind=FeeKind.one_off, applies_to_all=False)
        finance = await make_staff(session, estates=[estate], roles=[Role.finance])
        body = {"fee_item_id": str(deposit.id), "amount": "2000.00", "description": "装修押金 8-1-301"}
        r = await client.post(f"{API}/units/{unit.id}/charges", json=body, headers=finance.headers)
        assert r.status_code == 201, r.text
        c = r.json()
        assert (c["amount"], c["outstanding"], c["source"], c["period"], c["due_date"]) == (
            "2000.00",
            "2000.00",
            "manual",
            None,
            shanghai_today().isoformat(),
        )
        assert await count_rows(session, AuditEntry, AuditEntry.entity == "charge") == 1

    async def test_money_edge_cases_422_nothing_written(self, client, session):
        estate, other, unit, mgmt = await unit_with_item(session)
        deposit = await make_fee_item(session, estate=estate, code="deposit", kind=FeeKind.one_off, applies_to_all=False)
        their_deposit = await make_fee_item(session, estate=other, code="deposit", kind=FeeKind.one_off, applies_to_all=False)
        finance = await make_staff(session, estates=[estate], roles=[Role.finance])

        def body(**kw) -> dict:
            return {"fee_item_id": str(deposit.id), "amount": "500", "description": "押金", **kw}

        bad = [
            body(amount="1.005"),
            body(amount=1.005),
            body(amount="12.345"),
            body(amount=12.345),
            body(amount="-1"),
            body(amount=-1),
            body(amount="NaN"),
            body(amount="Infinity"),
            body(amount="0"),
            body(amount=0),
            body(amount="1e20"),
            body(description=""),
            body(description="\x00"),
            body(description="x" * 201),
            body(fee_item_id="nope"),
            body(extra=1),
            body(fee_item_id=str(mgmt.id)),
            body(fee_item_id=str(their_deposit.id)),
        ]
        for b in bad:
            r = await client.post(f"{API}/units/{unit.id}/charges", json=b, headers=finance.headers)
            assert r.status_code == 422, (b, r.text)
        deposit.active = False
        session.add(deposit)
        await session.commit()
        r = await client.post(f"{API}/units/{unit.id}/charges", json=body(), headers=finance.headers)
        assert r.status_code == 422 and r.json()["type"] == "/problems/fee-item-inactive"
        assert await count_rows(session, Charge) == 0


class TestVoucherCharge:
    async def _voucher(self, session, *, chargeable=True, amount="120.00", unit=True):
        estate, _ = await two_estates(session)
        u = await make_unit(session, building=await make_building(session, estate=estate)) if unit else None
        tech = (await make_staff(session, estates=[estate], roles=[Role.technician])).user
        order = await make_order(session, estate=estate, unit=u, technician=tech, status=WorkOrderStatus.completed)
        voucher = Voucher(
            estate_id=estate.id,
            work_order_id=order.id,
            technician_id=tech.id,
            work_done="更換水龍頭閥芯",
            chargeable=chargeable,
            amount=Decimal(amount),
            posted_at=utcnow(),
        )
        session.add(voucher)
        await session.commit()
        return estate, u, voucher

    async def test_chargeable_voucher_becomes_a_charge_once(self, session):
        estate, unit, voucher = await self._voucher(session)
        first = await charges.charge_for_voucher(session, actor=system_actor("test"), voucher=voucher)
        await session.commit()
        again = await charges.charge_for_voucher(session, actor=system_actor("test"), voucher=voucher)
        await session.commit()
        assert first is not None and again is not None and again.id == first.id
        row = (await session.execute(select(Charge))).scalar_one()
        assert (row.unit_id, row.amount, row.source, row.source_id, row.period) == (unit.id, Decimal("120.00"), "voucher", voucher.id, None)
        item = await session.get(FeeItem, row.fee_item_id)
        assert (item.code, item.kind) == ("repair", "one_off")
        assert await count_rows(session, FeeItem) == 1

    async def test_free_or_public_voucher_charges_nothing(self, session):
        _, _, free = await self._voucher(session, chargeable=False, amount="0")
        assert await charges.charge_for_voucher(session, actor=system_actor("test"), voucher=free) is None
        _, _, public = await self._voucher(session, unit=False)
        assert await charges.charge_for_voucher(session, actor=system_actor("test"), voucher=public) is None
        assert await count_rows(session, Charge) == 0
