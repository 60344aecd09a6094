"""The paperwork jobs run once per period, and each picks the period the office means."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.domain.auth.roles import Role
from app.domain.repairs.model import WorkOrderStatus
from app.domain.repairs.paperwork.model import ApprovalBatch, ApprovalLine, ManifestLine, VoucherManifest
from app.jobs.registry import JOBS
from app.jobs.runner import recent_fire_times, run_job
from tests.factories import make_staff
from tests.registry_factories import count_rows, make_building, make_jurisdiction, make_unit, two_estates
from tests.repairs_factories import make_order

S = WorkOrderStatus
SHANGHAI = "Asia/Shanghai"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_schedules_in_the_estates_time_zone():
    def fires(name: str, now: datetime) -> datetime:
        [last] = recent_fire_times(JOBS[name].trigger(SHANGHAI), now=now, count=1)
        return last.astimezone(UTC)

    assert fires("repair_daily_log", utc(2026, 3, 10, 12)) == utc(2026, 3, 10, 10, 10)  # 18:10 local
    assert fires("repair_approval_batch", utc(2026, 3, 12)) == utc(2026, 3, 9, 0)  # Monday 08:00 local
    assert fires("repair_voucher_manifests", utc(2026, 3, 5)) == utc(2026, 2, 28, 9)  # 28 Feb 17:00 local
    assert fires("repair_voucher_manifests", utc(2024, 3, 5)) == utc(2024, 2, 29, 9)  # leap year


def test_approval_batch_period_is_last_week():
    spec = JOBS["repair_approval_batch"]
    assert spec.period_of(datetime(2026, 3, 9, 8)) == "2026-W10"
    assert spec.period_of(datetime(2026, 1, 5, 8)) == "2026-W01" and spec.period_of(datetime(2026, 1, 12, 8)) == "2026-W02"
    assert spec.period_of(datetime(2027, 1, 4, 8)) == "2026-W53"
    assert JOBS["repair_voucher_manifests"].period_of(datetime(2026, 2, 28, 17)) == "2026-02"


async def test_approval_batch_job_builds_last_week_once(app, session):
    estate, _ = await two_estates(session)
    tech = (await make_staff(session, estates=[estate], roles=[Role.technician])).user
    order = await make_order(session, estate=estate, technician=tech, status=S.callback_done, completed_at=utc(2026, 3, 1))
    order.callback_done_at = utc(2026, 3, 4)
    await session.commit()
    sm = app.state.sessionmaker
    monday = utc(2026, 3, 9, 0, 0)  # 08:00 local on Monday 9 March
    [first] = await run_job(sm, "repair_approval_batch", estate_id=estate.id, now=monday)
    [again] = await run_job(sm, "repair_approval_batch", estate_id=estate.id, now=monday)
    assert (first.period, first.status, first.summary["built"]) == ("2026-W10", "succeeded", True)
    assert (again.status, again.reason) == ("skipped", "already succeeded")
    # Forced, it finds the batch it built instead of building a second.
    [forced] = await run_job(sm, "repair_approval_batch", estate_id=estate.id, period="2026-W10", force=True)
    assert (forced.status, forced.summary["built"]) == ("succeeded", False)
    assert await count_rows(session, ApprovalBatch) == 1
    line = (await session.execute(select(ApprovalLine))).scalar_one()
    assert line.work_order_id == order.id


async def test_voucher_manifest_job_builds_the_month_once(app, session):
    estate, _ = await two_estates(session)
    manager = (await make_staff(session, estates=[estate], roles=[Role.manager])).user
    east = await make_jurisdiction(session, estate=estate, manager=manager)
    unit = await make_unit(session, building=await make_building(session, estate=estate, jurisdiction=east))
    tech = (await make_staff(session, estates=[estate], roles=[Role.technician])).user
    await make_order(session, estate=estate, unit=unit, technician=tech, status=S.completed, completed_at=utc(2026, 2, 10),
                     with_voucher=True)
    sm = app.state.sessionmaker
    last_day = utc(2026, 2, 28, 9)  # 17:00 local on 28 February
    [first] = await run_job(sm, "repair_voucher_manifests", estate_id=estate.id, now=last_day)
    [again] = await run_job(sm, "repair_voucher_manifests", estate_id=estate.id, now=last_day)
    assert (first.period, first.status, first.summary) == ("2026-02", "succeeded", {"month": "2026-02", "manifests": 2, "built": True})
    assert again.status == "skipped"
    assert await count_rows(session, VoucherManifest) == 2 and await count_rows(session, ManifestLine) == 1
    jurisdiction = (await session.execute(select(VoucherManifest).where(VoucherManifest.jurisdiction_id == east.id))).scalar_one()
    assert jurisdiction.recipient_id == manager.id


async def test_bad_periods_are_refused(app, session):
    from app.jobs.registry import InvalidPeriod

    estate, _ = await two_estates(session)
    for name, period in (("repair_approval_batch", "2026-03"), ("repair_voucher_manifests", "2026-W10"),
                         ("repair_daily_log", "2026-02-30")):
        try:
            await run_job(app.state.sessionmaker, name, estate_id=estate.id, period=period)
        except InvalidPeriod:
            continue
        raise AssertionError(f"{name} accepted {period}")
