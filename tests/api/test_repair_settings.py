"""Repair categories per estate: the five defaults, upsert by code, what a deactivated one means."""
from __future__ import annotations

import pytest

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.repairs.intake.model import RepairCategory
from app.domain.repairs.model import ServiceRequest
from tests.factories import make_staff
from tests.registry_factories import count_rows, two_estates

API = "/api/v1"
# Named in the estate's characters: simplified by default.
DEFAULTS = [("plumbing", "水暖"), ("electrical", "电气"), ("doors_windows", "门窗"), ("public_area", "公共区域"), ("other", "其他")]


@pytest.fixture
async def office(session):
    estate, other = await two_estates(session)
    return {
        "estate": estate, "other": other,
        "desk": await make_staff(session, estates=[estate]),
        "boss": await make_staff(session, estates=[estate], roles=[Role.supervisor]),
    }


def url(estate, code: str | None = None) -> str:
    base = f"{API}/estates/{estate.id}/repair-categories"
    return f"{base}/{code}" if code else base


async def codes(client, office, **params) -> list[tuple[str, str]]:
    r = await client.get(url(office["estate"]), params=params, headers=office["desk"].headers)
    assert r.status_code == 200, r.text
    return [(c["code"], c["name"]) for c in r.json()["items"]]


class TestPermissions:
    async def test_anonymous_401(self, client, office):
        assert (await client.get(url(office["estate"]))).status_code == 401
        assert (await client.put(url(office["estate"], "gas"), json={"name": "燃氣"})).status_code == 401

    async def test_only_supervisor_and_admin_configure(self, client, session, office):
        for role in (Role.receptionist, Role.technician, Role.manager, Role.cs_director):
            staff = await make_staff(session, estates=[office["estate"]], roles=[role])
            r = await client.put(url(office["estate"], "gas"), json={"name": "燃氣"}, headers=staff.headers)
            assert r.status_code == 403, role
        finance = await make_staff(session, estates=[office["estate"]], roles=[Role.finance])
        assert (await client.get(url(office["estate"]), headers=finance.headers)).status_code == 403
        assert await count_rows(session, RepairCategory, RepairCategory.code == "gas") == 0

    async def test_other_estate_404(self, client, session, office):
        assert (await client.get(url(office["other"]), headers=office["boss"].headers)).status_code == 404
        r = await client.put(url(office["other"], "gas"), json={"name": "燃氣"}, headers=office["boss"].headers)
        assert r.status_code == 404
        assert await count_rows(session, RepairCategory, RepairCategory.estate_id == office["other"].id) == 0


class TestCategories:
    async def test_an_estate_starts_with_the_five_defaults(self, client, session, office):
        assert await codes(client, office) == DEFAULTS
        assert await codes(client, office) == DEFAULTS  # seeded once, not again
        assert await count_rows(session, RepairCategory) == 5

    async def test_add_rename_deactivate(self, client, session, office):
        r = await client.put(url(office["estate"], "gas"), json={"name": "燃氣", "sort": 15}, headers=office["boss"].headers)
        assert r.status_code == 200, r.text
        assert (r.json()["code"], r.json()["name"], r.json()["active"], r.json()["sort"]) == ("gas", "燃氣", True, 15)
        r = await client.put(url(office["estate"], "plumbing"), json={"name": "水暖維修", "active": False, "sort": 10},
                             headers=office["boss"].headers)
        assert r.status_code == 200, r.text
        assert await codes(client, office) == [("plumbing", "水暖維修"), ("gas", "燃氣"), *DEFAULTS[1:]]
        assert [c for c, _ in await codes(client, office, active="false")] == ["plumbing"]
        assert [c for c, _ in await codes(client, office, sort="-code", limit=2)] == ["public_area", "plumbing"]
        entries = await count_rows(session, AuditEntry, AuditEntry.entity == "repair_category")
        assert entries == 2
        assert await count_rows(session, RepairCategory) == 6

    async def test_a_new_category_takes_requests_and_a_deactivated_one_does_not(self, client, session, office):
        boss, desk, estate = office["boss"], office["desk"], office["estate"]
        await client.put(url(estate, "gas"), json={"name": "燃氣"}, headers=boss.headers)
        await client.put(url(estate, "plumbing"), json={"name": "水暖", "active": False}, headers=boss.headers)
        body = {"channel": "phone", "description": "燃氣表不走", "location": "會所"}
        r = await client.post(f"{API}/estates/{estate.id}/service-requests", json={**body, "category": "gas"}, headers=desk.headers)
        assert r.status_code == 201, r.text
        r = await client.post(f"{API}/estates/{estate.id}/service-requests", json={**body, "category": "plumbing"}, headers=desk.headers)
        assert r.status_code == 422 and r.json()["type"] == "/problems/unknown-repair-category"
        assert await count_rows(session, ServiceRequest) == 1

    async def test_categories_are_per_estate(self, client, session, office):
        both = await make_staff(session, estates=[office["estate"], office["other"]], roles=[Role.supervisor])
        await client.put(url(office["estate"], "gas"), json={"name": "燃氣"}, headers=both.headers)
        r = await client.get(url(office["other"]), headers=both.headers)
        assert [c["code"] for c in r.json()["items"]] == [c for c, _ in DEFAULTS]

    @pytest.mark.parametrize("code,body", [
        ("Gas", {"name": "燃氣"}), ("9gas", {"name": "燃氣"}), ("g" * 41, {"name": "燃氣"}), ("gas-pipe", {"name": "燃氣"}),
        ("gas", {}), ("gas", {"name": ""}), ("gas", {"name": "x" * 101}), ("gas", {"name": "燃\x00氣"}),
        ("gas", {"name": "燃氣", "sort": -1}), ("gas", {"name": "燃氣", "sort": 10**12}), ("gas", {"name": "燃氣", "active": "maybe"}),
    ])
    async def test_bad_input_422_nothing_written(self, client, session, office, code, body):
        r = await client.put(url(office["estate"], code), json=body, headers=office["boss"].headers)
        assert r.status_code == 422, r.text
        assert r.json()["type"] == "/problems/validation-failed"
        assert r.headers["content-type"].startswith("application/problem+json")
        assert await count_rows(session, RepairCategory, RepairCategory.code.notin_([c for c, _ in DEFAULTS])) == 0
        assert await count_rows(session, AuditEntry, AuditEntry.entity == "repair_category") == 0
