"""Units (rooms): list with filters, create, get, patch."""
from __future__ import annotations

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.registry.model import Unit
from tests.factories import make_staff
from tests.registry_factories import count_rows, make_building, make_unit, two_estates

API = "/api/v1"


def new_unit(building, **kw) -> dict:
    return {"building_id": str(building.id), "entrance": "2", "number": "301", "floor": 3, "area": "89.20", **kw}


class TestUnitPermissions:
    async def test_anonymous_401(self, client, session):
        estate, _ = await two_estates(session)
        b = await make_building(session, estate=estate)
        u = await make_unit(session, building=b)
        assert (await client.get(f"{API}/estates/{estate.id}/units")).status_code == 401
        assert (await client.post(f"{API}/estates/{estate.id}/units", json=new_unit(b))).status_code == 401
        assert (await client.get(f"{API}/units/{u.id}")).status_code == 401
        assert (await client.patch(f"{API}/units/{u.id}", json={"note": "x"})).status_code == 401

    async def test_readers_403_on_write(self, client, session):
        estate, _ = await two_estates(session)
        b = await make_building(session, estate=estate)
        u = await make_unit(session, building=b)
        finance = await make_staff(session, estates=[estate], roles=[Role.finance])
        assert (await client.get(f"{API}/units/{u.id}", headers=finance.headers)).status_code == 200
        assert (await client.post(f"{API}/estates/{estate.id}/units", json=new_unit(b), headers=finance.headers)).status_code == 403
        assert (await client.patch(f"{API}/units/{u.id}", json={"note": "x"}, headers=finance.headers)).status_code == 403
        assert await count_rows(session, Unit) == 1
        assert (await client.get(f"{API}/units/{u.id}", headers=finance.headers)).json()["note"] == ""

    async def test_other_estate_404(self, client, session):
        mine, other = await two_estates(session)
        theirs_b = await make_building(session, estate=other)
        theirs = await make_unit(session, building=theirs_b)
        staff = await make_staff(session, estates=[mine])
        assert (await client.get(f"{API}/estates/{other.id}/units", headers=staff.headers)).status_code == 404
        r = await client.post(f"{API}/estates/{other.id}/units", json=new_unit(theirs_b), headers=staff.headers)
        assert r.status_code == 404
        assert (await client.get(f"{API}/units/{theirs.id}", headers=staff.headers)).status_code == 404
        assert (await client.patch(f"{API}/units/{theirs.id}", json={"note": "x"}, headers=staff.headers)).status_code == 404
        assert await count_rows(session, Unit) == 1


class TestUnits:
    async def test_create_get_patch(self, client, session):
        estate, _ = await two_estates(session)
        b = await make_building(session, estate=estate, number=8)
        staff = await make_staff(session, estates=[estate])
        r = await client.post(f"{API}/estates/{estate.id}/units", json=new_unit(b), headers=staff.headers)
        assert r.status_code == 201, r.text
        unit = r.json()
        assert (unit["label"], unit["building_name"], unit["area"]) == ("8号楼2单元301", "8号楼", "89.20")
        r = await client.patch(f"{API}/units/{unit['id']}", json={"area": "90.5", "is_vacant": True, "floor": None}, headers=staff.headers)
        assert r.status_code == 200, r.text
        got = (await client.get(f"{API}/units/{unit['id']}", headers=staff.headers)).json()
        assert (got["area"], got["is_vacant"], got["floor"]) == ("90.50", True, None)
        assert await count_rows(session, AuditEntry, AuditEntry.entity == "unit") == 2

    async def test_list_filters_sort_page(self, client, session):
        estate, _ = await two_estates(session)
        b8 = await make_building(session, estate=estate, number=8)
        b9 = await make_building(session, estate=estate, number=9)
        await make_unit(session, building=b8, entrance="2", number="1201")
        await make_unit(session, building=b8, entrance="2", number="301")
        await make_unit(session, building=b8, entrance="1", number="302", is_vacant=True)
        await make_unit(session, building=b9, entrance="", number="101", is_public=True, area="30")
        staff = await make_staff(session, estates=[estate], roles=[Role.technician])

        async def labels(**params) -> list[str]:
            r = await client.get(f"{API}/estates/{estate.id}/units", params=params, headers=staff.headers)
            assert r.status_code == 200, r.text
            return [u["label"] for u in r.json()["items"]]

        assert await labels() == ["8号楼1单元302", "8号楼2单元301", "8号楼2单元1201", "9号楼101"]
        assert await labels(building_id=str(b9.id)) == ["9号楼101"]
        assert await labels(is_vacant="true") == ["8号楼1单元302"]
        assert await labels(is_public="true") == ["9号楼101"]
        assert await labels(is_public="false", floor=3) == ["8号楼1单元302", "8号楼2单元301"]
        assert await labels(q="30") == ["8号楼1单元302", "8号楼2单元301"]
        assert await labels(sort="-area", limit=1) == ["8号楼1单元302"]
        assert await labels(sort="area", limit=1) == ["9号楼101"]
        assert await labels(limit=2, offset=2) == ["8号楼2单元1201", "9号楼101"]

    async def test_bad_input_422_nothing_written(self, client, session):
        estate, other = await two_estates(session)
        b = await make_building(session, estate=estate)
        foreign = await make_building(session, estate=other)
        staff = await make_staff(session, estates=[estate])
        bad = [
            new_unit(b, area="0"), new_unit(b, area="-5"), new_unit(b, area="NaN"), new_unit(b, area="12345678901"),
            new_unit(b, number=""), new_unit(b, number="x" * 21), new_unit(b, entrance="\x00"),
            new_unit(b, floor=10**10), new_unit(b, building_id="nope"), {"number": "301", "area": "80"},
        ]
        for body in bad:
            r = await client.post(f"{API}/estates/{estate.id}/units", json=body, headers=staff.headers)
            assert r.status_code == 422, (body, r.text)
        r = await client.post(f"{API}/estates/{estate.id}/units", json=new_unit(foreign), headers=staff.headers)
        assert r.status_code == 422 and r.json()["type"] == "/problems/building-not-in-estate"
        for params in ({"floor": "x"}, {"floor": 10**12}, {"is_vacant": "maybe"}, {"sort": "owner"}, {"limit": 10**6}):
            r = await client.get(f"{API}/estates/{estate.id}/units", params=params, headers=staff.headers)
            assert r.status_code == 422, params
        assert await count_rows(session, Unit) == 0

    async def test_patch_bad_input_422(self, client, session):
        estate, _ = await two_estates(session)
        u = await make_unit(session, building=await make_building(session, estate=estate), area="80")
        staff = await make_staff(session, estates=[estate])
        for body in ({"area": None}, {"number": None}, {"area": "0"}, {"is_vacant": "perhaps"}):
            r = await client.patch(f"{API}/units/{u.id}", json=body, headers=staff.headers)
            assert r.status_code == 422, body
            assert r.json()["type"] == "/problems/validation-failed"
        assert (await client.get(f"{API}/units/{u.id}", headers=staff.headers)).json()["area"] == "80.00"

    async def test_same_number_in_building_entrance_409(self, client, session):
        estate, _ = await two_estates(session)
        b = await make_building(session, estate=estate, number=8)
        await make_unit(session, building=b, entrance="2", number="301")
        other_room = await make_unit(session, building=b, entrance="2", number="302")
        staff = await make_staff(session, estates=[estate])
        r = await client.post(f"{API}/estates/{estate.id}/units", json=new_unit(b), headers=staff.headers)
        assert r.status_code == 409 and r.json()["type"] == "/problems/unit-number-taken"
        r = await client.patch(f"{API}/units/{other_room.id}", json={"number": "301"}, headers=staff.headers)
        assert r.status_code == 409
        # The same room number in another entrance is another unit.
        r = await client.post(f"{API}/estates/{estate.id}/units", json=new_unit(b, entrance="3"), headers=staff.headers)
        assert r.status_code == 201
        assert await count_rows(session, Unit) == 3
