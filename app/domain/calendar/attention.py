"""The calendar's attention rule: a year answered only provisionally, from 1 November before it (§5.1).

The State Council publishes the next year's schedule each November; until an admin enters it,
the roster knows only the statutory days (no 調休), so holiday duty cannot be planned for sure.
"""
from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.attention.rules import Context, Found, Rule, _can, item
from app.domain.auth.roles import Perm
from app.domain.calendar import estate_time
from app.domain.calendar import service as calendar_service
from app.domain.registry.model import Estate

NOTICE_MONTH = 11  # the next year's schedule is looked for from 1 November


def years_to_confirm(today: date) -> list[int]:
    return [today.year, today.year + 1] if today.month >= NOTICE_MONTH else [today.year]


async def _unconfirmed(session: AsyncSession, ctx: Context) -> Found:
    # One item per company and year, filed under the company's first estate in view: the
    # calendar is the company's, and an admin's queue should not repeat it per estate.
    firsts: dict[uuid.UUID, Estate] = {}
    for estate in ctx.estates:
        firsts.setdefault(estate.company_id, estate)
    out = []
    for company_id, estate in firsts.items():
        tz = estate_time.estate_zone(estate)
        today = estate_time.today(tz, now=ctx.now)
        for year in await calendar_service.unconfirmed_years(session, company_id=company_id, years=years_to_confirm(today)):
            out.append(item(ctx, UNCONFIRMED, estate_id=estate.id, deadline=estate_time.year_bounds(year, tz)[0],
                            entity="holiday_calendar", entity_id=str(year), link=f"/api/v1/holiday-calendar/{year}",
                            title=f"{year}年节假日安排未确认（暂按法定节日，无调休），请录入国务院通知"))
    return out, len(out)


UNCONFIRMED = Rule("holiday_calendar_unconfirmed", "§5.1 节假日值班：次年节假日安排（国务院11月通知）须录入后方可排班",
                   _can(Perm.holiday_calendar_manage), _unconfirmed)

RULES: list[Rule] = [UNCONFIRMED]
