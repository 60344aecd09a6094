"""A year of fees for the demo: items and prices, twelve billing runs, monthly water readings,
and the payments, receipts and cashier days that settled most of it.

A year is tens of thousands of rows, so they are built in memory and inserted in bulk, as the
repair history is. The amounts still come from the services' own rules: each month's charges
from the billing plan (`billing_runs.plan_month`), water from `billing.metered`, every split of
a payment from `payments.allocate`. What the services enforce is kept by construction and
checked in tests/test_demo_fees.py: receipt numbers gapless per estate, series and year in
issue order (the counters left at the last number), allocations adding up to the payment less
its credit, `amount_paid` equal to the allocations not reversed, one session per cashier and
day, handed over and acknowledged by finance -- all but today's, which stays open for the desk.
Seeded: two loads on the same day give the same shape.
"""
from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import JSONB

from app.demo import fees_latefees
from app.domain.auth.model import User
from app.domain.base import utcnow
from app.domain.calendar import estate_time
from app.domain.fees.billing import rules as billing
from app.domain.fees.billing import runs as billing_runs
from app.domain.fees.cash.model import CashierSession
from app.domain.fees.model import (
    BillingRun,
    Charge,
    ChargeSource,
    FeeItem,
    FeeKind,
    FeePrice,
    MeterReading,
    UnitFeeItem,
    VacantRule,
)
from app.domain.fees.payments.model import (
    Allocation,
    DocumentCounter,
    Payment,
    PaymentMethod,
    Receipt,
    Refund,
)
from app.domain.registry.model import Estate, Owner, Unit, UnitOwner

if TYPE_CHECKING:
    from app.demo import DemoContext

ZERO = Decimal("0.00")
M = PaymentMethod
MONTHS = 12
PRICE_CHANGE_AT = 6  # the seventh of the twelve months is billed at the new rate
# (code, name, kind, unit label, bills every unit, vacant rule, vacant discount)
ITEMS = [
    ("mgmt", "物业管理费", FeeKind.per_area, "元/㎡·月", True, VacantRule.discount, "0.30"),
    ("garbage", "垃圾清运费", FeeKind.fixed, "元/户·月", True, VacantRule.skip, "0"),
    ("parking", "车位管理费", FeeKind.fixed, "元/个·月", False, VacantRule.charge, "0"),
    ("water", "水费", FeeKind.metered, "元/吨", False, VacantRule.charge, "0"),
    ("carryover", "往年欠费", FeeKind.one_off, "元", False, VacantRule.charge, "0"),
]
# Per estate: item -> (price of the year's start, price after the change or None).
PRICES = {
    "QS": {"mgmt": ("1.80", "1.95"), "garbage": ("10.00", None), "parking": ("80.00", None), "water": ("3.45", None)},
    "XR": {"mgmt": ("2.20", "2.50"), "garbage": ("12.00", None), "parking": ("100.00", None), "water": ("3.65", None)},
}
PARKING_SHARE = 0.22
LATER_PARKING = (3, 8)  # the months (of the twelve) in which a few owners bought a space
NEVER_PAY = 3  # units per estate whose old debt was carried over, and who have paid nothing since
VOIDS = 3  # per estate
# How owners pay: every month, every quarter, a month behind, fallen 2-3 months behind, stopped.
PROFILES = {"monthly": 50, "quarterly": 22, "late": 16, "behind": 8, "stopped": 4}
METHOD_WEIGHTS = {M.cash: 44, M.wechat: 26, M.alipay: 14, M.bank_card: 10, M.bank_transfer: 6}
METHOD_NAMES = {M.cash: "现金", M.wechat: "微信", M.alipay: "支付宝", M.bank_card: "刷卡", M.bank_transfer: "转账"}
DIFFERENCES = [(Decimal("-10.00"), "找零多找给业主10元，短款已登记"), (Decimal("5.00"), "长款5元，未查到对应收据，随款上交")]
ACK_NOTES = ["", "", "已核对", "款项已入账"]


@dataclass(slots=True)
class _Charge:
    id: uuid.UUID
    unit_id: uuid.UUID
    amount: Decimal
    due_date: date
    created_at: datetime
    columns: dict[str, Any]
    amount_paid: Decimal = ZERO
    paid_at: datetime | None = None

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.amount_paid

    def key(self) -> tuple[date, str, datetime, uuid.UUID]:
        # The order the payments service settles a unit's charges in (oldest first).
        return self.due_date, self.columns["period"] or "", self.created_at, self.id


@dataclass(slots=True)
class _Payment:
    unit_id: uuid.UUID
    at: datetime
    method: PaymentMethod
    reference: str
    amount: Decimal
    tendered: Decimal | None
    change: Decimal | None
    credit: Decimal
    payer: str
    cashier_id: uuid.UUID
    parts: list[tuple[_Charge, Decimal]]
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    void: tuple[datetime, str, uuid.UUID] | None = None  # (at, reason, by)
    session_id: uuid.UUID | None = None


@dataclass
class _Estate:
    estate: Estate
    tz: ZoneInfo
    now: datetime
    months: list[str]
    units: list[Unit]  # private units only: the public ones are billed nothing
    users: dict[str, User]
    payers: dict[uuid.UUID, str]
    items: dict[str, FeeItem] = field(default_factory=dict)
    parking_starts: set[str] = field(default_factory=set)
    charges: dict[uuid.UUID, list[_Charge]] = field(default_factory=dict)
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def today(self) -> date:
        return estate_time.today(self.tz, now=self.now)

    def at(self, day: date, hour: int, minute: int, second: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute, second), tzinfo=self.tz)

    def day_of(self, moment: datetime) -> date:
        return estate_time.today(self.tz, now=moment)

    def price(self, code: str) -> Decimal:
        return Decimal(PRICES.get(self.estate.code, PRICES["QS"])[code][0])

    def charge(self, unit_id: uuid.UUID, *, item: FeeItem, period: str | None, amount: Decimal, basis: dict[str, Any],
               due: date, at: datetime, source: ChargeSource, description: str | None = None,
               source_id: uuid.UUID | None = None, run_id: uuid.UUID | None = None) -> _Charge:
        columns = dict(estate_id=self.estate.id, unit_id=unit_id, fee_item_id=item.id, period=period,
                       description=description or billing.describe(period or "", item.name), basis=basis,
                       source=source.value, source_id=source_id, billing_run_id=run_id)
        row = _Charge(id=uuid.uuid4(), unit_id=unit_id, amount=amount, due_date=due, created_at=at, columns=columns)
        self.charges.setdefault(unit_id, []).append(row)
        return row

    def add(self, kind: str, row: dict[str, Any]) -> None:
        self.rows.setdefault(kind, []).append(row)


def _weekday(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


async def fee_history(ctx: DemoContext) -> None:
    from app.demo import fees_payments as desk  # it builds on this module's rows and constants

    now = utcnow()
    rng = random.Random(ctx.rng.random())
    for estate in ctx.estates:
        e = await _estate_view(ctx, estate, now)
        await _items(ctx, e, rng)
        await _billing(ctx, e)
        _readings(rng, e)
        never = _carry_over(rng, e)
        pays = desk.payments_of(rng, e, never)
        refund = desk.refund_of(rng, e, pays)
        desk.sessions_of(rng, e, pays, refund)
        desk.documents_of(e, pays, refund)
        await _write(ctx, e)


async def _estate_view(ctx: DemoContext, estate: Estate, now: datetime) -> _Estate:
    users = {u.username: u for u in ctx.users}
    code = estate.code.lower()
    tz = estate_time.estate_zone(estate)
    this_month = estate_time.first_of_month(estate_time.today(tz, now=now))
    rows = await ctx.session.execute(
        select(UnitOwner.unit_id, Owner.full_name).join(Owner, Owner.id == UnitOwner.owner_id)
        .where(UnitOwner.estate_id == estate.id, UnitOwner.is_primary))
    return _Estate(
        estate=estate, tz=tz, now=now,
        months=[estate_time.month_key(estate_time.add_months(this_month, i - MONTHS + 1)) for i in range(MONTHS)],
        units=[u for u in ctx.units if u.estate_id == estate.id and not u.is_public],
        users={k: users[f"{code}.{k}"] for k in ("reception", "supervisor", "finance", "tech1")},
        payers=dict(rows.all()),
    )


async def _items(ctx: DemoContext, e: _Estate, rng: random.Random) -> None:
    """The price list; the management fee went up once, from a month not yet billed at the time."""
    first = estate_time.month_first(e.months[0])
    for code, name, kind, label, to_all, rule, discount in ITEMS:
        e.items[code] = FeeItem(estate_id=e.estate.id, code=code, name=name, kind=kind, unit_label=label,
                                applies_to_all=to_all, vacant_rule=rule, vacant_discount=Decimal(discount), due_day=1,
                                created_at=e.at(date(first.year - 2, 1, 1), 9, 0))
    ctx.add("fee_items", list(e.items.values()))
    await ctx.session.flush()
    fees_latefees.add_rule(ctx, mgmt=e.items["mgmt"], effective_from=date(first.year - 2, 1, 1))
    prices = []
    for code, (old, new) in PRICES.get(e.estate.code, PRICES["QS"]).items():
        item_id = e.items[code].id
        prices.append(FeePrice(estate_id=e.estate.id, fee_item_id=item_id, effective_from=date(first.year - 2, 1, 1),
                               unit_price=Decimal(old)))
        if new is not None:
            prices.append(FeePrice(estate_id=e.estate.id, fee_item_id=item_id, unit_price=Decimal(new),
                                   effective_from=estate_time.month_first(e.months[PRICE_CHANGE_AT])))
    subs = [UnitFeeItem(estate_id=e.estate.id, unit_id=u.id, fee_item_id=e.items["water"].id, from_month=e.months[0])
            for u in e.units]
    for unit in e.units:
        if not unit.is_vacant and rng.random() < PARKING_SHARE:
            start = e.months[0] if rng.random() < 0.8 else e.months[rng.choice(LATER_PARKING)]
            e.parking_starts.add(start)
            subs.append(UnitFeeItem(estate_id=e.estate.id, unit_id=unit.id, fee_item_id=e.items["parking"].id,
                                    from_month=start, quantity=Decimal(2 if rng.random() < 0.08 else 1)))
    ctx.add("fee_prices", prices)
    ctx.add("unit_fee_items", subs)
    await ctx.session.flush()


async def _billing(ctx: DemoContext, e: _Estate) -> None:
    """Twelve runs, as the job clock makes them on the 1st at 06:00, from the billing service's plan."""
    runs, plan, planned_for = [], None, None
    for month in e.months:
        at = min(e.at(estate_time.month_first(month), 6, 0), e.now)
        run = BillingRun(estate_id=e.estate.id, month=month, created_by="billing_run", created_at=at)
        # A month bills what the last one did unless a price or a subscription changed: plan only then.
        state = (month >= e.months[PRICE_CHANGE_AT], sorted(m for m in e.parking_starts if m <= month))
        if state != planned_for:
            plan, planned_for = await billing_runs.plan_month(ctx.session, estate=e.estate, month=month), state
        assert plan is not None  # the first month always plans
        for i, line in enumerate(plan.lines):
            # A microsecond apart, in the plan's order, so settling oldest first is the same every load.
            e.charge(line.unit.id, item=line.item, period=month, amount=line.amount, basis=line.basis,
                     due=billing.due_date(month, line.item.due_day), at=at + timedelta(microseconds=i),
                     source=ChargeSource.billing, run_id=run.id)
        run.charges_created, run.total = len(plan.lines), plan.total
        runs.append(run)
    ctx.add("billing_runs", runs)


def _readings(rng: random.Random, e: _Estate) -> None:
    """Every meter read on the 2nd-4th of the next month, billed at once (due the day it is read)."""
    item, price, reader = e.items["water"], e.price("water"), e.users["tech1"]
    for unit in e.units:
        current = Decimal(rng.randint(80, 900))
        for i, month in enumerate(e.months[:-1]):
            read_day = estate_time.month_first(e.months[i + 1]) + timedelta(days=rng.randint(1, 3))
            read_at = e.at(read_day, rng.randint(9, 11), rng.randrange(60))
            if read_at > e.now:
                break
            used = ZERO if unit.is_vacant else Decimal(rng.randint(40, 180)) / 10
            previous, current = current, current + used
            reading_id = uuid.uuid4()
            line = billing.metered(price=price, previous=previous, current=current)
            charge = line and e.charge(unit.id, item=item, period=month, amount=line.amount, basis=line.basis,
                                       due=max(billing.due_date(month, item.due_day), read_day), at=read_at,
                                       source=ChargeSource.meter, source_id=reading_id)
            e.add("meter_readings", dict(
                id=reading_id, created_at=read_at, estate_id=e.estate.id, unit_id=unit.id, fee_item_id=item.id,
                period=month, previous=previous.quantize(billing.CENT), current=current.quantize(billing.CENT),
                read_at=read_at, read_by=reader.id, charge_id=charge.id if charge else None))


def _carry_over(rng: random.Random, e: _Estate) -> set[uuid.UUID]:
    """A few owners owed a year's fee before this one; finance carried it over, they never paid."""
    never = rng.sample([u for u in e.units if not u.is_vacant], NEVER_PAY)
    first = estate_time.month_first(e.months[0])
    for unit in never:
        entered = _weekday(first - timedelta(days=rng.randint(90, 200)))
        amount = billing.round_money(unit.area * e.price("mgmt") * 12)
        e.charge(unit.id, item=e.items["carryover"], period=None, amount=amount, due=entered,
                 at=e.at(entered, 10, rng.randrange(60)), source=ChargeSource.manual,
                 description=f"{entered.year - 1}年度物业管理费欠款（结转）",
                 basis={"amount": str(amount), "entered_by": e.users["finance"].username})
    return {u.id for u in never}


# --- writing -------------------------------------------------------------------------------

TABLES: list[tuple[str, Table]] = [
    ("charges", Charge.__table__), ("meter_readings", MeterReading.__table__), ("cashier_sessions", CashierSession.__table__),
    ("payments", Payment.__table__), ("allocations", Allocation.__table__), ("refunds", Refund.__table__),
    ("receipts", Receipt.__table__), ("document_counters", DocumentCounter.__table__)]


async def _write(ctx: DemoContext, e: _Estate) -> None:
    # The ORM rows first (items, prices, subscriptions, runs): the bulk rows refer to them.
    await ctx.session.flush()
    e.rows["charges"] = [
        {**c.columns, "id": c.id, "created_at": c.created_at, "amount": c.amount, "amount_paid": c.amount_paid,
         "due_date": c.due_date, "paid_at": c.paid_at}
        for unit_charges in e.charges.values() for c in unit_charges]
    # COPY, in the session's transaction: a year of rows in a second or two, where row-by-row
    # inserts take ten times as long. Constraints and foreign keys are checked all the same.
    connection = await ctx.session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None  # asyncpg's connection, for COPY
    for kind, table in TABLES:
        rows = e.rows.get(kind, [])
        # Columns the demo leaves out (a charge's waivers, its cancellation) take their server defaults.
        columns = [c.name for c in table.columns if not rows or c.name in rows[0]]
        jsonb = {c.name for c in table.columns if isinstance(c.type, JSONB)}
        records = [tuple(json.dumps(r[c]) if c in jsonb else r[c] for c in columns) for r in rows]
        await driver.copy_records_to_table(table.name, records=records, columns=columns)
        ctx.counts[kind] = ctx.counts.get(kind, 0) + len(rows)
