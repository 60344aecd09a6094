"""Technicians' working hours and who is free when, with where each is working now (§7.3.7)."""
from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy.dialects.postgresql import Range

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.repairs.model import WorkOrderStatus
from app.domain.repairs.orders.schedule_model import Booking, TechnicianHours
from tests.factories import make_staff
from tests.helpers.dispatch import API, desk_world, dispatch, local
from tests.helpers.problems import assert_422, assert_problem
from tests.registry_factories import count_rows, make_building, make_unit
from tests.repairs_factories import make_order

S = WorkOrderStatus
LATE_SHIFT = {"morning_open": "10:00", "morning_close": "13:00", "afternoon_open": "15:00", "afternoon_close": "20:00"}


def hours_url(user_id, estate_id) -> str:
    return f"{API}/technicians/{user_id}/working-hours?estate_id={estate_id}"


class TestWorkingHours:
    async def test_default_is_the_estate_office_hours(self, client, session):
        w = await desk_world(session)
        r = await client.get(hours_url(w.tech.id, w.estate.id), headers=w.desk.headers)
        assert r.status_code == 200, r.text
        assert (r.json()["morning_open"], r.json()["afternoon_close"], r.json()["is_estate_default"]) == ("08:00:00", "18:00:00", True)

    async def test_supervisor_sets_his_own_hours_and_dispatch_follows_them(self, client, session):
        w = await desk_world(session)
        boss = await make_staff(session, estates=[w.estate], roles=[Role.supervisor])
        r = await client.put(hours_url(w.tech.id, w.estate.id), json=LATE_SHIFT, headers=boss.headers)
        assert r.status_code == 200 and r.json()["is_estate_default"] is False, r.text
        r = await client.put(hours_url(w.tech.id, w.estate.id), json={**LATE_SHIFT, "afternoon_close": "21:00"}, headers=boss.headers)
        assert r.status_code == 200
        assert await count_rows(session, TechnicianHours) == 1
        assert await count_rows(session, AuditEntry, AuditEntry.entity == "technician_hours") == 2
        assert_problem(await dispatch(client, w, local(8), local(9)), 422, "outside-working-hours")
        assert (await dispatch(client, w, local(19), local(20))).status_code == 200

    async def test_bad_hours_422_nothing_written(self, client, session):
        w = await desk_world(session)
        boss = await make_staff(session, estates=[w.estate], roles=[Role.admin])
        for body in ({**LATE_SHIFT, "morning_close": "09:00"}, {**LATE_SHIFT, "afternoon_open": "12:00"},
                     {**LATE_SHIFT, "morning_open": "25:00"}, {"morning_open": "08:00"}, {**LATE_SHIFT, "morning_open": "08:00+08:00"}):
            r = await client.put(hours_url(w.tech.id, w.estate.id), json=body, headers=boss.headers)
            assert r.status_code == 422, body
            assert r.json()["type"] == "/problems/validation-failed"
        assert await count_rows(session, TechnicianHours) == 0

    async def test_not_a_technician_or_other_estate_is_404(self, client, session):
        w = await desk_world(session)
        boss = await make_staff(session, estates=[w.estate], roles=[Role.supervisor])
        assert (await client.get(hours_url(w.desk.id, w.estate.id), headers=boss.headers)).status_code == 404
        assert (await client.put(hours_url(w.desk.id, w.estate.id), json=LATE_SHIFT, headers=boss.headers)).status_code == 404
        assert (await client.get(hours_url(w.tech.id, w.other.id), headers=boss.headers)).status_code == 404
        assert (await client.put(hours_url(w.tech.id, w.other.id), json=LATE_SHIFT, headers=boss.headers)).status_code == 404
        assert_422(await client.get(f"{API}/technicians/{w.tech.id}/working-hours", headers=boss.headers), "estate_id")
        assert await count_rows(session, TechnicianHours) == 0

    async def test_permissions(self, client, session):
        w = await desk_world(session)
        assert (await client.get(hours_url(w.tech.id, w.estate.id))).status_code == 401
        assert (await client.put(hours_url(w.tech.id, w.estate.id), json=LATE_SHIFT)).status_code == 401
        for who in (w.desk, w.tech):
            assert (await client.put(hours_url(w.tech.id, w.estate.id), json=LATE_SHIFT, headers=who.headers)).status_code == 403
        agency = await make_staff(session, estates=[w.estate], roles=[Role.agency])
        assert (await client.get(hours_url(w.tech.id, w.estate.id), headers=agency.headers)).status_code == 403
        assert (await client.get(hours_url(w.tech.id, w.estate.id), headers=w.tech.headers)).status_code == 200
        assert await count_rows(session, TechnicianHours) == 0


class TestAvailability:
    async def ask(self, client, w, start, end, **kw):
        params = {"start": start.isoformat(), "end": end.isoformat()}
        return await client.get(f"{API}/estates/{w.estate.id}/technicians/availability", params=params, headers=w.desk.headers, **kw)

    async def test_free_first_busy_and_outside_hours_named(self, client, session):
        w = await desk_world(session)
        await make_staff(session, estates=[w.estate], roles=[Role.technician], full_name="趙師傅")
        late = await make_staff(session, estates=[w.estate], roles=[Role.technician], full_name="孫師傅")
        session.add(TechnicianHours(estate_id=w.estate.id, technician_id=late.id,
                                    **{k: time.fromisoformat(v) for k, v in LATE_SHIFT.items()}))
        await make_staff(session, estates=[w.other], roles=[Role.technician], full_name="外區師傅")
        await session.commit()
        await dispatch(client, w, local(9), local(10))
        r = await self.ask(client, w, local(9, 30), local(10, 30))
        assert r.status_code == 200, r.text
        rows = [(t["full_name"], t["free"], t["reason"]) for t in r.json()["technicians"]]
        assert rows == [("趙師傅", True, None), ("孫師傅", False, "outside_hours"), ("張師傅", False, "booked")]
        busy = r.json()["technicians"][2]
        assert busy["clashing_order_ids"] == [str(w.order.id)]
        assert busy["next_booking"]["work_order_id"] == str(w.order.id)
        # Right after his booking he is free again, and 10:00 opens the late shift.
        r = await self.ask(client, w, local(10), local(11))
        assert {t["full_name"]: t["free"] for t in r.json()["technicians"]} == {"張師傅": True, "趙師傅": True, "孫師傅": True}
        r = await self.ask(client, w, local(17), local(18))
        assert [t["full_name"] for t in r.json()["technicians"] if not t["free"]] == []
        r = await self.ask(client, w, local(18), local(19))
        assert [t["full_name"] for t in r.json()["technicians"] if t["free"]] == ["孫師傅"]

    async def test_where_he_is_working_now(self, client, session):
        w = await desk_world(session)
        b3 = await make_building(session, estate=w.estate, number=3)
        unit = await make_unit(session, building=b3)
        await make_order(session, estate=w.estate, unit=unit, technician=w.tech.user, status=S.in_progress)
        r = await self.ask(client, w, local(9), local(10))
        now_at = r.json()["technicians"][0]["now_at"]
        assert (now_at["building_name"], now_at["building_id"]) == ("3号楼", str(b3.id))

    async def test_where_he_is_booked_now_and_not_another_estates_order(self, client, session):
        """Not started yet, but his booking covers this moment: he is placed at that order."""
        w = await desk_world(session)
        b5 = await make_building(session, estate=w.estate, number=5)
        booked = await make_order(session, estate=w.estate, unit=await make_unit(session, building=b5), technician=w.tech.user,
                                  status=S.dispatched)
        now = utcnow()
        session.add(Booking(estate_id=w.estate.id, technician_id=w.tech.id, work_order_id=booked.id,
                            during=Range(now - timedelta(minutes=20), now + timedelta(minutes=40))))
        # An order of the other estate in progress under the same id space must not place anyone here.
        there = await make_unit(session, building=await make_building(session, estate=w.other, number=9))
        await make_order(session, estate=w.other, unit=there, technician=w.tech.user, status=S.in_progress)
        await session.commit()
        r = await self.ask(client, w, local(9), local(10))
        now_at = r.json()["technicians"][0]["now_at"]
        assert (now_at["building_name"], now_at["work_order_id"]) == ("5号楼", str(booked.id))

    async def test_bad_window_and_permissions(self, client, session):
        w = await desk_world(session)
        assert_problem(await self.ask(client, w, local(10), local(9)), 422, "window-out-of-order")
        url = f"{API}/estates/{w.estate.id}/technicians/availability"
        assert (await client.get(url, params={"start": "2030-01-07T09:00:00", "end": "2030-01-07T10:00:00"},
                                 headers=w.desk.headers)).status_code == 422
        params = {"start": local(9).isoformat(), "end": local(10).isoformat()}
        assert (await client.get(url, params=params)).status_code == 401
        assert (await client.get(url, params=params, headers=w.tech.headers)).status_code == 403
        other = f"{API}/estates/{w.other.id}/technicians/availability"
        assert (await client.get(other, params=params, headers=w.desk.headers)).status_code == 404
