"""The desk's own records for the demo: three weeks of sign-ins, the holiday duty roster, rental listings.

Seeded like the rest of the demo; the history ends yesterday (estate-local), so nothing is
dated in the future whatever the hour of the load.
"""
from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select

from app.domain.attendance import rules
from app.domain.attendance.model import AttendanceRecord, DutyAssignment, Shift
from app.domain.auth.model import User
from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.calendar import days as calendar_days
from app.domain.calendar import estate_time
from app.domain.registry.model import Estate, UnitOwner
from app.domain.rentals.model import ContactPreference, Furnishing, RentalEntrustment, RentalStatus

if TYPE_CHECKING:
    from app.demo import DemoContext

HISTORY_DAYS = 21
ROSTER_AHEAD_DAYS = 92
LATE_SHARE = 0.08
EARLY_SHARE = 0.05
ABSENT_SHARE = 0.05
FORGOT_SIGN_OUT_SHARE = 0.02
# Listings per estate: every state, most of them on offer.
STATES = [RentalStatus.open] * 3 + [RentalStatus.reserved, RentalStatus.let, RentalStatus.withdrawn]
LAYOUTS = [(1, 1, 1), (2, 1, 1), (2, 2, 1), (3, 2, 1), (3, 2, 2), (4, 2, 2)]
DESCRIPTIONS = ["南北通透，采光好", "近地铁口，拎包入住", "新装修未住人", "带车位，可短租", "家电齐全，小区安静", "楼层适中，视野开阔"]


def _calendar_day(day: date) -> calendar_days.CalendarDay:
    # The demo company is new: it has entered no calendar, so the libraries answer.
    return calendar_days.resolve(day, None)


def _workday(day: date) -> bool:
    return _calendar_day(day).is_workday


def _staff_of(ctx: DemoContext, estate: Estate) -> list[User]:
    return [u for u in ctx.users if ctx.user_estates.get(u.id) == [estate.code] and Role.admin.value not in u.roles]


def _shift(rng: random.Random, estate: Estate, user: User, shift: Shift, day: date) -> AttendanceRecord | None:
    tz = estate_time.estate_zone(estate)
    times = rules.shift_times(rules.OfficeHours.of(estate), shift, day, tz)
    if rng.random() < ABSENT_SHARE:
        return None
    late = rng.random() < LATE_SHARE
    signed_in = times.due_by + timedelta(seconds=rng.randint(60, 1800) if late else -rng.randint(0, 1200))
    row = AttendanceRecord(estate_id=estate.id, user_id=user.id, day=day, shift=shift, due_by=times.due_by,
                           shift_end=times.closes, signed_in_at=signed_in, created_at=signed_in)
    minutes = rules.minutes_late(times, signed_in)
    row.late, row.late_minutes = minutes > 0, minutes
    if rng.random() >= FORGOT_SIGN_OUT_SHARE:
        early = rng.random() < EARLY_SHARE
        out = times.closes + timedelta(seconds=-rng.randint(300, 3600) if early else rng.randint(0, 900))
        row.sign_out(at=out, note="家中有事" if early else "")
    return row


async def attendance_history(ctx: DemoContext) -> None:
    """Three weeks of sign-ins for every estate's staff, and the holiday roster around them."""
    rng = random.Random(ctx.rng.random())
    now = utcnow()
    for estate in ctx.estates:
        today = estate_time.today(estate, now=now)
        staff = _staff_of(ctx, estate)
        rows = [row for days_ago in range(HISTORY_DAYS, 0, -1) for day in [today - timedelta(days=days_ago)] if _workday(day)
                for user in staff for shift in Shift if (row := _shift(rng, estate, user, shift, day)) is not None]
        ctx.add("attendance_records", rows)
        ctx.add("duty_assignments", _roster(rng, estate, staff, today))
    await ctx.session.flush()


def _roster(rng: random.Random, estate: Estate, staff: list[User], today: date) -> list[DutyAssignment]:
    """Past holidays were covered; of the coming ones the first few are, the rest still wait for the supervisor."""
    desk = [u for u in staff if {Role.receptionist.value, Role.night_duty.value, Role.supervisor.value} & set(u.roles)]
    holidays = [d for i in range(-HISTORY_DAYS, ROSTER_AHEAD_DAYS) for d in [today + timedelta(days=i)]
                if _calendar_day(d).needs_duty_roster]
    supervisor = next((u.id for u in staff if Role.supervisor.value in u.roles), None)
    rows = []
    for n, day in enumerate(holidays):
        if day >= today and n % 3 == 2:
            continue  # leave a gap: the roster flags it and the morning job reports it
        for user in rng.sample(desk, k=min(2, len(desk))):
            rows.append(DutyAssignment(estate_id=estate.id, day=day, user_id=user.id, assigned_by=supervisor,
                                       note=rng.choice(["白班", "全天", "上午班", "下午班"])))
    return rows


async def rental_listings(ctx: DemoContext) -> None:
    """A dozen entrustments over the two estates, in every state, taken in over the last weeks."""
    rng = random.Random(ctx.rng.random())
    now = utcnow()
    for estate in ctx.estates:
        owned = (await ctx.session.execute(
            select(UnitOwner.unit_id, UnitOwner.owner_id).where(UnitOwner.estate_id == estate.id, UnitOwner.is_primary)
            .order_by(UnitOwner.unit_id))).all()
        agency = next((u.id for u in _staff_of(ctx, estate) if Role.agency.value in u.roles), None)
        picks = rng.sample(owned, k=min(len(STATES), len(owned)))
        ctx.add("rental_entrustments", [_listing(rng, estate, unit_id, owner_id, state, agency=agency, now=now)
                                        for (unit_id, owner_id), state in zip(picks, STATES, strict=False)])
    await ctx.session.flush()


def _listing(rng: random.Random, estate: Estate, unit_id: uuid.UUID, owner_id: uuid.UUID, state: RentalStatus, *,
             agency: uuid.UUID | None, now: datetime) -> RentalEntrustment:
    bedrooms, living, baths = rng.choice(LAYOUTS)
    taken_in = now - timedelta(days=rng.randint(8, 40), hours=rng.randint(0, 8))
    rent = Decimal(1200 + 600 * bedrooms + rng.randrange(0, 800, 50)).quantize(Decimal("0.01"))
    row = RentalEntrustment(
        estate_id=estate.id, unit_id=unit_id, owner_id=owner_id, asking_rent=rent, bedrooms=bedrooms, living_rooms=living,
        bathrooms=baths, furnishing=rng.choice(list(Furnishing)), created_at=taken_in, taken_by=agency,
        available_from=(taken_in + timedelta(days=rng.randint(0, 45))).date(),
        contact_preference=rng.choice(list(ContactPreference)), contact_note=rng.choice(["", "工作日晚上联系", "周末方便看房"]),
        description=rng.choice(DESCRIPTIONS),
    )
    moved = taken_in + timedelta(days=rng.randint(1, 6))
    if state in (RentalStatus.reserved, RentalStatus.let):
        row.reserve(reserved_for=rng.choice(["张先生", "刘女士", "陈先生"]), at=moved)
    if state == RentalStatus.let:
        row.let(agreed_rent=rent - Decimal(100), at=moved + timedelta(days=2))
    if state == RentalStatus.withdrawn:
        row.withdraw(reason=rng.choice(["业主自住", "业主出售"]), at=moved)
    return row

