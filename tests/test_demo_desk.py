"""The demo's desk log books: visitors linked to what they led to, nights handed over and taken
over, a duty log for every shift -- consistent with the rules the services enforce."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app import demo
from app.demo.desk import HISTORY_DAYS, desk_history
from app.domain.base import utcnow
from app.domain.calendar.estate_time import day_bounds
from app.domain.desk import diary
from app.domain.desk.model import DutyLogEntry, LinkKind, ShiftHandover, ShiftLogEntry, ShiftStatus, Visitor, VisitorLink
from app.domain.fees.payments.model import Receipt
from app.domain.registry.model import Estate
from app.domain.repairs.model import RequestChannel, ServiceRequest


async def _count(session, model, *where) -> int:
    return (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


@pytest.mark.demo
async def test_weeks_of_desk_books(session, demo_logins):
    assert desk_history in demo.STEPS
    logins = demo_logins
    estates = list((await session.execute(select(Estate).order_by(Estate.code))).scalars())
    assert logins.counts["visitors"] == await _count(session, Visitor) > 50
    # Every walk-in request of the period was a visit, linked to its request.
    for estate in estates:
        since, _ = day_bounds(
            utcnow().astimezone(ZoneInfo(estate.time_zone)).date() - timedelta(days=HISTORY_DAYS), ZoneInfo(estate.time_zone)
        )
        walk_ins = await _count(
            session,
            ServiceRequest,
            ServiceRequest.estate_id == estate.id,
            ServiceRequest.channel == RequestChannel.walk_in,
            ServiceRequest.created_at >= since,
        )
        linked = await _count(session, VisitorLink, VisitorLink.estate_id == estate.id, VisitorLink.kind == LinkKind.service_request)
        assert linked == walk_ins > 0
    # Desk payments in cash were visits too, when the fees step made any.
    if await _count(session, Receipt) > 0:
        assert await _count(session, VisitorLink, VisitorLink.kind == LinkKind.receipt) > 0
    # Every link names a record of its own estate.
    stray = (
        select(func.count())
        .select_from(VisitorLink)
        .join(ServiceRequest, ServiceRequest.id == VisitorLink.target_id)
        .where(ServiceRequest.estate_id != VisitorLink.estate_id)
    )
    assert (await session.execute(stray)).scalar_one() == 0

    for estate in estates:
        by_status = dict(
            (
                await session.execute(
                    select(ShiftHandover.status, func.count()).where(ShiftHandover.estate_id == estate.id).group_by(ShiftHandover.status)
                )
            ).all()
        )
        assert by_status[ShiftStatus.accepted.value] == HISTORY_DAYS - 1
        assert sum(by_status.values()) == HISTORY_DAYS and by_status.get("open", 0) <= 1
    # Accepted shifts left nothing unhandled; the latest waits with an item to hand out.
    unhandled = (
        select(ShiftHandover.status)
        .join(ShiftLogEntry, ShiftLogEntry.shift_id == ShiftHandover.id)
        .where(ShiftLogEntry.needs_follow_up, ShiftLogEntry.follow_up_assignee_id.is_(None), ShiftLogEntry.follow_up_request_id.is_(None))
    )
    states = set((await session.execute(unhandled)).scalars())
    assert ShiftStatus.accepted.value not in states and states
    accepted = (await session.execute(select(ShiftHandover).where(ShiftHandover.status == ShiftStatus.accepted))).scalars().all()
    assert all(s.accepted_by != s.handed_over_by and s.handed_over_at < s.accepted_at for s in accepted)

    assert await _count(session, DutyLogEntry) == HISTORY_DAYS * 3 * len(estates)
    estate = estates[0]
    day = utcnow().astimezone(ZoneInfo(estate.time_zone)).date() - timedelta(days=3)
    start, end = day_bounds(day, ZoneInfo(estate.time_zone))
    counts = await diary.day_counts(session, estate_id=estate.id, start=start, end=end)
    assert counts.requests > 0 and counts.log_entries > 0
