"""The daily repair log (§5.6): the local day's orders with their state at the close; JSON and CSV."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from app.domain.auth.roles import Role
from app.domain.repairs.model import WorkOrder, WorkOrderStatus
from app.domain.repairs.paperwork.daily_log import CSV_HEADERS
from app.domain.repairs.paperwork.model import DailyRepairLog
from app.jobs.registry import JOBS  # noqa: F401 - the registry first, then the job modules it imports
from app.jobs.runner import run_job
from tests.factories import make_staff
from tests.helpers.problems import assert_422
from tests.registry_factories import count_rows, make_building, make_unit, two_estates
from tests.repairs_factories import make_order

API = "/api/v1"
S = WorkOrderStatus
DAY = "2026-03-10"  # Asia/Shanghai: [09T16:00Z, 10T16:00Z), close at 18:00 local = 10:00Z


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def aged(session, order, created_at, **stamps):
    order.created_at = created_at
    for k, v in stamps.items():
        setattr(order, k, v)
    await session.commit()
    return order


async def day_of_orders(session, estate):
    unit = await make_unit(session, building=await make_building(session, estate=estate, number=8), entrance="2", number="301")
    tech = (await make_staff(session, estates=[estate], roles=[Role.technician], full_name="張師傅")).user
    o = {}
    o["new_started"] = await aged(session, await make_order(session, estate=estate, unit=unit, technician=tech, status=S.in_progress,
                                                            completed_at=utc(2026, 3, 10, 3)), utc(2026, 3, 10, 0, 30))
    o["done_before_close"] = await aged(session, await make_order(session, estate=estate, unit=unit, technician=tech,
                                                                  status=S.completed, completed_at=utc(2026, 3, 10, 9)), utc(2026, 3, 5))
    o["done_after_close"] = await aged(session, await make_order(session, estate=estate, unit=unit, technician=tech,
                                                                 status=S.completed, completed_at=utc(2026, 3, 10, 11)), utc(2026, 3, 5))
    o["old_open"] = await aged(session, await make_order(session, estate=estate, unit=unit), utc(2026, 3, 9, 15, 30))
    o["local_midnight_done"] = await aged(session, await make_order(session, estate=estate, unit=unit, technician=tech,
                                                                    status=S.completed, completed_at=utc(2026, 3, 9, 17)), utc(2026, 3, 8))
    # Not in the log: done on the 9th local (15:00Z), done long ago, registered on the 11th local.
    await aged(session, await make_order(session, estate=estate, unit=unit, technician=tech, status=S.completed,
                                         completed_at=utc(2026, 3, 9, 15)), utc(2026, 3, 8), dispatched_at=utc(2026, 3, 8, 1),
               started_at=utc(2026, 3, 8, 2))
    await aged(session, await make_order(session, estate=estate, unit=unit, technician=tech, status=S.completed,
                                         completed_at=utc(2026, 3, 2)), utc(2026, 3, 1))
    await aged(session, await make_order(session, estate=estate, unit=unit), utc(2026, 3, 10, 16, 30))
    return o


class TestDailyLogPermissions:
    async def test_anonymous_401_agency_403_other_estate_404(self, client, session):
        mine, other = await two_estates(session)
        url = f"{API}/estates/{mine.id}/repairs/daily-log"
        assert (await client.get(url)).status_code == 401
        agency = await make_staff(session, estates=[mine], roles=[Role.agency])
        assert (await client.get(url, headers=agency.headers)).status_code == 403
        desk = await make_staff(session, estates=[mine])
        assert (await client.get(f"{API}/estates/{other.id}/repairs/daily-log", headers=desk.headers)).status_code == 404
        assert (await client.get(f"{API}/estates/{other.id}/repairs/daily-log?format=csv", headers=desk.headers)).status_code == 404
        assert (await client.get(url, headers=desk.headers)).status_code == 200

    async def test_bad_input_422(self, client, session):
        estate, _ = await two_estates(session)
        desk = await make_staff(session, estates=[estate])
        named = iter(["format", "format", "date", "date", "encoding"])
        for params in ({"format": "xls"}, {"format": "CSV"}, {"date": "2026-02-30"}, {"date": "0001-01-01"},
                       {"format": "csv", "encoding": "latin-1"}):
            r = await client.get(f"{API}/estates/{estate.id}/repairs/daily-log", params=params, headers=desk.headers)
            assert r.status_code == 422, params
            assert_422(r, next(named))
        assert await count_rows(session, DailyRepairLog) == 0


class TestDailyLog:
    async def test_live_log_of_a_local_day(self, client, session):
        estate, other = await two_estates(session)
        o = await day_of_orders(session, estate)
        await make_order(session, estate=other)
        desk = await make_staff(session, estates=[estate])
        r = await client.get(f"{API}/estates/{estate.id}/repairs/daily-log", params={"date": DAY}, headers=desk.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["source"], body["compiled_at"], body["close_at"]) == ("live", None, "2026-03-10T18:00:00+08:00")
        got = {row["work_order_id"]: (row["state_at_close"], row["events"]) for row in body["rows"]}
        assert got == {
            str(o["new_started"].id): ("in_progress", ["created", "dispatched", "started"]),
            str(o["done_before_close"].id): ("completed", ["dispatched", "started", "completed"]),
            # Finished at 19:00 local: still in progress at the close.
            str(o["done_after_close"].id): ("in_progress", ["dispatched", "started", "completed"]),
            str(o["old_open"].id): ("pending_dispatch", []),
            # 01:00 local on the 10th, although 17:00 UTC on the 9th.
            str(o["local_midnight_done"].id): ("completed", ["completed"]),
        }
        assert body["rows"][0]["place"] == "8号楼2单元301"

    async def test_csv_has_bom_and_chinese_headers(self, client, session):
        estate, _ = await two_estates(session)
        o = await day_of_orders(session, estate)
        desk = await make_staff(session, estates=[estate])
        r = await client.get(f"{API}/estates/{estate.id}/repairs/daily-log", params={"date": DAY, "format": "csv"}, headers=desk.headers)
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/csv")
        assert r.content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert rows[0] == [f"{estate.name} 報修記錄本 {DAY}"] and rows[1] == CSV_HEADERS
        assert len(rows) == 7
        by_number = {row[1]: row for row in rows[2:]}  # 任務單號: the order's readable number
        done = by_number[o["done_before_close"].number]
        assert (done[4], done[7], done[10], done[11], done[12]) == (
            "8号楼2单元301",
            "張師傅",
            "2026-03-10 17:00",
            "派工、開工、完工",
            "已完工",
        )

    async def test_job_stores_the_log_once_and_the_api_serves_it(self, app, client, session):
        estate, _ = await two_estates(session)
        o = await day_of_orders(session, estate)
        sm = app.state.sessionmaker
        [first] = await run_job(sm, "repair_daily_log", estate_id=estate.id, now=utc(2026, 3, 10, 10, 10))
        [again] = await run_job(sm, "repair_daily_log", estate_id=estate.id, now=utc(2026, 3, 10, 10, 10))
        assert (first.period, first.status, first.summary["rows"]) == (DAY, "succeeded", 5)
        assert (again.status, again.reason) == ("skipped", "already succeeded")
        assert await count_rows(session, DailyRepairLog) == 1
        # A later change does not rewrite the book: the stored log is what was true at the close.
        await session.execute(WorkOrder.__table__.update().where(WorkOrder.id == o["old_open"].id).values(status=S.cancelled.value))
        await session.commit()
        desk = await make_staff(session, estates=[estate], roles=[Role.finance])
        body = (await client.get(f"{API}/estates/{estate.id}/repairs/daily-log", params={"date": DAY}, headers=desk.headers)).json()
        assert body["source"] == "stored" and body["compiled_at"] is not None
        assert {r["work_order_id"]: r["state_at_close"] for r in body["rows"]}[str(o["old_open"].id)] == "pending_dispatch"
        # Forcing a re-run replaces the stored rows rather than adding a second log.
        [forced] = await run_job(sm, "repair_daily_log", estate_id=estate.id, period=DAY, force=True)
        assert forced.status == "succeeded" and await count_rows(session, DailyRepairLog) == 1
