"""The daily complaint_overdue job: escalates overdue complaints to the CS director, each once."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.base import utcnow
from app.domain.complaints.model import Complaint, ComplaintStatus, ComplaintStep, StepKind
from app.domain.events.model import OutboxEvent
from app.jobs.registry import JOBS
from app.jobs.runner import run_job
from tests.helpers.complaints import SHANGHAI, seed, world
from tests.registry_factories import count_rows

S = ComplaintStatus


async def status_of(session, c: Complaint) -> str:
    return (await session.get(Complaint, c.id, populate_existing=True)).status


class TestOverdueJob:
    async def test_escalates_only_overdue_open_ones_and_only_once(self, app, session):
        w = await world(session)
        now = utcnow()
        ago, soon = now - timedelta(days=5), now + timedelta(hours=3)
        overdue = [await seed(session, w.estate.id, category="noise", status=s, received=ago, deadline=now - timedelta(hours=h))
                   for s, h in ((S.registered, 1), (S.assigned, 30), (S.in_progress, 2), (S.reopened, 5))]
        not_yet = await seed(session, w.estate.id, category="noise", status=S.in_progress, received=ago, deadline=soon)
        resolved = await seed(session, w.estate.id, category="fees", status=S.resolved, received=ago, deadline=ago, resolved=now)
        already = await seed(session, w.estate.id, category="fees", status=S.escalated, received=ago, deadline=ago)
        theirs = await seed(session, w.other.id, category="fees", status=S.registered, received=ago, deadline=ago)
        today = now.astimezone(SHANGHAI).strftime("%Y-%m-%d")
        maker = app.state.sessionmaker

        [first] = await run_job(maker, "complaint_overdue", estate_id=w.estate.id, period=today)
        assert (first.status, first.summary) == ("succeeded", {"escalated": 4})
        for c in overdue:
            row = await session.get(Complaint, c.id, populate_existing=True)
            assert (row.status, row.escalated_by) == (S.escalated, None) and row.escalation_reason.startswith("Overdue")
        assert [await status_of(session, c) for c in (not_yet, resolved, already, theirs)] == [
            S.in_progress, S.resolved, S.escalated, S.registered]

        [again] = await run_job(maker, "complaint_overdue", estate_id=w.estate.id, period=today)
        assert (again.status, again.reason) == ("skipped", "already succeeded")
        [forced] = await run_job(maker, "complaint_overdue", estate_id=w.estate.id, period=today, force=True)
        assert forced.summary == {"escalated": 0}

        entries = (await session.execute(select(AuditEntry).where(AuditEntry.action == "complaint.escalate_overdue"))).scalars().all()
        assert sorted(e.entity_id for e in entries) == sorted(str(c.id) for c in overdue)
        assert {e.actor_label for e in entries} == {"job:complaint_overdue"}
        assert {e.after["status"] for e in entries} == {"escalated"}
        assert await count_rows(session, ComplaintStep, ComplaintStep.kind == StepKind.escalated) == 4
        events = (await session.execute(select(OutboxEvent).where(OutboxEvent.entity == "complaint"))).scalars().all()
        assert len(events) == 4 and {e.type for e in events} == {"deadline.missed"}
        assert {e.data["escalated_to"] for e in events} == {"cs_director"}

    async def test_catch_up_run_judges_its_own_day(self, app, session):
        w = await world(session)
        now = utcnow()
        yesterday = (now - timedelta(days=1)).astimezone(SHANGHAI).date()
        day_end = (now - timedelta(days=1)).astimezone(SHANGHAI).replace(hour=23, minute=59, second=59)
        ago = now - timedelta(days=10)
        by_then = await seed(session, w.estate.id, category="noise", status=S.assigned, received=ago,
                             deadline=day_end - timedelta(hours=2))
        after = await seed(session, w.estate.id, category="noise", status=S.assigned, received=ago,
                           deadline=min(day_end + timedelta(minutes=30), now - timedelta(seconds=1)))
        [run] = await run_job(app.state.sessionmaker, "complaint_overdue", estate_id=w.estate.id, period=str(yesterday))
        assert run.summary == {"escalated": 1}
        assert (await status_of(session, by_then), await status_of(session, after)) == (S.escalated, S.assigned)

    async def test_schedule(self):
        assert JOBS["complaint_overdue"].cron == "30 8 * * *"
        assert JOBS["complaint_overdue"].period_kind == "day"
