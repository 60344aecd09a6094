"""Monthly complaint statistics: the month's complaints by category and by outcome, in one query.

The cohort is the complaints received in the estate-local month; each is counted as it
stands when the report is asked for (`as_of`). Resolved in time compares the latest
resolution with the deadline in force (a reopened complaint's new one). The satisfaction
rate counts the owners' answers on these complaints: a complaint reopened and then closed
contributes one "not satisfied" and one "satisfied".
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.principal import Actor
from app.domain.base import utcnow
from app.domain.calendar import estate_time
from app.domain.complaints.model import OPEN_STATES, Category, Complaint, ComplaintStatus, ComplaintStep, Severity, StepKind
from app.domain.complaints.schemas import CategoryLine, ComplaintStats, StatsLine
from app.domain.errors import Invalid
from app.domain.registry.service import check_estate

S = ComplaintStatus


class InvalidMonth(Invalid):
    title = "month must be YYYY-MM"
    title_zh = "month 必须为 YYYY-MM 格式"


@dataclass
class Counts:
    received: int = 0
    resolved_in_time: int = 0
    resolved_late: int = 0
    open: int = 0
    overdue: int = 0
    withdrawn: int = 0
    closed: int = 0
    satisfied: int = 0
    not_satisfied: int = 0

    def add(self, other: Counts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def line(self) -> dict[str, Any]:
        answered = self.satisfied + self.not_satisfied
        judged = self.resolved_in_time + self.resolved_late + self.overdue
        return {**{f.name: getattr(self, f.name) for f in fields(self)},
                "satisfied_rate": _rate(self.satisfied, answered), "in_time_rate": _rate(self.resolved_in_time, judged)}


def _rate(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP) if whole else None


def _query(estate_id: uuid.UUID, start: datetime, end: datetime, now: datetime) -> Select[*tuple[Any, ...]]:
    fb = (select(ComplaintStep.complaint_id,
                 func.count().filter(ComplaintStep.satisfied.is_(True)).label("yes"),
                 func.count().filter(ComplaintStep.satisfied.is_(False)).label("no"))
          .where(ComplaintStep.estate_id == estate_id, ComplaintStep.kind == StepKind.feedback)
          .group_by(ComplaintStep.complaint_id).subquery())
    done = Complaint.status.in_([S.resolved, S.closed])
    is_open = Complaint.status.in_(OPEN_STATES)
    return (
        select(Complaint.category, Complaint.severity, func.count().label("received"),
               func.count().filter(and_(done, Complaint.resolved_at <= Complaint.deadline)).label("resolved_in_time"),
               func.count().filter(and_(done, Complaint.resolved_at > Complaint.deadline)).label("resolved_late"),
               func.count().filter(is_open).label("open"),
               func.count().filter(and_(is_open, Complaint.deadline < now)).label("overdue"),
               func.count().filter(Complaint.status == S.withdrawn).label("withdrawn"),
               func.count().filter(Complaint.status == S.closed).label("closed"),
               func.coalesce(func.sum(fb.c.yes), 0).label("satisfied"),
               func.coalesce(func.sum(fb.c.no), 0).label("not_satisfied"))
        .select_from(Complaint).outerjoin(fb, fb.c.complaint_id == Complaint.id)
        .where(Complaint.estate_id == estate_id, Complaint.received_at >= start, Complaint.received_at < end)
        .group_by(Complaint.category, Complaint.severity)
    )


async def monthly(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, month: str | None,
                  now: datetime | None = None) -> ComplaintStats:
    estate = await check_estate(session, actor=actor, estate_id=estate_id)
    tz, now = estate_time.estate_zone(estate), now or utcnow()
    month = month or estate_time.month_key(estate_time.today(tz, now=now))
    first = estate_time.parse(month, estate_time.month_first, error=InvalidMonth, field="month")
    start, end = estate_time.month_bounds(month, tz)
    rows = (await session.execute(_query(estate_id, start, end, now))).all()
    per_category = {c: Counts() for c in Category}
    by_severity = {s: 0 for s in Severity}
    total = Counts()
    for row in rows:
        counts = Counts(**{f.name: int(getattr(row, f.name)) for f in fields(Counts)})
        per_category[Category(row.category)].add(counts)
        by_severity[Severity(row.severity)] += counts.received
        total.add(counts)
    return ComplaintStats(
        estate_id=estate_id, month=estate_time.month_key(first), start=first, end=estate_time.month_days(month)[1], as_of=now,
        total=StatsLine(**total.line()),
        by_category=[CategoryLine(category=c, **per_category[c].line()) for c in Category],
        by_severity=by_severity,
    )
