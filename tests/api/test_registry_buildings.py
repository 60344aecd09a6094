"""Jurisdictions (轄區) and buildings (樓號)."""
from __future__ import annotations

import uuid

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.registry.model import Building, Jurisdiction
from tests.factories import make_staff
from tests.helpers.problems import assert_invalid
from tests.registry_factories import count_rows, make_building, make_jurisdiction, two_estates

API = "/api/v1"


class TestJurisdictions:
    async def test_anonymous_401(self, client, session):
        estate, _ = await two_estates(session)
        j = await make_jurisdiction(session, estate=estate)
        assert (await client.get(f"{API}/estates/{estate.id}/jurisdictions")).status_code == 401
        assert (await client.post(f"{API}/estates/{estate.id}/jurisdictions", json={"name": "東區"})).status_code == 401
        assert (await client.get(f"{API}/jurisdictions/{j.id}")).status_code == 401
        assert (await client.patch(f"{API}/jurisdictions/{j.id}", json={"name": "x"})).status_code == 401

    async def test_desk_may_read_but_not_set_up(self, client, session):
        estate, _ = await two_estates(session)
        j = await make_jurisdiction(session, estate=estate, name="東區")
        for role in (Role.receptionist, Role.technician, Role.manager):
            staff = await make_staff(session, estates=[estate], roles=[role])
            r = await client.get(f"{API}/estates/{estate.id}/jurisdictions", headers=staff.headers)
            assert r.status_code == 200 and r.json()["total"] == 1
            r = await client.post(f"{API}/estates/{estate.id}/jurisdictions", json={"name": "西區"}, headers=staff.headers)
            assert r.status_code == 403, (role, r.text)
            r = await client.patch(f"{API}/jurisdictions/{j.id}", json={"name": "西區"}, headers=staff.headers)
            assert r.status_code == 403
        assert await count_rows(session, Jurisdiction) == 1

    async def test_other_estate_404(self, client, session):
        mine, other = await two_estates(session)
        theirs = await make_jurisdiction(session, estate=other)
        sup = await make_staff(session, estates=[mine], roles=[Role.supervisor])
        assert (await client.get(f"{API}/estates/{other.id}/jurisdictions", headers=sup.headers)).status_code == 404
        r = await client.post(f"{API}/estates/{other.id}/jurisdictions", json={"name": "東區"}, headers=sup.headers)
        assert r.status_code == 404
        assert (await client.get(f"{API}/jurisdictions/{theirs.id}", headers=sup.headers)).status_code == 404
        r = await client.patch(f"{API}/jurisdictions/{theirs.id}", json={"name": "mine now"}, headers=sup.headers)
        assert r.status_code == 404
        assert await count_rows(session, Jurisdiction) == 1

    async def test_create_with_manager_and_assign_buildings(self, client, session):
        estate, _ = await two_estates(session)
        manager = await make_staff(session, estates=[estate], roles=[Role.manager], full_name="趙管理")
        sup = await make_staff(session, estates=[estate], roles=[Role.supervisor])
        r = await client.post(
            f"{API}/estates/{estate.id}/jurisdictions", json={"name": "東區", "manager_id": str(manager.id)}, headers=sup.headers
        )
        assert r.status_code == 201, r.text
        jid = r.json()["id"]
        b8 = await make_building(session, estate=estate, number=8)
        await make_building(session, estate=estate, number=9)
        r = await client.patch(f"{API}/buildings/{b8.id}", json={"jurisdiction_id": jid}, headers=sup.headers)
        assert r.status_code == 200
        r = await client.get(f"{API}/estates/{estate.id}/buildings", params={"jurisdiction_id": jid}, headers=sup.headers)
        assert [b["name"] for b in r.json()["items"]] == ["8号楼"]
        r = await client.get(f"{API}/estates/{estate.id}/jurisdictions", params={"manager_id": str(manager.id)}, headers=sup.headers)
        assert [j["id"] for j in r.json()["items"]] == [jid]
        r = await client.patch(f"{API}/jurisdictions/{jid}", json={"manager_id": None, "name": "東一區"}, headers=sup.headers)
        assert r.status_code == 200 and r.json()["manager_id"] is None and r.json()["name"] == "東一區"
        assert await count_rows(session, AuditEntry, AuditEntry.entity == "jurisdiction") == 2

    async def test_manager_must_be_a_manager_of_this_estate(self, client, session):
        estate, other = await two_estates(session)
        sup = await make_staff(session, estates=[estate], roles=[Role.supervisor])
        receptionist = await make_staff(session, estates=[estate], roles=[Role.receptionist])
        elsewhere = await make_staff(session, estates=[other], roles=[Role.manager])
        for manager_id in (receptionist.id, elsewhere.id, uuid.uuid4()):
            r = await client.post(
                f"{API}/estates/{estate.id}/jurisdictions", json={"name": "東區", "manager_id": str(manager_id)}, headers=sup.headers
            )
            assert r.status_code == 422
            assert r.json()["type"] == "/problems/not-a-manager-of-estate"
        assert await count_rows(session, Jurisdiction) == 0

    async def test_bad_input_and_duplicates(self, client, session):
        estate, _ = await two_estates(session)
        j = await make_jurisdiction(session, estate=estate, name="東區")
        await make_jurisdiction(session, estate=estate, name="西區")
        admin = await make_staff(session, estates=[estate], roles=[Role.admin])
        for body in ({}, {"name": ""}, {"name": "a\x00"}, {"name": "x" * 101}, {"name": "南區", "manager_id": "nope"}):
            r = await client.post(f"{API}/estates/{estate.id}/jurisdictions", json=body, headers=admin.headers)
            assert r.status_code == 422, body
        r = await client.post(f"{API}/estates/{estate.id}/jurisdictions", json={"name": "東區"}, headers=admin.headers)
        assert r.status_code == 409 and r.json()["type"] == "/problems/jurisdiction-name-taken"
        r = await client.patch(f"{API}/jurisdictions/{j.id}", json={"name": "西區"}, headers=admin.headers)
        assert r.status_code == 409
        assert_invalid(await client.patch(f"{API}/jurisdictions/{j.id}", json={"name": None}, headers=admin.headers),
                       "validation-failed", "name")
        assert (await client.get(f"{API}/jurisdictions/{j.id}", headers=admin.headers)).json()["name"] == "東區"
        assert await count_rows(session, Jurisdiction) == 2


class TestBuildings:
    async def test_anonymous_401(self, client, session):
        estate, _ = await two_estates(session)
        b = await make_building(session, estate=estate)
        assert (await client.get(f"{API}/estates/{estate.id}/buildings")).status_code == 401
        assert (await client.post(f"{API}/estates/{estate.id}/buildings", json={"name": "8号楼"})).status_code == 401
        assert (await client.get(f"{API}/buildings/{b.id}")).status_code == 401
        assert (await client.patch(f"{API}/buildings/{b.id}", json={"name": "x"})).status_code == 401

    async def test_readers_403_on_write(self, client, session):
        estate, _ = await two_estates(session)
        b = await make_building(session, estate=estate, number=8)
        tech = await make_staff(session, estates=[estate], roles=[Role.technician])
        assert (await client.get(f"{API}/buildings/{b.id}", headers=tech.headers)).status_code == 200
        r = await client.post(f"{API}/estates/{estate.id}/buildings", json={"name": "9号楼"}, headers=tech.headers)
        assert r.status_code == 403
        assert (await client.patch(f"{API}/buildings/{b.id}", json={"name": "x"}, headers=tech.headers)).status_code == 403
        assert await count_rows(session, Building) == 1

    async def test_other_estate_404(self, client, session):
        mine, other = await two_estates(session)
        theirs = await make_building(session, estate=other, number=8)
        staff = await make_staff(session, estates=[mine])
        assert (await client.get(f"{API}/estates/{other.id}/buildings", headers=staff.headers)).status_code == 404
        r = await client.post(f"{API}/estates/{other.id}/buildings", json={"name": "9号楼"}, headers=staff.headers)
        assert r.status_code == 404
        assert (await client.get(f"{API}/buildings/{theirs.id}", headers=staff.headers)).status_code == 404
        assert (await client.patch(f"{API}/buildings/{theirs.id}", json={"name": "x"}, headers=staff.headers)).status_code == 404
        assert await count_rows(session, Building) == 1

    async def test_create_list_get_patch(self, client, session):
        estate, _ = await two_estates(session)
        staff = await make_staff(session, estates=[estate])
        for name, number in (("10号楼", 10), ("2号楼", 2), ("會所", None)):
            r = await client.post(f"{API}/estates/{estate.id}/buildings", json={"name": name, "number": number}, headers=staff.headers)
            assert r.status_code == 201, r.text
        r = await client.get(f"{API}/estates/{estate.id}/buildings", headers=staff.headers)
        assert [b["name"] for b in r.json()["items"]] == ["2号楼", "10号楼", "會所"]
        r = await client.get(f"{API}/estates/{estate.id}/buildings", params={"sort": "-name", "limit": 1}, headers=staff.headers)
        assert r.json()["total"] == 3 and len(r.json()["items"]) == 1
        r = await client.get(f"{API}/estates/{estate.id}/buildings", params={"q": "号楼"}, headers=staff.headers)
        assert r.json()["total"] == 2
        bid = r.json()["items"][0]["id"]
        r = await client.patch(f"{API}/buildings/{bid}", json={"name": "二号楼"}, headers=staff.headers)
        assert r.status_code == 200 and r.json()["number"] == 2
        assert (await client.get(f"{API}/buildings/{bid}", headers=staff.headers)).json()["name"] == "二号楼"
        assert await count_rows(session, AuditEntry, AuditEntry.entity == "building") == 4

    async def test_a_building_without_a_number_sorts_last_either_way(self, client, session):
        # Descending used to put it first: PostgreSQL's NULLs are "largest" unless told.
        estate, _ = await two_estates(session)
        staff = await make_staff(session, estates=[estate])
        await make_building(session, estate=estate, name="10号楼", number=10)
        session.add(Building(estate_id=estate.id, name="會所", number=None))
        await make_building(session, estate=estate, name="2号楼", number=2)
        url = f"{API}/estates/{estate.id}/buildings"
        for sort, expected in (("number", ["2号楼", "10号楼", "會所"]), ("-number", ["10号楼", "2号楼", "會所"])):
            r = await client.get(url, params={"sort": sort}, headers=staff.headers)
            assert [b["name"] for b in r.json()["items"]] == expected, sort

    async def test_bad_input_422_nothing_written(self, client, session):
        estate, other = await two_estates(session)
        foreign = await make_jurisdiction(session, estate=other)
        staff = await make_staff(session, estates=[estate])
        bad = [
            {},
            {"name": ""},
            {"name": "x" * 41},
            {"name": "8\x00"},
            {"name": "8号楼", "number": -1},
            {"name": "8号楼", "number": 2**31},
            {"name": "8号楼", "jurisdiction_id": "x"},
        ]
        for body in bad:
            r = await client.post(f"{API}/estates/{estate.id}/buildings", json=body, headers=staff.headers)
            assert r.status_code == 422, body
        r = await client.post(
            f"{API}/estates/{estate.id}/buildings", json={"name": "8号楼", "jurisdiction_id": str(foreign.id)}, headers=staff.headers
        )
        assert r.status_code == 422 and r.json()["type"] == "/problems/jurisdiction-not-in-estate"
        r = await client.get(f"{API}/estates/{estate.id}/buildings", params={"sort": "nope"}, headers=staff.headers)
        assert r.status_code == 422
        assert await count_rows(session, Building) == 0

    async def test_same_name_in_estate_409_but_fine_in_another(self, client, session):
        estate, other = await two_estates(session)
        await make_building(session, estate=estate, number=8)
        b9 = await make_building(session, estate=estate, number=9)
        await make_building(session, estate=other, number=10)
        staff = await make_staff(session, estates=[estate])
        r = await client.post(f"{API}/estates/{estate.id}/buildings", json={"name": "8号楼"}, headers=staff.headers)
        assert r.status_code == 409 and r.json()["type"] == "/problems/building-name-taken"
        r = await client.patch(f"{API}/buildings/{b9.id}", json={"name": "8号楼"}, headers=staff.headers)
        assert r.status_code == 409
        r = await client.post(f"{API}/estates/{estate.id}/buildings", json={"name": "10号楼"}, headers=staff.headers)
        assert r.status_code == 201
        assert await count_rows(session, Building, Building.estate_id == estate.id) == 3
