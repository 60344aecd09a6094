"""Three weeks of the desk's own log books for the demo: walk-in visitors (linked to the walk-in
repair requests and desk payments the other steps made), the night log with its morning
hand-overs, and the duty log the diary is assembled from.

The latest night is still open before 8:00 and waits to be taken over afterwards, with an item
nobody has been given yet, so the hand-over screen has something to do. Seeded.
"""
from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.domain.auth.model import User
from app.domain.base import utcnow
from app.domain.calendar import estate_time
from app.domain.desk.model import (
    DutyLogEntry,
    LinkKind,
    ShiftHandover,
    ShiftKind,
    ShiftLogEntry,
    ShiftStatus,
    Visitor,
    VisitorLink,
)
from app.domain.fees.payments.model import Payment, PaymentMethod, Receipt, ReceiptSeries
from app.domain.registry.model import Estate, Unit, UnitOwner
from app.domain.repairs.model import RequestChannel, ServiceRequest

if TYPE_CHECKING:
    from app.demo import DemoContext

HISTORY_DAYS = 21
PURPOSES = [("咨询装修申请手续", "给了装修申请表和须知"), ("领取快递", "从前台代收处取走"), ("反映楼上噪音", "记录并答应联系楼上业主"),
            ("办理门禁卡", "登记后补办一张门禁卡"), ("咨询停车位租赁", "介绍了车位价格和空位"), ("询问停水时间", "告知周四9:00-12:00停水")]
NIGHT_EVENTS = [
    ("地下车库", "排水沟积水，有漫出迹象", "放置警示牌", True), ("2号楼电梯", "电梯困人，5分钟后救出", "通知维保单位", True),
    ("东门岗亭", "外来车辆强行进入", "登记车牌后放行", False), ("3号楼楼道", "声控灯不亮", "已拍照", True),
    ("小区花园", "巡查正常", "", False), ("会所", "空调未关", "已关闭", False),
    ("5号楼", "业主来电反映楼上漏水", "上门查看，已关总阀", True),
]
DUTY_NOTES = {
    ShiftKind.morning: ["上午接待来访业主，登记报修", "上午处理报修登记，电话回访", "上午收取物业费，整理报修单"],
    ShiftKind.afternoon: ["下午回访完工业主", "下午整理报修记录本，交款", "下午接待装修咨询"],
    ShiftKind.night: ["夜间巡查三次，情况见夜班记录", "夜间接听报修电话", "夜班巡查正常"],
}


@dataclass
class _Desk:
    estate: Estate
    tz: ZoneInfo
    reception: User
    night: User
    others: list[User]  # technicians and managers, to be given follow-ups
    units: list[Unit]
    rows: dict[str, list[Any]] = field(default_factory=lambda: {k: [] for k in ("visitors", "visitor_links", "shift_handovers",
                                                                               "shift_log_entries", "duty_log_entries")})

    def local(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=self.tz)


async def desk_history(ctx: DemoContext) -> None:
    now = utcnow()
    rng = random.Random(ctx.rng.random())
    for estate in ctx.estates:
        d = _view(ctx, estate)
        today = estate_time.today(d.tz, now=now)
        await _visitors(ctx, rng, d, since=today - timedelta(days=HISTORY_DAYS), now=now)
        for days_ago in range(HISTORY_DAYS, 0, -1):
            _night(rng, d, day=today - timedelta(days=days_ago), now=now, latest=days_ago == 1)
            _duty(rng, d, day=today - timedelta(days=days_ago))
        # No ORM relationships, so the unit of work does not order inserts by foreign key.
        for kind, rows in d.rows.items():
            ctx.add(kind, rows)
            await ctx.session.flush()


def _view(ctx: DemoContext, estate: Estate) -> _Desk:
    code = estate.code.lower()
    users = {u.username: u for u in ctx.users}
    others = [users[f"{code}.{n}"] for n in ("tech1", "tech2", "tech3", "manager", "manager2")]
    return _Desk(estate=estate, tz=estate_time.estate_zone(estate), reception=users[f"{code}.reception"], night=users[f"{code}.night"],
                 others=others, units=[u for u in ctx.units if u.estate_id == estate.id and not u.is_public])


async def _visitors(ctx: DemoContext, rng: random.Random, d: _Desk, *, since: date, now: datetime) -> None:
    """Each walk-in request was a visit; some desk payments too; and the visits that made no record."""
    start = d.local(since, 0)
    owners = dict((await ctx.session.execute(
        select(UnitOwner.unit_id, UnitOwner.owner_id).where(UnitOwner.estate_id == d.estate.id, UnitOwner.is_primary))).all())
    walk_ins = (await ctx.session.execute(select(ServiceRequest).where(
        ServiceRequest.estate_id == d.estate.id, ServiceRequest.channel == RequestChannel.walk_in,
        ServiceRequest.created_at >= start))).scalars()
    for request in walk_ins:
        _visit(d, at=request.created_at - timedelta(minutes=5), unit_id=request.unit_id, owner_id=request.owner_id,
               purpose=f"报修：{request.description}"[:200], action="登记报修并派工", links=[(LinkKind.service_request, request.id)])
    paid = (await ctx.session.execute(
        select(Receipt, Payment).join(Payment, Payment.id == Receipt.payment_id)
        .where(Receipt.estate_id == d.estate.id, Receipt.series == ReceiptSeries.receipt, Receipt.issued_at >= start,
               Payment.method == PaymentMethod.cash))).all()
    for receipt, payment in paid:
        if rng.random() < 0.5:
            _visit(d, at=receipt.issued_at - timedelta(minutes=3), unit_id=receipt.unit_id, owner_id=owners.get(receipt.unit_id),
                   purpose="缴纳物业费", action=f"收款并开具收据 {receipt.number}",
                   links=[(LinkKind.payment, payment.id), (LinkKind.receipt, receipt.id)])
    for offset in range((estate_time.today(d.tz, now=now) - since).days + 1):
        day = since + timedelta(days=offset)
        for _ in range(rng.randint(0, 3)):
            at = d.local(day, rng.choice([8, 9, 10, 11, 14, 15, 16, 17]), rng.randrange(60))
            if at < now:
                unit = rng.choice(d.units)
                purpose, action = rng.choice(PURPOSES)
                _visit(d, at=at, unit_id=unit.id, owner_id=owners.get(unit.id), purpose=purpose, action=action, links=[])


def _visit(d: _Desk, *, at: datetime, unit_id: uuid.UUID | None, owner_id: uuid.UUID | None, purpose: str, action: str,
           links: list[tuple[LinkKind, uuid.UUID]]) -> None:
    visitor = Visitor(estate_id=d.estate.id, created_at=at, visited_at=at, visitor_name="业主" if owner_id else "访客",
                      unit_id=unit_id, owner_id=owner_id, purpose=purpose, action_taken=action, received_by=d.reception.id)
    d.rows["visitors"].append(visitor)
    d.rows["visitor_links"] += [VisitorLink(estate_id=d.estate.id, created_at=at, visitor_id=visitor.id, kind=kind, target_id=target,
                                            linked_by=d.reception.id) for kind, target in links]


def _night(rng: random.Random, d: _Desk, *, day: date, now: datetime, latest: bool) -> None:
    """The night from 18:00 on `day` to 8:00 next morning, handed over at 8:00 and taken over by 8:10."""
    opened, handed, taken = d.local(day, 18), d.local(day + timedelta(days=1), 8), d.local(day + timedelta(days=1), 8, 8)
    if opened > now:
        return
    shift = ShiftHandover(estate_id=d.estate.id, created_at=opened, shift_date=day, shift=ShiftKind.night, opened_by=d.night.id)
    d.rows["shift_handovers"].append(shift)
    events = rng.sample(NIGHT_EVENTS, rng.randint(1, 3))
    if latest:
        events = [NIGHT_EVENTS[0], *[e for e in events if e != NIGHT_EVENTS[0]]]  # one item for the morning to hand out
    for place, what, action, follow_up in events:
        at = opened + timedelta(minutes=rng.randrange(13 * 60))
        entry = ShiftLogEntry(estate_id=d.estate.id, created_at=min(at, now), shift_id=shift.id, occurred_at=min(at, now),
                              place=place, what=what, action_taken=action, needs_follow_up=follow_up, logged_by=d.night.id)
        d.rows["shift_log_entries"].append(entry)
        if follow_up and not latest:
            entry.follow_up_assignee_id, entry.follow_up_by, entry.follow_up_at = rng.choice(d.others).id, d.reception.id, taken
            entry.follow_up_note = "上午处理"
    if handed > now:
        return  # the night is still going
    shift.status, shift.next_shift = ShiftStatus.handed_over, ShiftKind.morning
    shift.handed_over_by, shift.handed_over_at, shift.hand_over_note = d.night.id, handed, "夜班记录已交"
    if not latest:
        shift.status, shift.accepted_by, shift.accepted_at, shift.accept_note = ShiftStatus.accepted, d.reception.id, taken, "已接班"


def _duty(rng: random.Random, d: _Desk, *, day: date) -> None:
    shifts = ((d.reception, ShiftKind.morning, 11), (d.reception, ShiftKind.afternoon, 17), (d.night, ShiftKind.night, 23))
    for staff, shift, hour in shifts:
        at = d.local(day, hour, rng.randrange(60))
        d.rows["duty_log_entries"].append(DutyLogEntry(estate_id=d.estate.id, created_at=at, staff_id=staff.id, shift_date=day,
                                                       shift=shift, text=rng.choice(DUTY_NOTES[shift])))
