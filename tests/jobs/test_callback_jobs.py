"""The callback jobs through the job clock: overdue callbacks once a day, the weekly rate record."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.callbacks.model import Callback, CallbackRateRecord, CallbackStatus
from app.jobs.registry import JOBS
from app.jobs.runner import run_job
from tests.factories import make_staff
from tests.helpers.callbacks import completed, desk_world, fresh
from tests.registry_factories import count_rows

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)


class TestOverdueJob:
    async def test_flags_each_overdue_callback_once_per_day(self, app, session):
        w = await desk_world(session)
        _, due_19th = await completed(session, w, completed_at=local(2026, 11, 12, 10, 0))  # due 19 Nov 23:59:59
        _, due_20th = await completed(session, w, completed_at=local(2026, 11, 13, 10, 0))  # due 20 Nov 23:59:59
        _, done = await completed(session, w, completed_at=local(2026, 11, 1, 10, 0))
        row = await fresh(session, Callback, done.id)
        row.status, row.done_at = CallbackStatus.done, local(2026, 11, 3, 10, 0)
        await session.commit()
        theirs = await make_staff(session, estates=[w.other], roles=[Role.technician])
        _, other = await completed(session, w, estate=w.other, unit=None, tech=theirs, completed_at=local(2026, 11, 1, 10, 0))
        maker = app.state.sessionmaker

        [first] = await run_job(maker, "callbacks_overdue", estate_id=w.estate.id, period="2026-11-20")
        assert (first.status, first.summary) == ("succeeded", {"marked": 1, "open_overdue": 1})
        flagged = (await fresh(session, Callback, due_19th.id)).overdue_at
        assert flagged is not None and (await fresh(session, Callback, due_20th.id)).overdue_at is None

        [again] = await run_job(maker, "callbacks_overdue", estate_id=w.estate.id, period="2026-11-20")
        assert (again.status, again.reason) == ("skipped", "already succeeded")
        assert await count_rows(session, AuditEntry, AuditEntry.action == "callback.overdue") == 1

        [next_day] = await run_job(maker, "callbacks_overdue", estate_id=w.estate.id, period="2026-11-21")
        assert next_day.summary == {"marked": 1, "open_overdue": 2}
        assert (await fresh(session, Callback, due_19th.id)).overdue_at == flagged  # flagged once, not re-stamped
        assert (await fresh(session, Callback, due_19th.id)).status == CallbackStatus.open
        assert (await fresh(session, Callback, done.id)).overdue_at is None
        assert (await fresh(session, Callback, other.id)).overdue_at is None
        entries = (await session.execute(select(AuditEntry).where(AuditEntry.action == "callback.overdue"))).scalars().all()
        assert sorted(e.entity_id for e in entries) == sorted([str(due_19th.id), str(due_20th.id)])
        assert {e.actor_label for e in entries} == {"job:callbacks_overdue"}

    async def test_default_period_is_the_estates_local_day(self, app, session):
        w = await desk_world(session)
        # 23:00 UTC on 20 Nov is already 21 Nov 07:00 in Shanghai.
        [result] = await run_job(app.state.sessionmaker, "callbacks_overdue", estate_id=w.estate.id,
                                 now=datetime(2026, 11, 20, 23, 0, tzinfo=UTC))
        assert result.period == "2026-11-21"
        assert JOBS["callbacks_overdue"].cron == "30 8 * * *"


async def three_in_w46(session, w, *, in_time: int) -> None:
    for i in range(3):
        _, cb = await completed(session, w, completed_at=local(2026, 11, 10 + i, 10, 0))
        if i < in_time:
            row = await fresh(session, Callback, cb.id)
            row.status, row.done_at = CallbackStatus.done, row.completed_at + timedelta(days=1)
            await session.commit()


class TestWeeklyRateJob:
    async def test_records_last_week_and_flags_below_target(self, app, session):
        w = await desk_world(session)
        await three_in_w46(session, w, in_time=1)
        monday = datetime(2026, 11, 16, 8, 0, tzinfo=SHANGHAI)
        [result] = await run_job(app.state.sessionmaker, "callback_rate_weekly", estate_id=w.estate.id, now=monday.astimezone(UTC))
        assert (result.status, result.period) == ("succeeded", "2026-W46")
        assert result.summary == {"week": "2026-W46", "completed": 3, "done_within_7_days": 1, "pending": 0,
                                  "rate": "0.3333", "below_target": True}
        [record] = (await session.execute(select(CallbackRateRecord))).scalars().all()
        assert (record.estate_id, record.week, str(record.rate), record.below_target) == (w.estate.id, "2026-W46", "0.3333", True)
        assert await count_rows(session, AuditEntry, AuditEntry.action == "callback_rate.below_target") == 1

        [again] = await run_job(app.state.sessionmaker, "callback_rate_weekly", estate_id=w.estate.id, period="2026-W46")
        assert again.status == "skipped"
        [forced] = await run_job(app.state.sessionmaker, "callback_rate_weekly", estate_id=w.estate.id, period="2026-W46", force=True)
        assert forced.status == "succeeded"
        assert await count_rows(session, CallbackRateRecord) == 1  # rewritten, not duplicated

    async def test_at_target_no_flag(self, app, session):
        w = await desk_world(session)
        await three_in_w46(session, w, in_time=2)
        [result] = await run_job(app.state.sessionmaker, "callback_rate_weekly", estate_id=w.estate.id, period="2026-W46")
        assert (result.summary["rate"], result.summary["below_target"]) == ("0.6667", False)
        assert await count_rows(session, AuditEntry, AuditEntry.action == "callback_rate.below_target") == 0
        assert await count_rows(session, AuditEntry, AuditEntry.action == "callback_rate.recorded") == 1

    async def test_an_empty_week_is_recorded_without_a_rate(self, app, session):
        w = await desk_world(session)
        [result] = await run_job(app.state.sessionmaker, "callback_rate_weekly", estate_id=w.estate.id, period="2026-W40")
        assert result.summary == {"week": "2026-W40", "completed": 0, "done_within_7_days": 0, "pending": 0,
                                  "rate": None, "below_target": False}
