"""Caller lookup: the phone rings, one call shows who it is, their units, open requests and arrears."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.domain.auth import secrets
from app.domain.auth.model import ApiKey
from app.domain.auth.roles import Role
from app.domain.registry.model import Title, Unit
from app.domain.repairs.model import WorkOrderStatus
from tests.factories import make_staff
from tests.helpers.problems import assert_422
from tests.registry_factories import make_building, make_owner, make_unit, two_estates
from tests.repairs_factories import make_order

API = "/api/v1"


@pytest.fixture
async def desk(session):
    """Estate with 8号楼: 王先生 owns 8-2-301 (with 李女士 as co-owner) and 9-1-502; another estate has the same phone."""
    estate, other = await two_estates(session)
    b8, b9 = await make_building(session, estate=estate, number=8), await make_building(session, estate=estate, number=9)
    u301 = await make_unit(session, building=b8, entrance="2", number="301")
    u502 = await make_unit(session, building=b9, entrance="1", number="502")
    wang = await make_owner(session, estate=estate, full_name="王建國", title=Title.mr, phones=["133 5173 7459"], units=[u301, u502])
    li = await make_owner(
        session, estate=estate, full_name="李秀英", title=Title.ms, phones=["0392-6540615"], units=[u301], is_primary=False
    )
    stranger = await make_owner(
        session,
        estate=other,
        full_name="趙六",
        phones=["13351737459"],
        units=[await make_unit(session, building=await make_building(session, estate=other, number=8))],
    )
    staff = await make_staff(session, estates=[estate])
    return {"estate": estate, "other": other, "wang": wang, "li": li, "stranger": stranger, "staff": staff}


class TestCallerLookup:
    async def test_anonymous_401(self, client, desk):
        assert (await client.get(f"{API}/estates/{desk['estate'].id}/callers", params={"phone": "13351737459"})).status_code == 401
        assert (await client.get(f"{API}/callers", params={"phone": "13351737459"})).status_code == 401

    async def test_every_role_and_a_read_key_may_look_up(self, client, session, desk):
        estate = desk["estate"]
        for role in Role:
            staff = await make_staff(session, estates=[estate], roles=[role])
            r = await client.get(f"{API}/estates/{estate.id}/callers", params={"phone": "13351737459"}, headers=staff.headers)
            assert r.status_code == 200, role
        key = secrets.new_token(secrets.API_KEY_PREFIX)
        session.add(
            ApiKey(
                company_id=estate.company_id,
                name="reports-only",
                prefix=key[:12],
                key_hash=secrets.token_hash(key),
                estate_ids=[estate.id],
                scopes=["reports:read"],
            )
        )
        await session.commit()
        r = await client.get(f"{API}/callers", params={"phone": "13351737459"}, headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 403

    @pytest.mark.parametrize("typed", ["13351737459", "133 5173 7459", "+86 133-5173-7459", "１３３５１７３７４５９", "0086-133-5173-7459"])
    async def test_phone_typed_in_different_ways(self, client, desk, typed):
        r = await client.get(f"{API}/estates/{desk['estate'].id}/callers", params={"phone": typed}, headers=desk["staff"].headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["phone"] == "13351737459"
        [owner] = body["owners"]
        assert (owner["full_name"], owner["addressed_as"]) == ("王建國", "王先生")
        assert [(u["label"], u["building_name"], u["entrance"], u["number"]) for u in owner["units"]] == [
            ("8号楼2单元301", "8号楼", "2", "301"),
            ("9号楼1单元502", "9号楼", "1", "502"),
        ]
        assert owner["open_requests"] == []
        assert owner["arrears"] == {"total": "0.00", "oldest_due_date": None, "units": []}

    async def test_co_owner_found_by_landline_with_or_without_area_code(self, client, desk):
        for typed in ("0392-6540615", "(0392) 654 0615", "6540615"):
            r = await client.get(f"{API}/estates/{desk['estate'].id}/callers", params={"phone": typed}, headers=desk["staff"].headers)
            assert r.status_code == 200
            [owner] = r.json()["owners"]
            assert owner["addressed_as"] == "李女士"
            assert [(u["label"], u["is_primary"]) for u in owner["units"]] == [("8号楼2单元301", False)]

    async def test_unknown_number_is_an_empty_answer(self, client, desk):
        r = await client.get(f"{API}/estates/{desk['estate'].id}/callers", params={"phone": "139 0000 0000"}, headers=desk["staff"].headers)
        assert r.status_code == 200 and r.json() == {"phone": "13900000000", "owners": []}

    async def test_never_shows_another_estates_owner(self, client, desk):
        r = await client.get(f"{API}/callers", params={"phone": "13351737459"}, headers=desk["staff"].headers)
        assert [o["full_name"] for o in r.json()["owners"]] == ["王建國"]
        assert "趙六" not in r.text
        r = await client.get(f"{API}/estates/{desk['other'].id}/callers", params={"phone": "13351737459"}, headers=desk["staff"].headers)
        assert r.status_code == 404 and "趙六" not in r.text

    async def test_across_all_the_callers_estates(self, client, session, desk):
        both = await make_staff(session, estates=[desk["estate"], desk["other"]])
        r = await client.get(f"{API}/callers", params={"phone": "+86 13351737459"}, headers=both.headers)
        assert sorted((o["full_name"], o["estate_id"]) for o in r.json()["owners"]) == sorted(
            [("王建國", str(desk["estate"].id)), ("趙六", str(desk["other"].id))]
        )

    @pytest.mark.parametrize("typed", ["12", "abc", "133517374591234", "+1 415 555 0100 22"])
    async def test_unreadable_phone_422(self, client, desk, typed):
        r = await client.get(f"{API}/estates/{desk['estate'].id}/callers", params={"phone": typed}, headers=desk["staff"].headers)
        assert r.status_code == 422
        assert r.json()["type"] == "/problems/unreadable-phone" and r.json()["field"] == "phone"

    @pytest.mark.parametrize("params", [{}, {"phone": ""}, {"phone": "1\x00"}, {"phone": "1" * 61}])
    async def test_malformed_query_422(self, client, desk, params):
        for url in (f"{API}/estates/{desk['estate'].id}/callers", f"{API}/callers"):
            r = await client.get(url, params=params, headers=desk["staff"].headers)
            assert r.status_code == 422, (url, params)
            assert_422(r, "phone")
            assert r.headers["content-type"].startswith("application/problem+json")


class TestCallerOpenRequests:
    async def test_open_requests_and_orders_of_the_callers_units(self, client, session, desk):
        estate, staff = desk["estate"], desk["staff"]
        units = (await session.execute(select(Unit).where(Unit.estate_id == estate.id))).scalars().all()
        u301, u502 = (next(u for u in units if u.number == n) for n in ("301", "502"))
        tech = await make_staff(session, estates=[estate], roles=[Role.technician])
        waiting = await make_order(session, estate=estate, unit=u301, description="水龍頭漏水")
        await make_order(session, estate=estate, unit=u502, technician=tech.user, status=WorkOrderStatus.completed, description="已修好")
        r = await client.post(
            f"{API}/estates/{estate.id}/service-requests",
            headers=staff.headers,
            json={"channel": "phone", "kind": "enquiry", "description": "物業費怎麼算", "contact_phone": "13351737459", "location": "前臺"},
        )
        assert r.status_code == 201, r.text
        enquiry = r.json()["id"]

        body = (await client.get(f"{API}/estates/{estate.id}/callers", params={"phone": "133 5173 7459"}, headers=staff.headers)).json()
        [wang] = body["owners"]
        assert [(x["id"], x["status"], x["work_order_status"]) for x in wang["open_requests"]] == [
            (enquiry, "open", None),
            (str(waiting.request_id), "ordered", "pending_dispatch"),
        ]
        # The co-owner of 8-2-301 sees the repair of that unit, not 王先生's own enquiry.
        body = (await client.get(f"{API}/estates/{estate.id}/callers", params={"phone": "0392-6540615"}, headers=staff.headers)).json()
        assert [x["description"] for x in body["owners"][0]["open_requests"]] == ["水龍頭漏水"]
        # Closed at the desk: no longer open.
        await client.post(f"{API}/service-requests/{enquiry}/close", json={"note": "已解釋"}, headers=staff.headers)
        body = (await client.get(f"{API}/estates/{estate.id}/callers", params={"phone": "133 5173 7459"}, headers=staff.headers)).json()
        assert [x["description"] for x in body["owners"][0]["open_requests"]] == ["水龍頭漏水"]
