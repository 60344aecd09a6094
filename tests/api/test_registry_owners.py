"""Owners: create with phones and units, get, search by name or unit, patch, unit links and phones."""
from __future__ import annotations

import uuid

from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.registry.model import Owner, OwnerPhone, Title, UnitOwner
from tests.factories import make_staff
from tests.helpers.problems import assert_invalid
from tests.registry_factories import count_rows, make_building, make_owner, make_unit, two_estates

API = "/api/v1"


class TestOwnerPermissions:
    async def test_anonymous_401(self, client, session):
        estate, _ = await two_estates(session)
        unit = await make_unit(session, building=await make_building(session, estate=estate))
        owner = await make_owner(session, estate=estate, phones=["13800138000"], units=[unit])
        calls = [
            ("GET", f"/owners/{owner.id}", None),
            ("GET", f"/estates/{estate.id}/owners", None), ("POST", f"/estates/{estate.id}/owners", {"full_name": "王"}),
            ("PATCH", f"/owners/{owner.id}", {"note": "x"}), ("POST", f"/owners/{owner.id}/units", {"unit_id": str(unit.id)}),
            ("DELETE", f"/owners/{owner.id}/units/{unit.id}", None), ("POST", f"/owners/{owner.id}/phones", {"phone": "13900139000"}),
            ("DELETE", f"/owners/{owner.id}/phones/{uuid.uuid4()}", None),
        ]
        for method, path, body in calls:
            r = await client.request(method, API + path, json=body)
            assert r.status_code == 401, (method, path)

    async def test_readers_403_on_write_nothing_written(self, client, session):
        estate, _ = await two_estates(session)
        unit = await make_unit(session, building=await make_building(session, estate=estate))
        other_unit = await make_unit(session, building=await make_building(session, estate=estate))
        owner = await make_owner(session, estate=estate, phones=["13800138000"], units=[unit])
        phone_id = (await session.execute(select(OwnerPhone.id))).scalar_one()
        agency = await make_staff(session, estates=[estate], roles=[Role.agency])
        h = agency.headers
        assert (await client.get(f"{API}/owners/{owner.id}", headers=h)).status_code == 200
        assert (await client.post(f"{API}/estates/{estate.id}/owners", json={"full_name": "李娜"}, headers=h)).status_code == 403
        assert (await client.patch(f"{API}/owners/{owner.id}", json={"note": "x"}, headers=h)).status_code == 403
        assert (await client.post(f"{API}/owners/{owner.id}/units", json={"unit_id": str(other_unit.id)}, headers=h)).status_code == 403
        assert (await client.delete(f"{API}/owners/{owner.id}/units/{unit.id}", headers=h)).status_code == 403
        assert (await client.post(f"{API}/owners/{owner.id}/phones", json={"phone": "13900139000"}, headers=h)).status_code == 403
        assert (await client.delete(f"{API}/owners/{owner.id}/phones/{phone_id}", headers=h)).status_code == 403
        assert (await count_rows(session, Owner), await count_rows(session, UnitOwner), await count_rows(session, OwnerPhone)) == (1, 1, 1)

    async def test_other_estate_404(self, client, session):
        mine, other = await two_estates(session)
        my_unit = await make_unit(session, building=await make_building(session, estate=mine))
        their_unit = await make_unit(session, building=await make_building(session, estate=other))
        theirs = await make_owner(session, estate=other, phones=["13800138000"], units=[their_unit])
        staff = await make_staff(session, estates=[mine])
        h = staff.headers
        assert (await client.get(f"{API}/estates/{other.id}/owners", headers=h)).status_code == 404
        assert (await client.post(f"{API}/estates/{other.id}/owners", json={"full_name": "李娜"}, headers=h)).status_code == 404
        assert (await client.get(f"{API}/owners/{theirs.id}", headers=h)).status_code == 404
        assert (await client.patch(f"{API}/owners/{theirs.id}", json={"note": "x"}, headers=h)).status_code == 404
        assert (await client.post(f"{API}/owners/{theirs.id}/units", json={"unit_id": str(my_unit.id)}, headers=h)).status_code == 404
        assert (await client.delete(f"{API}/owners/{theirs.id}/units/{their_unit.id}", headers=h)).status_code == 404
        assert (await client.post(f"{API}/owners/{theirs.id}/phones", json={"phone": "13900139000"}, headers=h)).status_code == 404
        phone_id = (await session.execute(select(OwnerPhone.id))).scalar_one()
        assert (await client.delete(f"{API}/owners/{theirs.id}/phones/{phone_id}", headers=h)).status_code == 404
        assert (await count_rows(session, UnitOwner), await count_rows(session, OwnerPhone)) == (1, 1)


class TestCreateOwner:
    async def test_with_phones_and_units(self, client, session):
        estate, _ = await two_estates(session)
        b8 = await make_building(session, estate=estate, number=8)
        u1 = await make_unit(session, building=b8, entrance="2", number="301")
        u2 = await make_unit(session, building=b8, entrance="3", number="502")
        staff = await make_staff(session, estates=[estate])
        body = {"full_name": "欧阳娜娜", "title": "女士", "phones": ["+86 133-5173-7459", "0392-6540615", "13351737459"],
                "units": [{"unit_id": str(u1.id)}, {"unit_id": str(u2.id), "is_primary": False}]}
        r = await client.post(f"{API}/estates/{estate.id}/owners", json=body, headers=staff.headers)
        assert r.status_code == 201, r.text
        owner = r.json()
        assert (owner["surname"], owner["title"], owner["addressed_as"]) == ("欧阳", "女士", "欧阳女士")
        assert [p["phone"] for p in owner["phones"]] == ["13351737459", "03926540615"]
        assert owner["phones"][0]["raw"] == "+86 133-5173-7459"
        assert [(u["label"], u["is_primary"]) for u in owner["units"]] == [("8号楼2单元301", True), ("8号楼3单元502", False)]
        got = (await client.get(f"{API}/owners/{owner['id']}", headers=staff.headers)).json()
        assert got == owner
        assert await count_rows(session, AuditEntry, AuditEntry.entity == "owner", AuditEntry.action == "create") == 1

    async def test_surname_given_and_no_title(self, client, session):
        estate, _ = await two_estates(session)
        staff = await make_staff(session, estates=[estate])
        r = await client.post(f"{API}/estates/{estate.id}/owners", json={"full_name": "單于明", "surname": "單于"}, headers=staff.headers)
        assert r.status_code == 201
        assert (r.json()["surname"], r.json()["title"], r.json()["addressed_as"]) == ("單于", None, "單于明")

    async def test_bad_input_422_nothing_written(self, client, session):
        estate, other = await two_estates(session)
        foreign_unit = await make_unit(session, building=await make_building(session, estate=other))
        staff = await make_staff(session, estates=[estate])
        bad = [
            {}, {"full_name": ""}, {"full_name": "王\x00"}, {"full_name": "王" * 101}, {"full_name": "王建國", "title": "博士"},
            {"full_name": "王建國", "surname": "王" * 21}, {"full_name": "王建國", "phones": ["1" * 61]},
            {"full_name": "王建國", "phones": ["13800138000", "12"]}, {"full_name": "王建國", "phones": ["call me"]},
            {"full_name": "王建國", "units": [{"unit_id": "x"}]}, {"full_name": "王建國", "units": [{"unit_id": str(foreign_unit.id)}]},
            {"full_name": "王建國", "units": [{"unit_id": str(uuid.uuid4())}]}, {"full_name": "王建國", "phones": ["13800138000"] * 11},
        ]
        for body in bad:
            r = await client.post(f"{API}/estates/{estate.id}/owners", json=body, headers=staff.headers)
            assert r.status_code == 422, (body, r.text)
        r = await client.post(f"{API}/estates/{estate.id}/owners", json={"full_name": "王建國", "phones": ["12"]}, headers=staff.headers)
        assert r.json()["type"] == "/problems/unreadable-phone" and r.json()["field"] == "phones.0"
        assert (await count_rows(session, Owner), await count_rows(session, OwnerPhone), await count_rows(session, UnitOwner)) == (0, 0, 0)


class TestSearchOwners:
    async def test_by_name_fragment_and_unit(self, client, session):
        estate, other = await two_estates(session)
        b8 = await make_building(session, estate=estate, number=8)
        b9 = await make_building(session, estate=estate, number=9)
        u301 = await make_unit(session, building=b8, entrance="2", number="301")
        u302 = await make_unit(session, building=b8, entrance="1", number="301")
        u901 = await make_unit(session, building=b9, entrance="2", number="301")
        await make_owner(session, estate=estate, full_name="王建國", units=[u301, u901])  # two units
        await make_owner(session, estate=estate, full_name="李秀英", units=[u301], is_primary=False)  # co-owner
        await make_owner(session, estate=estate, full_name="王芳", units=[u302])
        await make_owner(session, estate=other, full_name="王五")
        staff = await make_staff(session, estates=[estate], roles=[Role.records_clerk])

        async def names(**params) -> list[str]:
            r = await client.get(f"{API}/estates/{estate.id}/owners", params=params, headers=staff.headers)
            assert r.status_code == 200, r.text
            return [o["full_name"] for o in r.json()["items"]]

        assert sorted(await names(q="王")) == ["王建國", "王芳"]
        assert sorted(await names(unit="8-2-301")) == ["李秀英", "王建國"]
        assert sorted(await names(unit="8号楼2单元301")) == ["李秀英", "王建國"]
        assert sorted(await names(unit="8-301")) == ["李秀英", "王建國", "王芳"]
        assert await names(unit="9-2-301") == ["王建國"]
        assert await names(unit="8-2-301", q="王") == ["王建國"]
        assert sorted(await names(building_id=str(b9.id))) == ["王建國"]
        assert await names(unit="7-2-301") == []
        r = await client.get(f"{API}/estates/{estate.id}/owners", params={"q": "王建"}, headers=staff.headers)
        [owner] = r.json()["items"]
        assert [u["label"] for u in owner["units"]] == ["8号楼2单元301", "9号楼2单元301"]

    async def test_bad_query_422(self, client, session):
        estate, _ = await two_estates(session)
        staff = await make_staff(session, estates=[estate])
        for params in ({"unit": "somewhere"}, {"unit": "8\x00"}, {"q": "x" * 101}, {"sort": "phone"}, {"building_id": "b"}):
            r = await client.get(f"{API}/estates/{estate.id}/owners", params=params, headers=staff.headers)
            assert r.status_code == 422, params
        r = await client.get(f"{API}/estates/{estate.id}/owners", params={"unit": "somewhere"}, headers=staff.headers)
        assert r.json()["type"] == "/problems/unreadable-unit-ref"

    async def test_sort_and_page(self, client, session):
        estate, _ = await two_estates(session)
        for name in ("趙一", "錢二", "孫三"):
            await make_owner(session, estate=estate, full_name=name)
        staff = await make_staff(session, estates=[estate])
        r = await client.get(f"{API}/estates/{estate.id}/owners", params={"sort": "-created_at", "limit": 2}, headers=staff.headers)
        assert [o["full_name"] for o in r.json()["items"]] == ["孫三", "錢二"] and r.json()["total"] == 3


class TestChangeOwner:
    async def test_patch_rederives_surname(self, client, session):
        estate, _ = await two_estates(session)
        owner = await make_owner(session, estate=estate, full_name="王建國", title=Title.mr)
        staff = await make_staff(session, estates=[estate])
        r = await client.patch(f"{API}/owners/{owner.id}", json={"full_name": "司马建國"}, headers=staff.headers)
        assert r.status_code == 200
        assert (r.json()["surname"], r.json()["addressed_as"]) == ("司马", "司马先生")
        r = await client.patch(f"{API}/owners/{owner.id}", json={"title": None, "note": "老業主"}, headers=staff.headers)
        assert (r.json()["title"], r.json()["addressed_as"], r.json()["note"]) == (None, "司马建國", "老業主")
        assert await count_rows(session, AuditEntry, AuditEntry.entity == "owner") == 2

    async def test_patch_bad_input_422_nothing_written(self, client, session):
        estate, _ = await two_estates(session)
        owner = await make_owner(session, estate=estate, full_name="王建國")
        staff = await make_staff(session, estates=[estate])
        refusals = iter([("validation-failed", "full_name"), ("validation-failed", "full_name"), ("validation-failed", "title"),
                         ("validation-failed", "surname"), ("validation-failed", "note")])
        for body in ({"full_name": None}, {"full_name": ""}, {"title": "Mr"}, {"surname": None}, {"note": "x" * 201}):
            assert_invalid(await client.patch(f"{API}/owners/{owner.id}", json=body, headers=staff.headers), *next(refusals))
        got = (await client.get(f"{API}/owners/{owner.id}", headers=staff.headers)).json()
        assert (got["full_name"], got["surname"], got["note"]) == ("王建國", "王", "")

    async def test_link_and_unlink_units(self, client, session):
        estate, other = await two_estates(session)
        b = await make_building(session, estate=estate, number=8)
        u1, u2 = await make_unit(session, building=b, number="301"), await make_unit(session, building=b, number="302")
        foreign = await make_unit(session, building=await make_building(session, estate=other))
        owner = await make_owner(session, estate=estate, units=[u1])
        staff = await make_staff(session, estates=[estate])
        r = await client.post(f"{API}/owners/{owner.id}/units", json={"unit_id": str(u2.id), "is_primary": False}, headers=staff.headers)
        assert r.status_code == 201
        assert [u["label"] for u in r.json()["units"]] == ["8号楼1单元301", "8号楼1单元302"]
        r = await client.post(f"{API}/owners/{owner.id}/units", json={"unit_id": str(u2.id)}, headers=staff.headers)
        assert r.status_code == 409 and r.json()["type"] == "/problems/unit-already-linked"
        r = await client.post(f"{API}/owners/{owner.id}/units", json={"unit_id": str(foreign.id)}, headers=staff.headers)
        assert r.status_code == 422
        assert (await client.post(f"{API}/owners/{owner.id}/units", json={}, headers=staff.headers)).status_code == 422
        r = await client.delete(f"{API}/owners/{owner.id}/units/{u1.id}", headers=staff.headers)
        assert r.status_code == 200 and [u["label"] for u in r.json()["units"]] == ["8号楼1单元302"]
        assert (await client.delete(f"{API}/owners/{owner.id}/units/{u1.id}", headers=staff.headers)).status_code == 404
        assert (await client.delete(f"{API}/owners/{owner.id}/units/nope", headers=staff.headers)).status_code == 422
        assert await count_rows(session, UnitOwner) == 1
        actions = set((await session.execute(select(AuditEntry.action))).scalars())
        assert {"link_unit", "unlink_unit"} <= actions

    async def test_add_and_remove_phones(self, client, session):
        estate, _ = await two_estates(session)
        owner = await make_owner(session, estate=estate, phones=["13800138000"])
        staff = await make_staff(session, estates=[estate])
        r = await client.post(f"{API}/owners/{owner.id}/phones", json={"phone": "１３９ ００１３ ９０００"}, headers=staff.headers)
        assert r.status_code == 201, r.text
        assert [p["phone"] for p in r.json()["phones"]] == ["13800138000", "13900139000"]
        r = await client.post(f"{API}/owners/{owner.id}/phones", json={"phone": "+86 138-0013-8000"}, headers=staff.headers)
        assert r.status_code == 409 and r.json()["type"] == "/problems/phone-already-listed"
        for body in ({"phone": "123"}, {"phone": ""}, {"phone": "1\x00"}, {}):
            assert (await client.post(f"{API}/owners/{owner.id}/phones", json=body, headers=staff.headers)).status_code == 422
        assert await count_rows(session, OwnerPhone) == 2
        first = (await client.get(f"{API}/owners/{owner.id}", headers=staff.headers)).json()["phones"][0]
        r = await client.delete(f"{API}/owners/{owner.id}/phones/{first['id']}", headers=staff.headers)
        assert r.status_code == 200 and [p["phone"] for p in r.json()["phones"]] == ["13900139000"]
        assert (await client.delete(f"{API}/owners/{owner.id}/phones/{first['id']}", headers=staff.headers)).status_code == 404
        assert await count_rows(session, OwnerPhone) == 1
