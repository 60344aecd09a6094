"""Four weeks of owners' complaints for the demo, in every state of their life.

Each complaint is walked through the aggregate's own verbs (assign, steps, resolve, the
owner's feedback, escalation, withdrawal), so the disposition forms obey the transition
table; where a deadline passed before the work was done, it is escalated at the 08:30 after
it, as the daily job would have. The newest complaints of each estate are given the states
a demo must show (registered, assigned, in progress, escalated, resolved, reopened,
withdrawn); the older ones mostly ended closed. Seeded.
"""
from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.domain.auth.model import User
from app.domain.base import utcnow
from app.domain.calendar import estate_time
from app.domain.complaints.model import (
    DEFAULT_WINDOWS,
    OPEN_STATES,
    Category,
    Complaint,
    ComplaintChannel,
    ComplaintStatus,
    ComplaintStep,
    Severity,
    deadline_for,
)
from app.domain.fees.payments.model import DocumentCounter
from app.domain.registry.model import Estate, UnitOwner

if TYPE_CHECKING:
    from app.demo import DemoContext

HISTORY_DAYS = 28
S = ComplaintStatus
JOB_TIME = time(8, 30)

# (category, what the owner said, what was done, how it was resolved)
STORIES = [
    (Category.noise, "楼上夜间装修噪音，晚上十一点后仍在施工", "上门提醒楼上业主装修时间规定", "楼上业主承诺晚八点后停工"),
    (Category.repair_delay, "报修三天了维修师傅还没上门", "联系维修班组长确认排期", "次日上午已上门修好"),
    (Category.repair_quality, "水龙头修过后又开始漏水", "安排原维修师傅返修", "更换阀芯，业主确认不漏"),
    (Category.service_attitude, "前台接电话态度生硬", "找当班前台了解情况", "当面向业主致歉，前台已做培训"),
    (Category.fees, "物业费账单面积与房产证不符", "调取房产证复印件核对面积", "按房产证面积更正账单"),
    (Category.security, "外来人员随意进出单元门", "调取门禁记录，约谈保安班长", "加强门岗登记，维修单元门禁"),
    (Category.cleaning, "楼道垃圾两天没人清理", "通知保洁主管", "当日清理，增加一次巡查"),
    (Category.parking, "车位被陌生车辆长期占用", "查找车主并电话联系", "车主已挪车，张贴提示"),
    (Category.facilities, "小区健身器材损坏有安全隐患", "现场拍照并围挡", "器材已更换"),
    (Category.other, "快递柜经常满，取件不便", "与快递柜运营方沟通", "增加一组快递柜"),
]
FORCED = [S.registered, S.assigned, S.in_progress, S.escalated, S.resolved, S.reopened, S.withdrawn]
PLANS = {
    S.registered: [], S.assigned: ["assign"], S.in_progress: ["assign", "step"],
    S.escalated: ["assign", "step", "escalate"], S.resolved: ["assign", "step", "resolve"],
    S.reopened: ["assign", "step", "resolve", "unhappy"], S.withdrawn: ["assign", "withdraw"],
    S.closed: ["assign", "step", "step", "resolve", "happy"],
}
REOPENED_THEN_CLOSED = ["assign", "step", "resolve", "unhappy", "assign", "step", "resolve", "happy"]


@dataclass
class _Desk:
    estate: Estate
    tz: ZoneInfo
    desk: list[User]
    handlers: list[User]
    director: User
    owner_units: list[tuple[uuid.UUID, uuid.UUID]]  # (unit, owner)
    complaints: list[Complaint] = field(default_factory=list)
    steps: list[ComplaintStep] = field(default_factory=list)


async def complaint_history(ctx: DemoContext) -> None:
    now = utcnow()
    rng = random.Random(ctx.rng.random())
    for estate in ctx.estates:
        d = await _view(ctx, estate)
        local_now = now.astimezone(d.tz)
        received = sorted(
            (datetime.combine((local_now - timedelta(days=ago)).date(), time(rng.randint(8, 20), rng.randrange(60)), tzinfo=d.tz)
             for ago in range(HISTORY_DAYS, -1, -1) for _ in range(rng.choice([0, 1, 1, 2]))),
        )
        received = [r for r in received if r < now - timedelta(minutes=30)]
        counters: dict[int, int] = {}
        targets = _targets(rng, len(received))
        for at, target in zip(received, targets, strict=True):
            year = at.year
            counters[year] = counters.get(year, 0) + 1
            _one(rng, d, received=at, number=f"TS-{year}-{counters[year]:04d}", target=target, now=now)
        ctx.add("complaints", d.complaints)
        await ctx.session.flush()
        ctx.add("complaint_steps", d.steps)
        ctx.add("document_counters", [DocumentCounter(estate_id=estate.id, series="complaint", year=y, last_seq=n)
                                      for y, n in counters.items()])
        await ctx.session.flush()


def _targets(rng: random.Random, n: int) -> list[S | str]:
    """Oldest first; the newest few get the states the demo must show."""
    older = [rng.choices([S.closed, "reopened_then_closed", S.resolved, S.withdrawn], weights=[70, 12, 12, 6])[0]
             for _ in range(max(0, n - len(FORCED)))]
    return [*older, *list(reversed(FORCED))[-n:]] if n else []


async def _view(ctx: DemoContext, estate: Estate) -> _Desk:
    code = estate.code.lower()
    users = {u.username: u for u in ctx.users}
    rows = (await ctx.session.execute(
        select(UnitOwner.unit_id, UnitOwner.owner_id).where(UnitOwner.estate_id == estate.id, UnitOwner.is_primary)
        .order_by(UnitOwner.unit_id))).all()
    return _Desk(estate=estate, tz=estate_time.estate_zone(estate),
                 desk=[users[f"{code}.reception"], users[f"{code}.night"]],
                 handlers=[users[f"{code}.{s}"] for s in ("manager", "manager2", "supervisor", "reception")],
                 director=users[f"{code}.director"], owner_units=[(u, o) for u, o in rows])


def _one(rng: random.Random, d: _Desk, *, received: datetime, number: str, target: S | str, now: datetime) -> None:
    category, said, done, resolution = rng.choice(STORIES)
    severity = rng.choices(list(Severity), weights=[20, 55, 18, 7])[0] if target not in FORCED else Severity.normal
    unit_id, owner_id = rng.choice(d.owner_units) if d.owner_units else (None, None)
    desk = rng.choice(d.desk)
    c = Complaint(estate_id=d.estate.id, number=number, owner_id=owner_id, unit_id=unit_id, created_at=received,
                  channel=rng.choices(list(ComplaintChannel), weights=[55, 25, 5, 10, 5])[0], category=category, severity=severity,
                  description=said, received_at=received, deadline=deadline_for(received, DEFAULT_WINDOWS[severity], d.tz),
                  registered_by=desk.id)
    d.complaints.append(c)
    plan = REOPENED_THEN_CLOSED if target == "reopened_then_closed" else PLANS[S(target)]
    span = min(now - timedelta(minutes=5) - received, timedelta(days=rng.uniform(1.5, 9)))
    for i, verb in enumerate(plan, start=1):
        at = received + span * (i / (len(plan) + 0.5)) + timedelta(minutes=rng.randrange(-20, 20))
        at = min(max(at, received + timedelta(minutes=1)), now - timedelta(minutes=1))
        _as_the_job(d, c, before=at)
        _verb(rng, d, c, verb, at=at, done=done, resolution=resolution)
    _as_the_job(d, c, before=now)


def _as_the_job(d: _Desk, c: Complaint, *, before: datetime) -> None:
    """Escalate at the first 08:30 after the deadline, if that came before `before`."""
    if S(c.status) not in OPEN_STATES or S(c.status) is S.escalated:
        return
    local = c.deadline.astimezone(d.tz)
    run = datetime.combine(local.date(), JOB_TIME, tzinfo=d.tz)
    if run <= local:
        run += timedelta(days=1)
    if run < before:
        d.steps.append(c.escalate(reason=f"Overdue: deadline {c.deadline.isoformat()} passed without a resolution",
                                  by=None, at=run))


def _verb(rng: random.Random, d: _Desk, c: Complaint, verb: str, *, at: datetime, done: str, resolution: str) -> None:
    desk = rng.choice(d.desk)
    if verb == "assign":
        d.steps.append(c.assign(handler_id=rng.choice(d.handlers).id, note="请尽快处理", by=d.director.id, at=at))
    elif verb == "step":
        d.steps.append(c.add_step(note=done, done_by=c.handler_id, done_at=at, by=desk.id))
    elif verb == "resolve":
        d.steps.append(c.resolve(resolution=resolution, by=d.director.id, at=at))
    elif verb in ("happy", "unhappy"):
        window = DEFAULT_WINDOWS[Severity(c.severity)]
        d.steps.append(c.record_feedback(satisfied=verb == "happy", note="" if verb == "happy" else "问题还没有解决",
                                         by=desk.id, at=at, new_deadline=deadline_for(at, window, d.tz)))
    elif verb == "escalate" and S(c.status) is not S.escalated:
        d.steps.append(c.escalate(reason="业主要求客服部主任出面处理", by=desk.id, at=at))
    elif verb == "withdraw":
        d.steps.append(c.withdraw(reason="业主表示问题已自行解决，撤回投诉", by=desk.id, at=at))
