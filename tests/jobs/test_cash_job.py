"""cash_handover_check: at 17:00 estate time, flag the drawers not handed over and alert the supervisor."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import select, update

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.fees.cash.model import CashierSession
from app.domain.fees.cash.service import NOT_HANDED_OVER, SUPERVISOR_ALERT
from app.jobs.registry import JOBS
from app.jobs.runner import recent_fire_times, run_job
from tests.factories import make_staff
from tests.helpers.cash import current, hand_over
from tests.helpers.payments import desk, pay
from tests.registry_factories import count_rows, make_building, make_unit


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def row(session, sid: str) -> CashierSession:
    return (await session.execute(select(CashierSession).where(CashierSession.id == uuid.UUID(sid))
                                  .execution_options(populate_existing=True))).scalar_one()


async def move_to(session, sid: str, day: date) -> None:
    await session.execute(update(CashierSession).where(CashierSession.id == uuid.UUID(sid)).values(day=day))
    await session.commit()


def test_fires_at_17_local():
    spec = JOBS["cash_handover_check"]
    assert (spec.cron, spec.period_kind, spec.per_estate) == ("0 17 * * *", "day", True)
    [shanghai] = recent_fire_times(spec.trigger("Asia/Shanghai"), now=utc(2026, 11, 21, 0), count=1)
    [new_york] = recent_fire_times(spec.trigger("America/New_York"), now=utc(2026, 11, 21, 0), count=1)
    assert shanghai.astimezone(UTC) == utc(2026, 11, 20, 9) and new_york.astimezone(UTC) == utc(2026, 11, 20, 22)


async def test_flags_only_open_sessions_with_takings_once(app, client, session):
    d = await desk(session)
    handed = await make_staff(session, estates=[d.estate], roles=[Role.receptionist], full_name="王芳")
    idle = await make_staff(session, estates=[d.estate], roles=[Role.receptionist], full_name="陳靜")
    boss = await make_staff(session, estates=[d.estate], roles=[Role.supervisor], full_name="張主管")
    theirs = await make_staff(session, estates=[d.other], roles=[Role.receptionist])
    await make_staff(session, estates=[d.other], roles=[Role.supervisor], full_name="別處主管")
    await pay(client, d, amount="160.56", tendered="200")
    await pay(client, d, staff=handed, amount="45.00")
    late, done, empty = (await current(client, d))["id"], (await current(client, d, handed))["id"], (await current(client, d, idle))["id"]
    assert (await hand_over(client, done, handed, counted_cash="45.00")).status_code == 200
    day = (await row(session, late)).day
    their_unit = await make_unit(session, building=await make_building(session, estate=d.other))
    assert (await pay(client, d, staff=theirs, unit_id=their_unit.id, amount="30.00")).status_code == 201

    [first] = await run_job(app.state.sessionmaker, "cash_handover_check", estate_id=d.estate.id, period=day.isoformat())
    assert first.status == "succeeded", first
    assert (first.summary["count"], first.summary["day"]) == (1, day.isoformat())
    [flagged] = first.summary["flagged"]
    assert (flagged["session_id"], flagged["cashier_name"], flagged["receipts"], flagged["expected_cash"]) == (
        late, "李娜", 1, "160.56")
    assert first.summary["alert"]["supervisors"] == [{"id": str(boss.id), "name": "張主管"}]
    stamped = (await row(session, late)).flagged_late_at
    assert stamped is not None and (await row(session, late)).status == "open"
    assert (await row(session, done)).flagged_late_at is None and (await row(session, empty)).flagged_late_at is None
    assert await count_rows(session, CashierSession, CashierSession.estate_id == d.other.id,
                            CashierSession.flagged_late_at.is_not(None)) == 0

    [again] = await run_job(app.state.sessionmaker, "cash_handover_check", estate_id=d.estate.id, period=day.isoformat())
    assert (again.status, again.reason) == ("skipped", "already succeeded")
    [forced] = await run_job(app.state.sessionmaker, "cash_handover_check", estate_id=d.estate.id, period=day.isoformat(),
                             force=True)
    assert (forced.status, forced.summary["count"], forced.summary["flagged"]) == ("succeeded", 0, [])
    assert (await row(session, late)).flagged_late_at == stamped

    entries = (await session.execute(select(AuditEntry).where(AuditEntry.action == NOT_HANDED_OVER))).scalars().all()
    assert [(e.entity_id, e.actor_label) for e in entries] == [(late, "job:cash_handover_check")]
    [alert] = (await session.execute(select(AuditEntry).where(AuditEntry.action == SUPERVISOR_ALERT))).scalars().all()
    assert (alert.estate_id, alert.after["to"], [s["session_id"] for s in alert.after["sessions"]]) == (d.estate.id, "supervisor", [late])
    # The flag shows on the session for the supervisor and finance.
    r = await client.get(f"/api/v1/cashier-sessions/{late}", headers=boss.headers)
    assert r.json()["flagged_late_at"] is not None


async def test_the_estates_day_in_its_time_zone(app, client, session):
    d = await desk(session)
    d.estate.time_zone = "America/New_York"
    session.add(d.estate)
    await session.commit()
    other = await make_staff(session, estates=[d.estate], roles=[Role.receptionist])
    await pay(client, d, amount="10.00")
    await pay(client, d, staff=other, amount="20.00")
    ny_day, next_day = (await current(client, d))["id"], (await current(client, d, other))["id"]
    await move_to(session, ny_day, date(2026, 11, 20))
    await move_to(session, next_day, date(2026, 11, 21))

    # 22:00 UTC on 20 November is 17:00 in New York (and already the 21st in Shanghai).
    [result] = await run_job(app.state.sessionmaker, "cash_handover_check", estate_id=d.estate.id, now=utc(2026, 11, 20, 22))
    assert (result.period, result.summary["count"]) == ("2026-11-20", 1)
    assert [f["session_id"] for f in result.summary["flagged"]] == [ny_day]
    assert (await row(session, next_day)).flagged_late_at is None


async def test_an_earlier_day_never_flagged_is_caught_next_time(app, client, session):
    d = await desk(session)
    await pay(client, d, amount="10.00")
    sid = (await current(client, d))["id"]
    await move_to(session, sid, date(2026, 11, 19))  # a drawer opened after the 19th's run
    [result] = await run_job(app.state.sessionmaker, "cash_handover_check", estate_id=d.estate.id, period="2026-11-20")
    assert [(f["session_id"], f["day"]) for f in result.summary["flagged"]] == [(sid, "2026-11-19")]
    [before] = await run_job(app.state.sessionmaker, "cash_handover_check", estate_id=d.estate.id, period="2026-11-18")
    assert before.summary["count"] == 0
    assert await count_rows(session, AuditEntry, AuditEntry.action == NOT_HANDED_OVER) == 1
