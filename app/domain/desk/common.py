"""What the desk's log books share: staff names, the estate's staff, the estate-local day."""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.model import User, UserEstate
from app.domain.auth.principal import Actor
from app.domain.base import utcnow
from app.domain.calendar import estate_time
from app.domain.errors import Forbidden, Invalid
from app.domain.registry.model import Estate

# Clocks of phones and PCs at the desk drift; a minute or two ahead is not "the future".
CLOCK_SKEW = timedelta(minutes=5)


class StaffNotInEstate(Invalid):
    title = "The staff member is not an active user of this estate"
    title_zh = "该员工不是本小区的在职用户"


class InTheFuture(Invalid):
    title = "A log book records what has happened: the time or day is in the future"
    title_zh = "值班记录只记已发生的事：时间或日期在未来"


class NeedsPerson(Forbidden):
    title = "Only a signed-in staff member writes the desk's log books"
    title_zh = "只有已登录的员工本人才能填写前台值班记录"


def person(actor: Actor) -> uuid.UUID:
    """The staff member writing: log books are signed by a person, never a key or the job clock."""
    if actor.id is None or actor.is_api_key:
        raise NeedsPerson()
    return actor.id


async def user_names(session: AsyncSession, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID | None, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(User.id, User.full_name).where(User.id.in_(wanted)))
    return {row.id: row.full_name for row in rows}


async def check_staff(session: AsyncSession, *, estate_id: uuid.UUID, user_id: uuid.UUID, field: str) -> None:
    stmt = (select(User.id).join(UserEstate, UserEstate.user_id == User.id)
            .where(User.id == user_id, User.is_active, UserEstate.estate_id == estate_id))
    if (await session.execute(stmt)).scalar_one_or_none() is None:
        raise StaffNotInEstate(field=field)


def past_instant(at: datetime | None, *, field: str) -> datetime:
    now = utcnow()
    if at is None:
        return now
    if at > now + CLOCK_SKEW:
        raise InTheFuture(field=field)
    return at


def past_day(estate: Estate, day: date | None, *, field: str) -> date:
    today = estate_time.today(estate)
    if day is None:
        return today
    if day > today:
        raise InTheFuture(field=field)
    return day

