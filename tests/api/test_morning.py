"""Morning (§7.3.1): yesterday's unfinished requests, orders and callbacks, in the estate's day."""
from __future__ import annotations

from datetime import UTC, datetime

from app.domain.auth.roles import Role
from app.domain.callbacks.model import Callback, CallbackStatus
from app.domain.repairs import numbers
from app.domain.repairs.model import RequestChannel, RequestStatus, ServiceRequest, WorkOrderStatus
from tests.factories import make_staff
from tests.helpers.problems import assert_422
from tests.registry_factories import make_building, make_unit, two_estates
from tests.repairs_factories import make_order

API = "/api/v1"
S = WorkOrderStatus


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def make_request(session, *, estate, created_at, status=RequestStatus.open, description="諮詢物業費"):
    number = await numbers.next_number(session, estate=estate, series=numbers.Series.service_request, at=created_at)
    row = ServiceRequest(estate_id=estate.id, number=number, channel=RequestChannel.phone, category="other", description=description,
                         location="大堂", status=status, created_at=created_at)
    session.add(row)
    await session.commit()
    return row


async def aged(session, order, created_at):
    order.created_at = created_at
    await session.commit()
    return order


class TestMorningPermissions:
    async def test_anonymous_401_technician_403_other_estate_404(self, client, session):
        mine, other = await two_estates(session)
        url = f"{API}/estates/{mine.id}/repairs/morning"
        assert (await client.get(url)).status_code == 401
        tech = await make_staff(session, estates=[mine], roles=[Role.technician])
        assert (await client.get(url, headers=tech.headers)).status_code == 403
        desk = await make_staff(session, estates=[mine])
        r = await client.get(f"{API}/estates/{other.id}/repairs/morning", headers=desk.headers)
        assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
        assert (await client.get(url, headers=desk.headers)).status_code == 200

    async def test_bad_date_422(self, client, session):
        estate, _ = await two_estates(session)
        desk = await make_staff(session, estates=[estate])
        for bad in ("2026-13-01", "yesterday", "1999-12-31", "2100-01-01", "\x00"):
            r = await client.get(f"{API}/estates/{estate.id}/repairs/morning", params={"date": bad}, headers=desk.headers)
            assert r.status_code == 422, bad
            assert_422(r, "date")


class TestMorning:
    async def test_unfinished_business_as_of_local_midnight(self, client, session):
        estate, other = await two_estates(session)  # Asia/Shanghai: local midnight of 10 March is 16:00 UTC on the 9th
        unit = await make_unit(session, building=await make_building(session, estate=estate, number=8), entrance="2", number="301")
        tech = (await make_staff(session, estates=[estate], roles=[Role.technician], full_name="張師傅")).user
        before = await make_request(session, estate=estate, created_at=utc(2026, 3, 9, 15, 59))
        await make_request(session, estate=estate, created_at=utc(2026, 3, 9, 16, 1))  # 00:01 local on the 10th
        await make_request(session, estate=estate, created_at=utc(2026, 3, 1), status=RequestStatus.closed_at_desk)
        await make_request(session, estate=other, created_at=utc(2026, 3, 1))
        waiting = await aged(session, await make_order(session, estate=estate, unit=unit, technician=tech, status=S.dispatched),
                             utc(2026, 3, 7, 2))
        await aged(session, await make_order(session, estate=estate, unit=unit, technician=tech, status=S.completed,
                                             completed_at=utc(2026, 3, 8)), utc(2026, 3, 7))
        await aged(session, await make_order(session, estate=estate, unit=unit), utc(2026, 3, 9, 16, 30))
        await aged(session, await make_order(session, estate=other), utc(2026, 3, 1))
        # Callbacks: one overdue (completed 1 March, due by the end of the 8th), one still in its week.
        late = await make_order(session, estate=estate, unit=unit, technician=tech, status=S.completed,
                                completed_at=utc(2026, 3, 1, 2), with_callback=True)
        fresh = await make_order(session, estate=estate, unit=unit, technician=tech, status=S.completed,
                                 completed_at=utc(2026, 3, 8, 2), with_callback=True)
        done = await make_order(session, estate=estate, technician=tech, status=S.callback_done,
                                completed_at=utc(2026, 3, 2), with_callback=True)
        await make_order(session, estate=estate, technician=tech, status=S.completed, completed_at=utc(2026, 3, 9, 17),
                         with_callback=True)  # completed after the start of the day
        cb = (await session.execute(Callback.__table__.select().where(Callback.work_order_id == done.id))).first()
        await session.execute(Callback.__table__.update().where(Callback.id == cb.id).values(status=CallbackStatus.done.value))
        await session.commit()
        desk = await make_staff(session, estates=[estate])

        r = await client.get(f"{API}/estates/{estate.id}/repairs/morning", params={"date": "2026-03-10"}, headers=desk.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["as_of"] == "2026-03-10T00:00:00+08:00"
        assert [x["id"] for x in body["requests"]] == [str(before.id)]
        assert body["requests"][0]["age_hours"] == 0
        assert [x["id"] for x in body["orders"]] == [str(waiting.id)]
        order = body["orders"][0]
        assert (order["age_hours"], order["age_days"], order["status"]) == (62, 2, "dispatched")
        assert (order["place"], order["technician_name"]) == ("8号楼2单元301", "張師傅")
        assert [(x["work_order_id"], x["overdue"]) for x in body["callbacks"]] == [(str(late.id), True), (str(fresh.id), False)]

    async def test_default_date_is_today_and_empty_estate(self, client, session):
        estate, _ = await two_estates(session)
        desk = await make_staff(session, estates=[estate], roles=[Role.night_duty])
        r = await client.get(f"{API}/estates/{estate.id}/repairs/morning", headers=desk.headers)
        assert r.status_code == 200
        body = r.json()
        assert body["as_of"].endswith("T00:00:00+08:00")
        assert (body["requests"], body["orders"], body["callbacks"]) == ([], [], [])
