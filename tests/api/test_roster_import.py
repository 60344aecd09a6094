"""POST /api/v1/estates/{estate_id}/roster-imports: dry run, all-or-nothing, idempotent re-upload."""
from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.registry.model import Building, Owner, OwnerPhone, Unit, UnitOwner
from tests.factories import make_estate, make_staff
from tests.helpers.problems import assert_422

DATA = Path("/work/shared/data")
CSV = (DATA / "roster-sample.csv").read_bytes()
XLSX = (DATA / "roster-sample.xlsx").read_bytes()
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TABLES = {"buildings": Building, "units": Unit, "owners": Owner, "links": UnitOwner, "phones": OwnerPhone}
EMPTY = {"buildings": 0, "units": 0, "owners": 0, "links": 0, "phones": 0}
# Hand-counted from the sample (see tests/domain/test_roster_parse.py).
SAMPLE = {"buildings": 6, "units": 144, "owners": 150, "links": 150, "phones": 162}


def url(estate) -> str:
    return f"/api/v1/estates/{estate.id}/roster-imports"


def upload(data: bytes = CSV, name: str = "roster-sample.csv", kind: str = "text/csv") -> dict:
    return {"files": {"file": (name, data, kind)}}


async def counts(session) -> dict[str, int]:
    return {k: await session.scalar(select(func.count()).select_from(t)) for k, t in TABLES.items()}


async def audit_entries(session) -> list[AuditEntry]:
    return list((await session.scalars(select(AuditEntry).where(AuditEntry.action == "roster.import"))).all())


def tally(report: dict, kind: str) -> tuple[int, int, int]:
    t = report[kind]
    return t["created"], t["updated"], t["unchanged"]


@pytest.fixture
async def estate(session):
    return await make_estate(session)


@pytest.fixture
async def supervisor(session, estate):
    return await make_staff(session, estates=[estate], roles=[Role.supervisor])


async def real_run(client, estate, staff, **kwargs):
    return await client.post(url(estate), params={"dry_run": "false"}, headers=staff.headers, **upload(**kwargs))


class TestAccess:
    async def test_anonymous_is_401(self, client, estate, session):
        r = await client.post(url(estate), params={"dry_run": "false"}, **upload())
        assert r.status_code == 401
        assert r.headers["content-type"].startswith("application/problem+json")
        assert await counts(session) == EMPTY

    async def test_receptionist_is_403(self, client, estate, session):
        clerk = await make_staff(session, estates=[estate], roles=[Role.receptionist])
        r = await real_run(client, estate, clerk)
        assert r.status_code == 403
        assert await counts(session) == EMPTY

    async def test_another_estates_roster_is_404(self, client, estate, session, supervisor):
        other = await make_estate(session)
        r = await real_run(client, other, supervisor)
        assert r.status_code == 404
        assert r.json()["type"] == "/problems/estate-not-found"
        assert await counts(session) == EMPTY

    async def test_admin_may_import(self, client, estate, session):
        admin = await make_staff(session, estates=[estate], roles=[Role.admin])
        r = await real_run(client, estate, admin)
        assert r.status_code == 200, r.text


class TestDryRun:
    async def test_reports_and_writes_nothing(self, client, estate, session, supervisor):
        r = await client.post(url(estate), params={"dry_run": "true"}, headers=supervisor.headers, **upload())
        assert r.status_code == 200, r.text
        report = r.json()
        assert report["dry_run"] is True and report["rows_read"] == 159
        assert report["errors"] == [] and report["error_count"] == 0
        assert tally(report, "buildings") == (6, 0, 0)
        assert tally(report, "units") == (144, 0, 0)
        assert tally(report, "owners") == (150, 0, 0)
        assert tally(report, "phones") == (162, 0, 0)
        assert await counts(session) == EMPTY
        assert await audit_entries(session) == []

    async def test_is_the_default(self, client, estate, session, supervisor):
        r = await client.post(url(estate), headers=supervisor.headers, **upload())
        assert r.status_code == 200 and r.json()["dry_run"] is True
        assert await counts(session) == EMPTY

    async def test_after_an_import_reports_no_change(self, client, estate, session, supervisor):
        assert (await real_run(client, estate, supervisor)).status_code == 200
        r = await client.post(url(estate), params={"dry_run": "true"}, headers=supervisor.headers,
                              **upload(XLSX, "roster-sample.xlsx", XLSX_TYPE))
        report = r.json()
        assert tally(report, "units") == (0, 0, 144)
        assert tally(report, "phones") == (0, 0, 162)

    async def test_reports_an_area_change_without_making_it(self, client, estate, session, supervisor):
        assert (await real_run(client, estate, supervisor)).status_code == 200
        changed = CSV.decode("gb18030").replace("1号楼,1单元,101,112.7,", "1号楼,1单元,101,113.5,").encode("gb18030")
        r = await client.post(url(estate), headers=supervisor.headers, **upload(changed))
        assert tally(r.json(), "units") == (0, 1, 143)
        areas = (await session.scalars(select(Unit.area).where(Unit.number == "101", Unit.entrance == "1"))).all()
        assert Decimal("113.50") not in areas
        assert len(await audit_entries(session)) == 1


class TestImport:
    async def test_writes_the_roster(self, client, estate, session, supervisor):
        r = await real_run(client, estate, supervisor)
        assert r.status_code == 200, r.text
        assert r.json()["dry_run"] is False
        assert await counts(session) == SAMPLE
        assert await session.scalar(select(func.count()).select_from(Unit).where(Unit.is_vacant)) == 9
        co_owners = select(func.count()).select_from(UnitOwner).where(UnitOwner.is_primary.is_(False))
        assert await session.scalar(co_owners) == 15
        [entry] = await audit_entries(session)
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 1  # one entry, not one per row
        assert (entry.entity, entry.entity_id, entry.estate_id) == ("estate", str(estate.id), estate.id)
        assert entry.after["units"]["created"] == 144 and entry.after["rows_read"] == 159

    async def test_rows_land_as_the_office_means_them(self, client, estate, session, supervisor):
        assert (await real_run(client, estate, supervisor)).status_code == 200
        building = await session.scalar(select(Building).where(Building.name == "2号楼"))
        assert building.number == 2 and building.estate_id == estate.id
        unit = await self._unit(session, building, "1", "302")
        assert (unit.floor, unit.area, unit.is_vacant) == (3, Decimal("112.70"), False)
        owners = await self._owners(session, unit)
        assert [(o.full_name, o.surname, o.title, link.is_primary) for o, link in owners] == [
            ("孟艳霄", "孟", "先生", True), ("赵叶娴", "赵", "先生", False)]
        assert await self._phones(session, owners[0][0]) == ["03926540615"]  # landline with area code
        assert await self._phones(session, owners[1][0]) == ["15091633401"]  # full-width digits
        two = await self._owners(session, await self._unit(session, building, "1", "301"))
        assert await self._phones(session, two[0][0]) == ["13397795327", "17333838222"]
        rented = await self._unit(session, building, "1", "201")
        assert rented.note == "出租"
        vacant = await self._unit(session, building, "2", "601")
        assert vacant.is_vacant and await self._owners(session, vacant) == []

    async def test_reupload_changes_nothing(self, client, estate, session, supervisor):
        assert (await real_run(client, estate, supervisor)).status_code == 200
        for data, name, kind in ((CSV, "roster-sample.csv", "text/csv"), (XLSX, "roster-sample.xlsx", XLSX_TYPE)):
            r = await real_run(client, estate, supervisor, data=data, name=name, kind=kind)
            assert r.status_code == 200, r.text
            report = r.json()
            assert [tally(report, k) for k in ("buildings", "units", "owners", "phones")] == [
                (0, 0, 6), (0, 0, 144), (0, 0, 150), (0, 0, 162)]
        assert await counts(session) == SAMPLE
        assert len(await audit_entries(session)) == 3

    async def test_area_change_updates_the_unit(self, client, estate, session, supervisor):
        assert (await real_run(client, estate, supervisor)).status_code == 200
        changed = CSV.decode("gb18030").replace("1号楼,1单元,101,112.7,", "1号楼,1单元,101,113.5,").encode("gb18030")
        r = await real_run(client, estate, supervisor, data=changed)
        assert tally(r.json(), "units") == (0, 1, 143)
        building = await session.scalar(select(Building).where(Building.name == "1号楼"))
        assert (await self._unit(session, building, "1", "101")).area == Decimal("113.50")

    async def test_utf8_csv_with_bom(self, client, estate, session, supervisor):
        data = "\ufeff" + CSV.decode("gb18030")
        r = await real_run(client, estate, supervisor, data=data.encode("utf-8"))
        assert r.status_code == 200, r.text
        assert await counts(session) == SAMPLE

    @staticmethod
    async def _unit(session, building, entrance, room):
        return await session.scalar(select(Unit).where(Unit.building_id == building.id, Unit.entrance == entrance, Unit.number == room))

    @staticmethod
    async def _owners(session, unit):
        stmt = (select(Owner, UnitOwner).join(UnitOwner, UnitOwner.owner_id == Owner.id)
                .where(UnitOwner.unit_id == unit.id).order_by(UnitOwner.is_primary.desc()))
        return list((await session.execute(stmt)).all())

    @staticmethod
    async def _phones(session, owner):
        return sorted((await session.scalars(select(OwnerPhone.phone).where(OwnerPhone.owner_id == owner.id))).all())


class TestRefused:
    async def test_one_bad_row_imports_nothing(self, client, estate, session, supervisor):
        bad = CSV.decode("gb18030").replace("1号楼,2单元,102,89.2,潘纯,女,15610431763,", "1号楼,2单元,102,约九十,潘纯,女,156104,")
        r = await real_run(client, estate, supervisor, data=bad.encode("gb18030"))
        assert r.status_code == 422
        body = r.json()
        assert body["type"] == "/problems/roster-has-errors"
        assert [(e["row"], e["column"]) for e in body["errors"]] == [(16, "建筑面积"), (16, "联系电话")]
        assert all(e["problem"] for e in body["errors"])
        assert await counts(session) == EMPTY
        assert await audit_entries(session) == []

    async def test_dry_run_of_a_bad_file_lists_the_errors(self, client, estate, session, supervisor):
        bad = CSV.decode("gb18030").replace("15610431763", "156104")
        r = await client.post(url(estate), headers=supervisor.headers, **upload(bad.encode("gb18030")))
        assert r.status_code == 200
        assert r.json()["errors"] == [{"row": 16, "column": "联系电话", "problem": "cannot read the phone number '156104'"}]
        assert tally(r.json(), "units") == (143, 0, 0)  # the bad row's unit is not counted

    @pytest.mark.parametrize("data, name", [(os.urandom(4096), "roster.csv"), (os.urandom(4096), "roster.xlsx"),
                                            (b"PK\x03\x04garbage", "roster.xlsx"), (b"", "roster.csv")])
    async def test_garbage_is_422(self, client, estate, session, supervisor, data, name):
        r = await real_run(client, estate, supervisor, data=data, name=name, kind="application/octet-stream")
        assert r.status_code == 422
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"] == "/problems/roster-unreadable"
        assert await counts(session) == EMPTY

    async def test_missing_file_is_422(self, client, estate, supervisor):
        r = await client.post(url(estate), params={"dry_run": "false"}, headers=supervisor.headers, data={"x": "1"})
        assert r.status_code == 422
        assert_422(r, "file")
        assert r.headers["content-type"].startswith("application/problem+json")

    async def test_oversized_file_is_422_like_every_upload(self, app, client, estate, session, supervisor):
        app.state.settings.max_upload_bytes = 1000
        r = await real_run(client, estate, supervisor)
        assert r.status_code == 422
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"] == "/problems/file-too-large" and "1000" in r.json()["detail"]
        assert await counts(session) == EMPTY

    async def test_file_at_the_limit_is_read(self, app, client, estate, session, supervisor):
        app.state.settings.max_upload_bytes = len(CSV)
        assert (await real_run(client, estate, supervisor)).status_code == 200
