"""The duty log and the day's work diary (§7.3.15): notes per staff member per shift, and the
estate-local day's counts computed from the records."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.callbacks.model import Callback, CallbackStatus
from app.domain.desk.model import DutyLogEntry
from app.domain.fees.payments.model import ReceiptStatus
from app.domain.registry.model import Estate, Unit
from app.domain.repairs.model import RequestChannel, RequestKind, RequestStatus, ServiceRequest, WorkOrderStatus
from tests.factories import Staff, make_staff
from tests.fees_factories import make_receipt
from tests.helpers.problems import assert_422, assert_invalid
from tests.registry_factories import count_rows, make_building, make_unit, two_estates
from tests.repairs_factories import make_order

API = "/api/v1"
DAY = date(2025, 3, 10)
# 2025-03-10 in Shanghai (UTC+8) runs from 2025-03-09T16:00Z to 2025-03-10T16:00Z.
FIRST = datetime(2025, 3, 9, 16, 0, tzinfo=UTC)
LAST = datetime(2025, 3, 10, 15, 59, 59, tzinfo=UTC)
BEFORE = FIRST - timedelta(seconds=1)
AFTER = LAST + timedelta(seconds=1)


@dataclass
class World:
    estate: Estate
    other: Estate
    unit: Unit
    other_unit: Unit
    desk: Staff
    night: Staff


async def world(session) -> World:
    estate, other = await two_estates(session)
    unit = await make_unit(session, building=await make_building(session, estate=estate))
    other_unit = await make_unit(session, building=await make_building(session, estate=other))
    desk = await make_staff(session, estates=[estate], roles=[Role.receptionist], full_name="前台小李")
    night = await make_staff(session, estates=[estate], roles=[Role.night_duty], full_name="夜班老張")
    return World(estate, other, unit, other_unit, desk, night)


async def note(client, w: World, who: Staff, **body) -> dict:
    r = await client.post(f"{API}/estates/{w.estate.id}/duty-log", json={"shift": "morning", "text": "接待业主3人", **body},
                          headers=who.headers)
    assert r.status_code == 201, r.text
    return r.json()


class TestPermissions:
    async def test_anonymous_401(self, client, session):
        w = await world(session)
        for method, path, body in [
            ("POST", "duty-log", {"shift": "morning", "text": "x"}),
            ("GET", "duty-log", None),
            ("GET", "diary", None),
        ]:
            assert (await client.request(method, f"{API}/estates/{w.estate.id}/{path}", json=body)).status_code == 401, path
        assert await count_rows(session, DutyLogEntry) == 0

    async def test_wrong_role_403_and_nothing_written(self, client, session):
        w = await world(session)
        agency = await make_staff(session, estates=[w.estate], roles=[Role.agency])
        tech = await make_staff(session, estates=[w.estate], roles=[Role.technician])
        r = await client.post(f"{API}/estates/{w.estate.id}/duty-log", json={"shift": "morning", "text": "x"}, headers=agency.headers)
        assert r.status_code == 403
        assert await count_rows(session, DutyLogEntry) == 0
        # A technician keeps a duty record but does not read the office's books.
        await note(client, w, tech, text="维修3单")
        for path in ("duty-log", "diary"):
            assert (await client.get(f"{API}/estates/{w.estate.id}/{path}", headers=tech.headers)).status_code == 403
            assert (await client.get(f"{API}/estates/{w.estate.id}/{path}", headers=agency.headers)).status_code == 403

    async def test_other_estate_404(self, client, session):
        w = await world(session)
        theirs = await make_staff(session, estates=[w.other], roles=[Role.supervisor])
        r = await client.post(f"{API}/estates/{w.estate.id}/duty-log", json={"shift": "morning", "text": "x"}, headers=theirs.headers)
        assert r.status_code == 404
        for path in ("duty-log", "diary"):
            assert (await client.get(f"{API}/estates/{w.estate.id}/{path}", headers=theirs.headers)).status_code == 404
        assert await count_rows(session, DutyLogEntry) == 0


class TestDutyLog:
    async def test_entries_per_staff_member_per_shift(self, client, session):
        w = await world(session)
        first = await note(client, w, w.desk)
        assert (first["staff_id"], first["staff_name"], first["shift"], first["text"]) == (
            str(w.desk.id),
            "前台小李",
            "morning",
            "接待业主3人",
        )
        today = date.fromisoformat(first["shift_date"])
        assert today in ((utcnow() + timedelta(hours=8)).date(), utcnow().date())
        await note(client, w, w.night, shift="night", shift_date="2025-03-10", text="夜间巡查")
        await note(client, w, w.desk, shift="afternoon", text="下午回访2户")
        r = await client.get(f"{API}/estates/{w.estate.id}/duty-log", headers=w.desk.headers)
        assert [e["text"] for e in r.json()["items"]] == ["接待业主3人", "下午回访2户", "夜间巡查"]
        r = await client.get(f"{API}/estates/{w.estate.id}/duty-log", params={"staff_id": str(w.night.id)}, headers=w.desk.headers)
        assert [e["shift_date"] for e in r.json()["items"]] == ["2025-03-10"]
        r = await client.get(f"{API}/estates/{w.estate.id}/duty-log", params={"shift": "afternoon"}, headers=w.desk.headers)
        assert r.json()["total"] == 1
        assert await count_rows(session, AuditEntry, AuditEntry.action == "duty_log_entry.create") == 3

    async def test_bad_input_422_and_nothing_written(self, client, session):
        w = await world(session)
        future = (utcnow() + timedelta(days=2)).date().isoformat()
        refusals = iter(
            [
                ("validation-failed", "text"),
                ("validation-failed", "shift"),
                ("validation-failed", "shift"),
                ("in-the-future", "shift_date"),
                ("validation-failed", "text"),
                ("validation-failed", "text"),
                ("validation-failed", "staff_id"),
                ("validation-failed", "shift_date"),
            ]
        )
        for body in (
            {"shift": "morning", "text": ""},
            {"shift": "evening", "text": "x"},
            {"text": "x"},
            {"shift": "morning", "text": "x", "shift_date": future},
            {"shift": "morning", "text": "x\x00"},
            {"shift": "morning", "text": "x" * 4001},
            {"shift": "morning", "text": "x", "staff_id": str(w.night.id)},
            {"shift": "morning", "text": "x", "shift_date": "3000-01-01"},
        ):
            r = await client.post(f"{API}/estates/{w.estate.id}/duty-log", json=body, headers=w.desk.headers)
            assert r.status_code == 422, (body, r.text)
            assert_invalid(r, *next(refusals))
            assert r.headers["content-type"].startswith("application/problem+json")
        assert await count_rows(session, DutyLogEntry) == 0
        for params in ({"date": "10/03/2025"}, {"shift": "evening"}, {"staff_id": "me"}):
            assert_422(await client.get(f"{API}/estates/{w.estate.id}/duty-log", params=params, headers=w.desk.headers), next(iter(params)))


_seq = itertools.count(1)


def _request(estate: Estate, at: datetime, channel: RequestChannel = RequestChannel.phone,
             kind: RequestKind = RequestKind.repair) -> ServiceRequest:
    return ServiceRequest(
        estate_id=estate.id,
        created_at=at,
        number=f"{estate.code}-BX-{at.year}-{next(_seq):06d}",
        channel=channel,
        kind=kind,
        category="other",
        description="x",
        location="大堂",
        status=RequestStatus.open,
    )


async def _records(session, client, w: World) -> None:
    """Records of the day, of the days either side, and of another estate at the same instants."""
    session.add_all(
        [
            _request(w.estate, FIRST),
            _request(w.estate, LAST, kind=RequestKind.enquiry),
            _request(w.estate, FIRST, RequestChannel.walk_in),
            _request(w.estate, BEFORE),
            _request(w.estate, AFTER),
            _request(w.other, FIRST),
        ]
    )
    await session.commit()
    for at, name in ((FIRST, "first"), (LAST, "last"), (BEFORE, "before")):
        r = await client.post(
            f"{API}/estates/{w.estate.id}/visitors",
            json={"visitor_name": name, "purpose": "x", "visited_at": at.isoformat()},
            headers=w.desk.headers,
        )
        assert r.status_code == 201
    await make_receipt(session, estate=w.estate, unit=w.unit, cashier=w.desk.user, amount="100.00", at=FIRST)
    await make_receipt(session, estate=w.estate, unit=w.unit, cashier=w.desk.user, amount="60.50", at=LAST)
    await make_receipt(session, estate=w.estate, unit=w.unit, cashier=w.desk.user, amount="9.00", at=AFTER)
    await make_receipt(session, estate=w.other, unit=w.other_unit, cashier=w.desk.user, amount="7.00", at=FIRST)
    void = await make_receipt(session, estate=w.estate, unit=w.unit, cashier=w.desk.user, amount="50.00", at=FIRST)
    void.status, void.void_reason = ReceiptStatus.void, "开错"
    session.add(void)
    tech = await make_staff(session, estates=[w.estate, w.other], roles=[Role.technician])
    for estate, unit, done_at in (
        (w.estate, w.unit, LAST),
        (w.estate, w.unit, BEFORE),
        (w.estate, w.unit, None),
        (w.other, w.other_unit, FIRST),
    ):
        order = await make_order(
            session,
            estate=estate,
            unit=unit,
            technician=tech.user,
            status=WorkOrderStatus.completed,
            completed_at=FIRST - timedelta(days=2),
            with_callback=True,
        )
        if done_at is not None:
            cb = (await session.execute(select(Callback).where(Callback.work_order_id == order.id))).scalar_one()
            cb.status, cb.done_at = CallbackStatus.done, done_at
    await session.commit()


class TestDiary:
    async def test_counts_from_the_records_of_the_estate_local_day(self, client, session):
        w = await world(session)
        await _records(session, client, w)
        shift = (
            await client.post(
                f"{API}/estates/{w.estate.id}/shifts", json={"shift": "night", "shift_date": "2025-03-10"}, headers=w.night.headers
            )
        ).json()
        for at in (LAST - timedelta(hours=2), AFTER + timedelta(hours=1)):
            r = await client.post(
                f"{API}/estates/{w.estate.id}/shift-log", json={"what": "x", "occurred_at": at.isoformat()}, headers=w.night.headers
            )
            assert r.status_code == 201
        await note(client, w, w.night, shift="night", shift_date="2025-03-10", text="夜间巡查")
        await note(client, w, w.desk, shift="morning", shift_date="2025-03-10", text="上午")
        await note(client, w, w.desk, shift="afternoon", shift_date="2025-03-10", text="下午")
        await note(client, w, w.desk, shift="afternoon", shift_date="2025-03-09", text="前一天")
        r = await client.get(f"{API}/estates/{w.estate.id}/diary", params={"date": "2025-03-10"}, headers=w.desk.headers)
        assert r.status_code == 200, r.text
        diary = r.json()
        assert diary["counts"] == {
            "calls": 2,
            "visitors": 2,
            "requests": 3,
            "payments": 2,
            "payments_total": "160.50",
            "callbacks": 1,
            "log_entries": 1,
        }
        assert datetime.fromisoformat(diary["start"]) == FIRST and datetime.fromisoformat(diary["end"]) == AFTER
        assert (diary["date"], diary["time_zone"]) == ("2025-03-10", "Asia/Shanghai")
        assert [(e["shift"], e["text"]) for e in diary["duty_log"]] == [("morning", "上午"), ("afternoon", "下午"), ("night", "夜间巡查")]
        assert [s["id"] for s in diary["shifts"]] == [shift["id"]] and diary["shifts"][0]["entry_count"] == 2

    async def test_empty_day_and_default_today(self, client, session):
        w = await world(session)
        r = await client.get(f"{API}/estates/{w.estate.id}/diary", headers=w.desk.headers)
        assert r.status_code == 200
        assert r.json()["counts"] == {
            "calls": 0,
            "visitors": 0,
            "requests": 0,
            "payments": 0,
            "payments_total": "0.00",
            "callbacks": 0,
            "log_entries": 0,
        }
        for params in ({"date": "2025-02-30"}, {"date": "0001-01-01"}):
            assert_422(await client.get(f"{API}/estates/{w.estate.id}/diary", params=params, headers=w.desk.headers), "date")
