"""Five weeks of repair history for the demo, so every repair report shows real content.

The history ends now: old orders are called back (most in time, some late, some never),
last days' orders are still on the way, today's wait for dispatch. Seeded, so two loads
on the same day give the same shape.
"""
from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import Range

from app.domain.auth.model import User
from app.domain.base import utcnow
from app.domain.calendar import estate_time
from app.domain.callbacks.model import Callback, CallbackStatus
from app.domain.fees.payments.model import DocumentCounter
from app.domain.registry.model import Estate, OwnerPhone, Unit, UnitOwner
from app.domain.repairs import numbers
from app.domain.repairs.model import (
    RequestChannel,
    RequestKind,
    RequestStatus,
    ServiceRequest,
    Urgency,
    WorkOrder,
    WorkOrderStatus,
)
from app.domain.repairs.orders.owner_code_model import OwnerCode, OwnerCodeStatus
from app.domain.repairs.orders.schedule_model import Booking
from app.domain.repairs.vouchers.model import ConfirmedBy, Voucher

if TYPE_CHECKING:
    from app.demo import DemoContext

HISTORY_DAYS = 35
S = WorkOrderStatus

# (category, description, minutes, chargeable amount or None)
JOBS = [
    ("plumbing", "厨房水龙头漏水", 40, None),
    ("plumbing", "卫生间下水道堵塞", 60, "80.00"),
    ("plumbing", "马桶水箱不停进水", 35, None),
    ("plumbing", "热水器进水管渗水", 50, "45.00"),
    ("electrical", "客厅插座没电", 30, None),
    ("electrical", "卫生间浴霸开关损坏", 45, "60.00"),
    ("electrical", "入户空气开关频繁跳闸", 70, None),
    ("doors_windows", "入户门锁芯卡住", 30, "120.00"),
    ("doors_windows", "阳台推拉窗滑轮脱落", 50, None),
    ("doors_windows", "卧室门合页松动", 25, None),
    ("other", "空调冷凝水管脱落", 30, None),
]
PUBLIC_JOBS = [
    ("public_area", "电梯厅照明灯不亮"),
    ("public_area", "楼道声控灯失灵"),
    ("public_area", "单元门禁无法刷卡"),
    ("public_area", "地下车库排水沟堵塞"),
]
ENQUIRIES = ["咨询物业费缴费方式", "询问停水通知时间", "咨询装修申请手续"]


KINDS = ("service_requests", "work_orders", "bookings", "owner_codes", "vouchers", "callbacks")
# An in-unit repair was signed off with the owner's one-time code, long used: its hash need never
# verify again, so the demo stores a marker no code matches (hashing hundreds would take minutes).
USED_CODE = "!demo-code-used"


@dataclass
class _Estate:
    estate: Estate
    tz: ZoneInfo
    units: list[Unit]
    technicians: list[User]
    receptionist: User
    owner_of: dict[uuid.UUID, tuple[uuid.UUID, str]]  # unit -> (owner, phone)
    rows: dict[str, list[Any]] = field(default_factory=lambda: {k: [] for k in KINDS})
    held: dict[uuid.UUID, list[tuple[datetime, datetime]]] = field(default_factory=dict)  # technician -> booked times
    booked_ahead: bool = False  # an order is dispatched for tomorrow
    left_waiting: bool = False  # an open order waits for dispatch

    def add(self, kind: str, rows: list[Any]) -> None:
        self.rows[kind] += rows

    def free_technician(self, rng: random.Random, start: datetime, end: datetime) -> User | None:
        """One with nothing booked over [start, end): the booking table refuses a double booking."""
        for tech in rng.sample(self.technicians, len(self.technicians)):
            if all(end <= s or e <= start for s, e in self.held.get(tech.id, [])):
                return tech
        return None

    def book(self, order: WorkOrder, tech: User, start: datetime, end: datetime) -> None:
        """The booking dispatch.book writes for the order, as end_bookings leaves it once the work is done."""
        self.held.setdefault(tech.id, []).append((start, end))
        self.add("bookings", [Booking(estate_id=self.estate.id, technician_id=tech.id, work_order_id=order.id,
                                      during=Range(start, end, bounds="[)"))])


async def repair_history(ctx: DemoContext) -> None:
    now = utcnow()
    rng = random.Random(ctx.rng.random())
    for estate in ctx.estates:
        e = await _estate_view(ctx, estate)
        local_now = now.astimezone(e.tz)
        # The desk's latest working day keeps its business open, whatever the hour of the load.
        last_day = local_now.date() if local_now.hour >= 10 else local_now.date() - timedelta(days=1)
        for days_ago in range(HISTORY_DAYS, -1, -1):
            day = (local_now - timedelta(days=days_ago)).date()
            if day.weekday() == 6 and day != last_day and rng.random() < 0.6:
                continue  # Sundays are quiet
            for _ in range(rng.randint(4, 8)):
                _one_request(rng, e, day=day, now=now, still_open=day >= last_day)
        _number(ctx, e)
        # No ORM relationships, so the unit of work does not order inserts by foreign key.
        for kind in KINDS:
            ctx.add(kind, e.rows[kind])
            await ctx.session.flush()


async def _estate_view(ctx: DemoContext, estate: Estate) -> _Estate:
    code = estate.code.lower()
    users = {u.username: u for u in ctx.users}
    rows = (await ctx.session.execute(
        select(UnitOwner.unit_id, UnitOwner.owner_id, OwnerPhone.phone)
        .join(OwnerPhone, OwnerPhone.owner_id == UnitOwner.owner_id)
        .where(UnitOwner.estate_id == estate.id, UnitOwner.is_primary)
    )).all()
    owner_of = {unit_id: (owner_id, phone) for unit_id, owner_id, phone in rows}
    return _Estate(
        estate=estate, tz=estate_time.estate_zone(estate),
        units=[u for u in ctx.units if u.estate_id == estate.id],
        technicians=[users[f"{code}.tech{i}"] for i in (1, 2, 3)],
        receptionist=users[f"{code}.reception"], owner_of=owner_of,
    )


def _number(ctx: DemoContext, e: _Estate) -> None:
    """Number requests and orders (made with number "") in creation order per local year, and leave the counters
    where they stopped, as the intake service would have."""
    for kind, series in (("service_requests", numbers.Series.service_request), ("work_orders", numbers.Series.work_order)):
        last: dict[int, int] = {}
        for row in sorted(e.rows[kind], key=lambda r: (r.created_at, r.id)):
            year = row.created_at.astimezone(e.tz).year
            seq = last[year] = last.get(year, 0) + 1
            row.number = numbers.format_number(estate_code=e.estate.code, series=series, year=year, seq=seq)
        ctx.add("document_counters", [DocumentCounter(estate_id=e.estate.id, series=series.value, year=year, last_seq=seq)
                                      for year, seq in last.items()])


def _at(e: _Estate, day: date, rng: random.Random) -> datetime:
    hour = rng.choice([8, 9, 10, 11, 14, 15, 16, 17])
    return datetime.combine(day, time(hour, rng.randrange(60)), tzinfo=e.tz)


def _one_request(rng: random.Random, e: _Estate, *, day: date, now: datetime, still_open: bool) -> None:
    created = _at(e, day, rng)
    if created > now:
        return
    roll = rng.random()
    if roll < 0.08:
        _enquiry(rng, e, created=created)
        return
    public = roll < 0.22
    unit = rng.choice([u for u in e.units if u.is_public] if public else e.units)
    owner_id, phone = e.owner_of.get(unit.id, (None, "")) if not public else (None, "")
    if public:
        category, text = rng.choice(PUBLIC_JOBS)
        minutes, amount = 45, None
    else:
        category, text, minutes, amount = rng.choice(JOBS)
    patrols = [RequestChannel.manager_patrol, RequestChannel.technician_patrol]
    channel = rng.choice([RequestChannel.phone] * 6 + [RequestChannel.walk_in] * 2 + patrols) \
        if not public else rng.choice([RequestChannel.manager_patrol, RequestChannel.technician_patrol, RequestChannel.phone])
    request = ServiceRequest(
        estate_id=e.estate.id, created_at=created, number="", channel=channel, category=category, description=text,
        unit_id=unit.id, owner_id=owner_id, is_public_area=public, contact_phone=phone,
        urgency=Urgency.urgent if rng.random() < 0.1 else Urgency.normal,
        registered_by=e.receptionist.id,
        reporter_id=e.receptionist.id if channel in (RequestChannel.phone, RequestChannel.walk_in) else rng.choice(e.technicians).id,
        status=RequestStatus.ordered,
    )
    e.add("service_requests", [request])
    order = WorkOrder(estate_id=e.estate.id, created_at=created, number="", request_id=request.id, category=category,
                      unit_id=unit.id, building_id=unit.building_id, is_public_area=public)
    e.add("work_orders", [order])
    if still_open:
        _open(rng, e, order, now=now)
    else:
        _progress(rng, e, order, created=created, now=now, minutes=minutes, amount=amount)


def _open(rng: random.Random, e: _Estate, order: WorkOrder, *, now: datetime) -> None:
    """Today's business: waiting for dispatch, booked for the next office slots, or under way.

    The day's first open order is booked for tomorrow and the next one waits, so the desk's
    screens always show a booking and something to dispatch, at whatever hour the demo loads."""
    roll = 1.0 if not e.booked_ahead else 0.0 if not e.left_waiting else rng.random()
    if roll < 0.4:
        e.left_waiting = True
        return
    if roll < 0.6:
        start = now - timedelta(minutes=20)
    else:
        start = datetime.combine(estate_time.today(e.tz, now=now) + timedelta(days=1), time(rng.choice([8, 9, 10, 14, 15, 16])),
                                 tzinfo=e.tz)
    end = start + timedelta(hours=1)
    tech = e.free_technician(rng, start, end)
    if tech is None:
        return  # everyone is booked then: it waits for dispatch
    order.technician_id, order.dispatched_at, order.accepted_at = tech.id, now - timedelta(minutes=30), now - timedelta(minutes=20)
    order.status, order.scheduled_start, order.scheduled_end = S.dispatched, start, end
    if roll < 0.6:
        order.status, order.started_at = S.in_progress, start
    e.booked_ahead = e.booked_ahead or roll >= 0.6
    e.book(order, tech, start, end)


def _enquiry(rng: random.Random, e: _Estate, *, created: datetime) -> None:
    request = ServiceRequest(
        estate_id=e.estate.id, created_at=created, number="", kind=RequestKind.enquiry, channel=RequestChannel.phone, category="other",
        description=rng.choice(ENQUIRIES), registered_by=e.receptionist.id, status=RequestStatus.closed_at_desk,
        closed_note="已电话答复", closed_at=created + timedelta(minutes=3),
    )
    e.add("service_requests", [request])


def _progress(rng: random.Random, e: _Estate, order: WorkOrder, *, created: datetime, now: datetime,
              minutes: int, amount: str | None) -> None:
    """Walk the order as far as its age allows, stamping each step."""
    age = now - created
    if rng.random() < 0.03:
        order.status, order.cancelled_at, order.cancel_reason = S.cancelled, created + timedelta(hours=1), "业主自行修好"
        return
    start = created + timedelta(hours=rng.choice([1, 2, 3, 20]))
    if age < timedelta(hours=1) or (age < timedelta(hours=4) and rng.random() < 0.5):
        return  # still waiting for dispatch
    end, done = start + timedelta(hours=1), start + timedelta(minutes=minutes)
    # Finished, the booking keeps only the time worked (end_bookings); until then the whole window.
    held_to = min(end, done) if done <= now else end
    tech = e.free_technician(rng, start, held_to)
    if tech is None:
        return  # every technician is booked then: still waiting for dispatch
    order.technician_id, order.dispatched_at, order.accepted_at = tech.id, created + timedelta(minutes=20), created + timedelta(minutes=30)
    order.scheduled_start, order.scheduled_end = start, end
    order.status = S.dispatched
    e.book(order, tech, start, held_to)
    if now < done:
        if now >= start:
            order.status, order.started_at = S.in_progress, start
        return
    order.status, order.started_at = S.completed, start
    order.completed_at = start + timedelta(minutes=minutes)
    e.add("vouchers", [Voucher(
        estate_id=e.estate.id, work_order_id=order.id, technician_id=tech.id, work_done=f"已处理：{order.category}",
        minutes_spent=minutes, chargeable=amount is not None, amount=Decimal(amount or "0.00"), is_public_area=order.is_public_area,
        owner_confirmed_name="" if order.is_public_area else "业主", posted_at=order.completed_at,
        owner_confirmed_by=ConfirmedBy.none if order.is_public_area else ConfirmedBy.code,
    )])
    if not order.is_public_area:
        issued = order.dispatched_at  # stamped when the order was dispatched, above
        e.add("owner_codes", [OwnerCode(
            estate_id=e.estate.id, work_order_id=order.id, code_hash=USED_CODE, status=OwnerCodeStatus.consumed,
            issued_at=issued, issued_by=e.receptionist.id, expires_at=issued + timedelta(hours=72),
            consumed_at=order.completed_at)])
    callback = Callback.for_completed_order(order, tz=e.tz)
    e.add("callbacks", [callback])
    _call_back(rng, order, callback, now=now, caller=e.receptionist)


def _call_back(rng: random.Random, order: WorkOrder, callback: Callback, *, now: datetime, caller: User) -> None:
    """Most owners are rung within the week; some late, some never (the rate hovers near 60-75%)."""
    assert order.completed_at is not None  # called back once completed
    roll = rng.random()
    if roll < 0.7:
        done = order.completed_at + timedelta(days=rng.uniform(0.5, 6.5))
    elif roll < 0.8:
        done = callback.due_at + timedelta(days=rng.uniform(0.2, 3))
    else:
        return
    if done >= now:
        return
    callback.status, callback.done_at, callback.done_by = CallbackStatus.done, done, caller.id
    order.status, order.callback_done_at = S.callback_done, done
