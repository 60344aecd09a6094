"""The demo's complaints: every state, forms that obey the transition table, numbering that carries on."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app import demo
from app.demo.complaints import complaint_history
from app.domain.auth.principal import system_actor
from app.domain.base import utcnow
from app.domain.complaints import service
from app.domain.complaints.model import Complaint, ComplaintStatus, ComplaintStep, StepKind
from app.domain.fees.payments.model import DocumentCounter
from app.domain.registry.model import Estate

S = ComplaintStatus


@pytest.mark.demo
async def test_weeks_of_complaints(session, demo_logins):
    assert complaint_history in demo.STEPS
    logins = demo_logins
    assert logins.counts["complaints"] == (await session.execute(select(func.count()).select_from(Complaint))).scalar_one() > 20
    # Plain values: the rollback after each estate expires loaded rows.
    estates = (await session.execute(select(Estate.id, Estate.time_zone))).all()
    now = utcnow()
    for estate in estates:
        rows = list((await session.execute(select(Complaint).where(Complaint.estate_id == estate.id))).scalars())
        states = {S(c.status) for c in rows}
        assert states >= {S.registered, S.assigned, S.in_progress, S.escalated, S.resolved, S.reopened, S.closed, S.withdrawn}
        numbers = sorted(c.number for c in rows)
        assert len(set(numbers)) == len(rows)
        # One counter per year that has complaints, at that year's last number (on 1 January there
        # is none yet for the new year: its first complaint makes it).
        counters = {c.year: c.last_seq for c in (await session.execute(select(DocumentCounter).where(
            DocumentCounter.estate_id == estate.id, DocumentCounter.series == "complaint"))).scalars()}
        last: dict[int, int] = {}
        for n in numbers:
            _, year, seq = n.split("-")
            last[int(year)] = max(last.get(int(year), 0), int(seq))
        assert counters == last and max(last) <= now.astimezone(ZoneInfo(estate.time_zone)).year
        for c in rows:
            assert c.received_at <= now and c.deadline > c.received_at
            if S(c.status) is S.closed:
                assert c.feedback_satisfied is True and c.closed_at is not None
            if S(c.status) is S.reopened:
                assert c.reopen_count >= 1 and c.feedback_satisfied is False
        # The job, had it run this morning, would find nothing left to escalate.
        tz = ZoneInfo(estate.time_zone)
        local_now = now.astimezone(tz)
        morning = datetime.combine(local_now.date(), time(8, 30), tzinfo=tz)
        last_run = morning if morning <= local_now else morning - timedelta(days=1)
        result = await service.escalate_overdue(session, actor=system_actor(), estate_id=estate.id, cutoff=last_run, at=now)
        assert result == {"escalated": 0}
        await session.rollback()
    # Every line of a form belongs to its complaint's estate; feedback lines carry the answer.
    stray = (select(func.count()).select_from(ComplaintStep).join(Complaint, Complaint.id == ComplaintStep.complaint_id)
             .where(Complaint.estate_id != ComplaintStep.estate_id))
    assert (await session.execute(stray)).scalar_one() == 0
    unanswered = select(func.count()).select_from(ComplaintStep).where(ComplaintStep.kind == StepKind.feedback,
                                                                       ComplaintStep.satisfied.is_(None))
    assert (await session.execute(unanswered)).scalar_one() == 0
