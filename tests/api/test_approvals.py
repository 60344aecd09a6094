"""Monday's approval batch (§7.3.10): built once per ISO week; each line approved or returned once."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.callbacks.model import Callback, CallbackStatus
from app.domain.repairs.model import WorkOrder, WorkOrderStatus
from app.domain.repairs.paperwork.model import ApprovalBatch, ApprovalLine
from tests.factories import make_staff
from tests.registry_factories import count_rows, make_building, make_unit, two_estates
from tests.repairs_factories import make_order

API = "/api/v1"
S = WorkOrderStatus
WEEK = "2026-W10"  # Asia/Shanghai: Mon 2 March 00:00 (1 March 16:00Z) to Mon 9 March 00:00 (8 March 16:00Z)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def called_back(session, *, estate, unit, tech, at, score=None):
    order = await make_order(session, estate=estate, unit=unit, technician=tech, status=S.callback_done,
                             completed_at=utc(2026, 2, 27), with_callback=score is not None)
    order.callback_done_at = at
    if score is not None:
        cb = (await session.execute(select(Callback).where(Callback.work_order_id == order.id))).scalar_one()
        cb.status, cb.score, cb.done_at = CallbackStatus.done, score, at
    await session.commit()
    return order


async def week_of_callbacks(session, estate):
    unit = await make_unit(session, building=await make_building(session, estate=estate, number=8), entrance="2", number="301")
    tech = (await make_staff(session, estates=[estate], roles=[Role.technician], full_name="張師傅")).user
    first = await called_back(session, estate=estate, unit=unit, tech=tech, at=utc(2026, 3, 1, 16, 30), score=4)
    last = await called_back(session, estate=estate, unit=unit, tech=tech, at=utc(2026, 3, 8, 15, 30))
    await called_back(session, estate=estate, unit=unit, tech=tech, at=utc(2026, 3, 1, 15, 30))  # Sunday 23:30 local: W09
    await called_back(session, estate=estate, unit=unit, tech=tech, at=utc(2026, 3, 8, 16, 30))  # Monday 00:30 local: W11
    await make_order(session, estate=estate, unit=unit, technician=tech, status=S.completed, completed_at=utc(2026, 3, 3))
    return first, last


async def build(client, estate, who, week=WEEK):
    return await client.post(f"{API}/estates/{estate.id}/approval-batches", json={"week": week}, headers=who.headers)


class TestApprovalPermissions:
    async def test_anonymous_401_desk_403_other_estate_404(self, client, session):
        mine, other = await two_estates(session)
        await week_of_callbacks(session, other)
        boss_other = await make_staff(session, estates=[other], roles=[Role.supervisor])
        theirs = (await build(client, other, boss_other)).json()
        line = theirs["items"][0]["id"]
        desk = await make_staff(session, estates=[mine])
        boss = await make_staff(session, estates=[mine], roles=[Role.supervisor])
        tech = await make_staff(session, estates=[mine], roles=[Role.technician])
        b = theirs["id"]
        calls = [
            ("post", f"{API}/estates/{mine.id}/approval-batches", {"week": WEEK}),
            ("get", f"{API}/estates/{mine.id}/approval-batches", None),
            ("get", f"{API}/approval-batches/{b}", None),
            ("post", f"{API}/approval-batches/{b}/lines/{line}/approve", None),
            ("post", f"{API}/approval-batches/{b}/lines/{line}/return", {"reason": "x"}),
        ]
        for method, url, body in calls:
            assert (await client.request(method, url, json=body)).status_code == 401, url
        for method, url, body in calls:
            expected = 200 if method == "get" else 403
            if "approval-batches/" in url:
                expected = 404 if method == "get" else 403
            assert (await client.request(method, url, json=body, headers=desk.headers)).status_code == expected, url
        assert (await client.get(f"{API}/estates/{mine.id}/approval-batches", headers=tech.headers)).status_code == 403
        for method, url, body in calls[2:]:
            assert (await client.request(method, url, json=body, headers=boss.headers)).status_code == 404, url
        assert (
            await client.post(f"{API}/estates/{other.id}/approval-batches", json={"week": "2026-W11"}, headers=boss.headers)
        ).status_code == 404
        assert {r.status for r in (await session.execute(select(WorkOrder))).scalars()} <= {"callback_done", "completed"}

    async def test_bad_week_422_nothing_written(self, client, session):
        estate, _ = await two_estates(session)
        await week_of_callbacks(session, estate)
        boss = await make_staff(session, estates=[estate], roles=[Role.supervisor])
        for week in ("2026-W60", "2026-W00", "2025-W53", "2026-10", "1999-W10", "2026-W1", "\x00", "", None, 202610):
            assert (await build(client, estate, boss, week)).status_code == 422, week
        # This week in the estate's zone: at 00:30 on a Monday in Shanghai it is still last week in UTC.
        this_week = datetime.now(ZoneInfo(estate.time_zone)).strftime("%G-W%V")
        r = await build(client, estate, boss, this_week)  # this week has not ended
        assert r.status_code == 422 and r.json()["type"] == "/problems/week-not-over"
        assert await count_rows(session, ApprovalBatch) == 0 and await count_rows(session, ApprovalLine) == 0


class TestApprovalBatch:
    async def test_build_once_list_and_read(self, client, session):
        estate, _ = await two_estates(session)
        first, last = await week_of_callbacks(session, estate)
        boss = await make_staff(session, estates=[estate], roles=[Role.supervisor])
        r = await build(client, estate, boss)
        assert r.status_code == 201, r.text
        batch = r.json()
        assert (batch["week"], batch["lines"], batch["pending"], batch["built_by"]) == (WEEK, 2, 2, str(boss.id))
        assert [i["work_order_id"] for i in batch["items"]] == [str(first.id), str(last.id)]
        item = batch["items"][0]
        assert (item["technician_name"], item["callback_score"], item["place"], item["decision"]) == (
            "張師傅",
            4,
            "8号楼2单元301",
            "pending",
        )
        again = await build(client, estate, boss)
        assert again.status_code == 409 and again.json()["batch_id"] == batch["id"]
        assert again.json()["type"] == "/problems/approval-batch-already-built"
        reader = await make_staff(session, estates=[estate], roles=[Role.records_clerk])
        page = (await client.get(f"{API}/estates/{estate.id}/approval-batches", headers=reader.headers)).json()
        assert page["total"] == 1 and page["items"][0]["lines"] == 2
        assert (await client.get(f"{API}/approval-batches/{batch['id']}", headers=reader.headers)).json()["items"] == batch["items"]

    async def test_approve_and_return_lines(self, client, session):
        estate, _ = await two_estates(session)
        first, last = await week_of_callbacks(session, estate)
        boss = await make_staff(session, estates=[estate], roles=[Role.supervisor])
        batch = (await build(client, estate, boss)).json()
        ok, back = (i["id"] for i in batch["items"])
        base = f"{API}/approval-batches/{batch['id']}/lines"
        r = await client.post(f"{base}/{ok}/approve", headers=boss.headers)
        assert r.status_code == 200, r.text
        assert (r.json()["decision"], r.json()["order_status"], r.json()["decided_by"]) == ("approved", "approved", str(boss.id))
        twice = await client.post(f"{base}/{ok}/approve", headers=boss.headers)
        assert twice.status_code == 409 and twice.json()["type"] == "/problems/line-already-decided"
        assert (await client.post(f"{base}/{ok}/return", json={"reason": "重做"}, headers=boss.headers)).status_code == 409
        for bad in ({"reason": ""}, {"reason": "   "}, {"reason": "x" * 201}, {}, {"reason": "\x00"}):
            assert (await client.post(f"{base}/{back}/return", json=bad, headers=boss.headers)).status_code == 422, bad
        r = await client.post(f"{base}/{back}/return", json={"reason": "回訪記錄不全"}, headers=boss.headers)
        assert r.status_code == 200, r.text
        assert (r.json()["decision"], r.json()["reason"], r.json()["order_status"]) == ("returned", "回訪記錄不全", "completed")
        orders = {o.id: o for o in (await session.execute(select(WorkOrder).execution_options(populate_existing=True))).scalars()}
        assert (orders[first.id].status, orders[first.id].approved_by) == ("approved", boss.id)
        assert (orders[last.id].status, orders[last.id].last_reason, orders[last.id].callback_done_at) == (
            "completed",
            "回訪記錄不全",
            None,
        )
        page = (await client.get(f"{API}/estates/{estate.id}/approval-batches", headers=boss.headers)).json()["items"][0]
        assert (page["pending"], page["approved"], page["returned"]) == (0, 1, 1)

    async def test_line_of_another_batch_404(self, client, session):
        estate, _ = await two_estates(session)
        await week_of_callbacks(session, estate)
        boss = await make_staff(session, estates=[estate], roles=[Role.supervisor])
        w10 = (await build(client, estate, boss)).json()
        w09 = (await build(client, estate, boss, "2026-W09")).json()
        r = await client.post(f"{API}/approval-batches/{w09['id']}/lines/{w10['items'][0]['id']}/approve", headers=boss.headers)
        assert r.status_code == 404 and r.json()["type"] == "/problems/approval-line-not-found"


class TestApprovalTrail:
    async def test_each_decision_is_one_entry_under_its_old_name(self, client, session):
        estate, _ = await two_estates(session)
        await week_of_callbacks(session, estate)
        boss = await make_staff(session, estates=[estate], roles=[Role.supervisor])
        batch = (await build(client, estate, boss)).json()
        ok, back = (i["id"] for i in batch["items"])
        base = f"{API}/approval-batches/{batch['id']}/lines"
        assert (await client.post(f"{base}/{ok}/approve", headers=boss.headers)).status_code == 200
        assert (await client.post(f"{base}/{back}/return", json={"reason": "回訪記錄不全"}, headers=boss.headers)).status_code == 200
        twice = await client.post(f"{base}/{ok}/approve", headers=boss.headers)
        assert twice.status_code == 409 and twice.json()["type"] == "/problems/line-already-decided"
        entries = (await session.execute(select(AuditEntry).where(AuditEntry.entity == "approval_line"))).scalars().all()
        got = sorted((e.action, e.entity_id, e.estate_id, e.before["decision"], e.after["decision"]) for e in entries)
        assert got == [("approval_line.approve", ok, estate.id, "pending", "approved"),
                       ("approval_line.return", back, estate.id, "pending", "returned")]
