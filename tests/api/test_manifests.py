"""Month end (§7.3.10): voucher manifests per jurisdiction and for public areas; receipt acknowledged once."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.repairs.model import WorkOrder, WorkOrderStatus
from app.domain.repairs.paperwork.model import ManifestLine, VoucherManifest
from tests.factories import make_staff
from tests.registry_factories import count_rows, make_building, make_jurisdiction, make_unit, two_estates
from tests.repairs_factories import make_order

API = "/api/v1"
S = WorkOrderStatus
MONTH = "2026-02"  # Asia/Shanghai: 1 Feb 00:00 local = 31 Jan 16:00Z; 1 Mar 00:00 local = 28 Feb 16:00Z


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def month_of_vouchers(session, estate):
    m1 = await make_staff(session, estates=[estate], roles=[Role.manager], full_name="東區管理員")
    m2 = await make_staff(session, estates=[estate], roles=[Role.manager], full_name="西區管理員")
    east = await make_jurisdiction(session, estate=estate, name="東區", manager=m1.user)
    west = await make_jurisdiction(session, estate=estate, name="西區", manager=m2.user)
    u1 = await make_unit(session, building=await make_building(session, estate=estate, number=1, jurisdiction=east))
    b2 = await make_building(session, estate=estate, number=2, jurisdiction=west)
    u2 = await make_unit(session, building=b2)
    u3 = await make_unit(session, building=await make_building(session, estate=estate, number=3))
    lobby = await make_unit(session, building=b2, number="大堂", is_public=True)
    tech = (await make_staff(session, estates=[estate], roles=[Role.technician])).user

    async def voucher(unit, at, status=S.completed):
        return await make_order(session, estate=estate, unit=unit, technician=tech, status=status, completed_at=at, with_voucher=True)

    o = {
        "east_approved": await voucher(u1, utc(2026, 2, 10), S.approved),
        "east_first_minute": await voucher(u1, utc(2026, 1, 31, 16, 30)),
        "east_january_straggler": await voucher(u1, utc(2026, 1, 15)),
        "west_last_evening": await voucher(u2, utc(2026, 2, 28, 15, 30)),
        "west_march": await voucher(u2, utc(2026, 2, 28, 16, 30)),  # 00:30 on 1 March, local
        "nowhere": await voucher(u3, utc(2026, 2, 20)),
        "public": await voucher(lobby, utc(2026, 2, 15), S.approved),
        "december": await voucher(u1, utc(2025, 12, 20)),
    }
    await make_order(session, estate=estate, unit=u1, technician=tech, status=S.completed, completed_at=utc(2026, 2, 11))  # no voucher
    return o, m1, m2, east, west


async def build(client, estate, who, month=MONTH):
    return await client.post(f"{API}/estates/{estate.id}/voucher-manifests", json={"month": month}, headers=who.headers)


class TestManifestPermissions:
    async def test_anonymous_401_desk_403_other_estate_404(self, client, session):
        mine, other = await two_estates(session)
        await month_of_vouchers(session, other)
        theirs = (await build(client, other, await make_staff(session, estates=[other], roles=[Role.supervisor]))).json()
        m = theirs[0]["id"]
        desk = await make_staff(session, estates=[mine])
        boss = await make_staff(session, estates=[mine], roles=[Role.supervisor])
        clerk = await make_staff(session, estates=[mine], roles=[Role.records_clerk])
        assert (await client.post(f"{API}/estates/{mine.id}/voucher-manifests", json={"month": MONTH})).status_code == 401
        assert (await client.get(f"{API}/voucher-manifests/{m}")).status_code == 401
        assert (await client.post(f"{API}/voucher-manifests/{m}/acknowledge")).status_code == 401
        assert (await build(client, mine, desk)).status_code == 403
        assert (await build(client, mine, clerk)).status_code == 403
        assert (await client.post(f"{API}/voucher-manifests/{m}/acknowledge", headers=desk.headers)).status_code == 403
        assert (await build(client, other, boss)).status_code == 404
        assert (await client.get(f"{API}/estates/{other.id}/voucher-manifests", headers=clerk.headers)).status_code == 404
        assert (await client.get(f"{API}/voucher-manifests/{m}", headers=clerk.headers)).status_code == 404
        assert (await client.post(f"{API}/voucher-manifests/{m}/acknowledge", headers=boss.headers)).status_code == 404
        assert (await client.get(f"{API}/estates/{mine.id}/voucher-manifests", headers=desk.headers)).json()["total"] == 0
        tech = await make_staff(session, estates=[mine], roles=[Role.technician])
        assert (await client.get(f"{API}/estates/{mine.id}/voucher-manifests", headers=tech.headers)).status_code == 403

    async def test_bad_month_422_nothing_written(self, client, session):
        estate, _ = await two_estates(session)
        await month_of_vouchers(session, estate)
        boss = await make_staff(session, estates=[estate], roles=[Role.supervisor])
        for month in ("2026-13", "2026-00", "2026-2", "26-02", "2026-W05", "1999-02", "", None, "\x00"):
            assert (await build(client, estate, boss, month)).status_code == 422, month
        r = await build(client, estate, boss, "2099-01")
        assert r.status_code == 422 and r.json()["type"] == "/problems/month-not-started"
        r = await client.get(f"{API}/estates/{estate.id}/voucher-manifests", params={"month": "2026-13"}, headers=boss.headers)
        assert r.status_code == 422
        assert await count_rows(session, VoucherManifest) == 0 and await count_rows(session, ManifestLine) == 0


class TestManifests:
    async def test_build_per_jurisdiction_and_public_area(self, client, session):
        estate, _ = await two_estates(session)
        o, m1, m2, east, west = await month_of_vouchers(session, estate)
        boss = await make_staff(session, estates=[estate], roles=[Role.supervisor])
        r = await build(client, estate, boss)
        assert r.status_code == 201, r.text
        by_key = {(m["kind"], m["jurisdiction_name"]): m for m in r.json()}
        assert set(by_key) == {("jurisdiction", "東區"), ("jurisdiction", "西區"), ("jurisdiction", None), ("public_area", None)}
        assert by_key[("jurisdiction", "東區")]["recipient_id"] == str(m1.id)
        assert by_key[("public_area", None)]["recipient_id"] is None
        reader = await make_staff(session, estates=[estate], roles=[Role.finance])

        async def orders_of(manifest) -> set:
            body = (await client.get(f"{API}/voucher-manifests/{manifest['id']}", headers=reader.headers)).json()
            assert body["vouchers"] == len(body["items"])
            return {i["work_order_id"] for i in body["items"]}

        ids = {k: str(v.id) for k, v in o.items()}
        assert await orders_of(by_key[("jurisdiction", "東區")]) == {
            ids["east_approved"],
            ids["east_first_minute"],
            ids["east_january_straggler"],
        }
        assert await orders_of(by_key[("jurisdiction", "西區")]) == {ids["west_last_evening"]}
        assert await orders_of(by_key[("jurisdiction", None)]) == {ids["nowhere"]}
        assert await orders_of(by_key[("public_area", None)]) == {ids["public"]}
        again = await build(client, estate, boss)
        assert again.status_code == 409 and again.json()["type"] == "/problems/manifests-already-built"
        # March takes the voucher of 00:30 on 1 March local (28 February UTC), and no voucher twice.
        march = await build(client, estate, boss, "2026-03")
        assert {m["vouchers"] for m in march.json() if m["jurisdiction_name"] == "西區"} == {1}
        assert await count_rows(session, ManifestLine) == 7
        page = (await client.get(f"{API}/estates/{estate.id}/voucher-manifests", params={"month": MONTH}, headers=reader.headers)).json()
        assert page["total"] == 4

    async def test_acknowledge_by_the_right_recipient(self, client, session):
        estate, _ = await two_estates(session)
        o, m1, m2, east, west = await month_of_vouchers(session, estate)
        boss = await make_staff(session, estates=[estate], roles=[Role.supervisor])
        clerk = await make_staff(session, estates=[estate], roles=[Role.records_clerk])
        by_key = {(m["kind"], m["jurisdiction_name"]): m["id"] for m in (await build(client, estate, boss)).json()}
        url = f"{API}/voucher-manifests/{{}}/acknowledge"
        east_m, west_m, public_m = by_key[("jurisdiction", "東區")], by_key[("jurisdiction", "西區")], by_key[("public_area", None)]
        for who, manifest in ((m2, east_m), (clerk, east_m), (m1, public_m), (m1, by_key[("jurisdiction", None)])):
            r = await client.post(url.format(manifest), headers=who.headers)
            assert r.status_code == 403 and r.json()["type"] == "/problems/not-the-recipient", (who, manifest)
        r = await client.post(url.format(east_m), headers=m1.headers)
        assert r.status_code == 200, r.text
        assert (r.json()["acknowledged_by"], r.json()["acknowledged_at"] is not None) == (str(m1.id), True)
        statuses = {i["work_order_id"]: i["order_status"] for i in r.json()["items"]}
        assert statuses[str(o["east_approved"].id)] == "archived"
        assert statuses[str(o["east_first_minute"].id)] == "completed"  # not approved yet: stays as it is
        twice = await client.post(url.format(east_m), headers=m1.headers)
        assert twice.status_code == 409 and twice.json()["type"] == "/problems/manifest-already-acknowledged"
        assert (await client.post(url.format(public_m), headers=clerk.headers)).status_code == 200
        assert (await client.post(url.format(west_m), headers=boss.headers)).status_code == 200  # on the manager's behalf
        orders = {x.id: x for x in (await session.execute(select(WorkOrder).execution_options(populate_existing=True))).scalars()}
        assert orders[o["public"].id].status == "archived" and orders[o["public"].id].archived_at is not None
        assert orders[o["nowhere"].id].status == "completed"


class TestManifestTrail:
    async def test_acknowledgement_is_one_entry_under_its_old_name(self, client, session):
        estate, _ = await two_estates(session)
        _, m1, _, _, _ = await month_of_vouchers(session, estate)
        boss = await make_staff(session, estates=[estate], roles=[Role.supervisor])
        by_key = {(m["kind"], m["jurisdiction_name"]): m["id"] for m in (await build(client, estate, boss)).json()}
        east = by_key[("jurisdiction", "東區")]
        assert (await client.post(f"{API}/voucher-manifests/{east}/acknowledge", headers=m1.headers)).status_code == 200
        twice = await client.post(f"{API}/voucher-manifests/{east}/acknowledge", headers=m1.headers)
        assert twice.status_code == 409 and twice.json()["type"] == "/problems/manifest-already-acknowledged"
        [entry] = (await session.execute(select(AuditEntry).where(AuditEntry.entity == "voucher_manifest",
                                                                  AuditEntry.action != "voucher_manifest.build"))).scalars().all()
        assert (entry.action, entry.entity_id, entry.estate_id) == ("voucher_manifest.acknowledge", east, estate.id)
        assert (entry.before["acknowledged_at"], entry.after["acknowledged_by"]) == (None, str(m1.id))
