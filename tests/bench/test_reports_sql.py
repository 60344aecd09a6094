"""bench/reports_sql.py's hand-written statements compute the same figures as the reports.

bench/reports.py times each report against one hand-written statement; the ratio only means
something if both compute the same thing. On a small data set made by hand (voids, a refund,
credit, arrears, payments in advance, a one-off charge, orders in every state around a day's
close, callbacks in time and late, a posted and an open stocktake with rounding), every figure
of each report, read over HTTP, must equal the statement's.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.domain.auth.principal import Actor
from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.callbacks.model import Callback, CallbackStatus
from app.domain.fees.model import ChargeSource, FeeKind
from app.domain.fees.payments import receipts, refunds
from app.domain.fees.payments import service as payments
from app.domain.fees.payments.model import PaymentMethod
from app.domain.fees.payments.schemas import PaymentCreate, RefundCreate
from app.domain.registry.model import Estate
from app.domain.repairs.model import WorkOrderStatus
from app.domain.stock.model import StockItem, Stocktake, StocktakeLine
from bench import reports_sql as hand
from tests.factories import Staff, make_staff
from tests.fees_factories import make_charge, make_fee_item
from tests.registry_factories import make_building, make_unit, two_estates
from tests.repairs_factories import make_order

API = "/api/v1"
TZ = ZoneInfo("Asia/Shanghai")
D = Decimal
S = WorkOrderStatus


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)


async def asyncpg_conn(session) -> Any:
    """The session's own asyncpg connection: the statement reads what the app committed."""
    conn = await session.connection()
    return (await conn.get_raw_connection()).driver_connection


async def setup(session) -> tuple[Estate, Staff, dict[str, Any]]:
    estate, _other = await two_estates(session)  # the other estate's rows must not leak into the figures
    reader = await make_staff(session, estates=[estate], roles=[Role.supervisor], full_name="主管")
    b1, b2 = await make_building(session, estate=estate, number=1), await make_building(session, estate=estate, number=2)
    units = {"A": await make_unit(session, building=b1, number="101"), "B": await make_unit(session, building=b1, number="102"),
             "C": await make_unit(session, building=b2, number="201"), "D": await make_unit(session, building=b2, number="202")}
    return estate, reader, units


async def books(session, estate: Estate, units: dict[str, Any]) -> None:
    mgmt = await make_fee_item(session, estate=estate, code="mgmt", name="物业管理费")
    water = await make_fee_item(session, estate=estate, code="water", name="水费", kind=FeeKind.metered, price="5.00")
    c = {}
    for key, unit, item, amount, period in [
        ("A-mgmt", "A", mgmt, "160.56", "2026-11"), ("A-water", "A", water, "30.00", "2026-11"),
        ("B-mgmt", "B", mgmt, "150.00", "2026-11"), ("B-water", "B", water, "20.00", "2026-11"),
        ("C-mgmt", "C", mgmt, "200.00", "2026-11"), ("D-mgmt", "D", mgmt, "120.00", "2026-11"),
        ("C-mgmt-oct", "C", mgmt, "200.00", "2026-10"), ("A-mgmt-dec", "A", mgmt, "160.56", "2026-12"),
    ]:
        c[key] = await make_charge(session, unit=units[unit], item=item, amount=amount, period=period,
                                   due_date=date.fromisoformat(period + "-01"))
    # A one-off belongs to the month of its due date.
    c["D-repair"] = await make_charge(session, unit=units["D"], item=water, amount="55.50", period=None,
                                      due_date=date(2026, 11, 15), source=ChargeSource.manual)
    cashier = await make_staff(session, estates=[estate], roles=[Role.receptionist], full_name="李娜")
    colleague = await make_staff(session, estates=[estate], roles=[Role.receptionist], full_name="王芳")

    def actor(staff: Staff) -> Actor:
        return Actor(id=staff.id, label=staff.user.full_name, company_id=estate.company_id,
                     roles=frozenset({Role.receptionist}), estate_ids=frozenset({estate.id}))

    async def pay(unit: str, amount: str, at: datetime, *keys: str, method: str = "cash", by: Staff = cashier) -> uuid.UUID:
        data = PaymentCreate(amount=D(amount), method=PaymentMethod(method), reference="" if method == "cash" else "REF1",
                             charge_ids=[c[k].id for k in keys])
        paid = await payments.take_payment(session, actor=actor(by), unit_id=units[unit].id, data=data, now=at)
        await session.commit()
        return paid.receipt.id

    await pay("B", "20.00", local(2026, 10, 25, 10), "B-water")
    await pay("A", "190.56", local(2026, 11, 3, 10), "A-mgmt", "A-water")
    await pay("C", "300.00", local(2026, 11, 5, 11), "C-mgmt-oct", "C-mgmt", method="wechat", by=colleague)
    wrong = await pay("B", "150.00", local(2026, 11, 10, 9), "B-mgmt")
    await receipts.void_receipt(session, actor=actor(cashier), receipt_id=wrong, reason="收错房号",
                                now=local(2026, 11, 10, 15))
    await session.commit()
    await pay("D", "55.50", local(2026, 11, 18, 14), "D-repair", method="alipay", by=colleague)
    await pay("A", "200.00", local(2026, 11, 20, 16), "A-mgmt-dec", method="alipay", by=colleague)
    await refunds.make_refund(session, actor=actor(cashier), unit_id=units["A"].id, now=local(2026, 11, 25, 10),
                              data=RefundCreate(amount=D("30.00"), method=PaymentMethod.bank_transfer, reference="BT1",
                                                reason="多缴退还"))
    await session.commit()
    await pay("B", "50.00", local(2026, 11, 30, 23, 50), "B-mgmt")
    await pay("C", "100.00", local(2026, 12, 1, 0, 10), "C-mgmt")


async def get(client, reader: Staff, path: str, **params: str) -> dict[str, Any]:
    r = await client.get(f"{API}{path}", params=params, headers=reader.headers)
    assert r.status_code == 200, r.text
    return r.json()


class TestFeeReports:
    async def test_month_report_figures_match(self, client, session):
        estate, reader, units = await setup(session)
        await books(session, estate, units)
        conn = await asyncpg_conn(session)
        info = hand.EstateInfo(estate.id, estate.code, estate.time_zone, estate.afternoon_close)
        for month in ("2026-10", "2026-11", "2026-12"):
            report = await get(client, reader, f"/estates/{estate.id}/fee-reports/month-end", month=month)
            sql = await hand.hand_month_report(conn, info, month)
            assert hand.differences(hand.month_report_figures(report), sql) == [], month
        november = await hand.hand_month_report(conn, info, "2026-11")
        # The month-report test's November plus D's one-off of 55.50, billed and paid on 18 November.
        assert november[("total", "", "billed")] == D("736.06")
        assert november[("total", "", "receipts_total")] == D("766.06")
        assert (november[("total", "", "receipts")], november[("total", "", "voided")]) == (5, 1)
        assert november[("total", "", "households_billed")] == 4

    async def test_register_figures_match(self, client, session):
        estate, reader, units = await setup(session)
        await books(session, estate, units)
        conn = await asyncpg_conn(session)
        info = hand.EstateInfo(estate.id, estate.code, estate.time_zone, estate.afternoon_close)
        seen = D(0)
        for n in range(43, 50):
            week = f"2026-W{n}"
            report = await get(client, reader, f"/estates/{estate.id}/fee-reports/saturday-register", week=week)
            sql = await hand.hand_register(conn, info, week)
            assert hand.differences(hand.register_figures(report), sql) == [], week
            seen += sql.get(("total", "", "amount"), D(0))
        # Every receipt of the data set falls in one of the weeks: 20 + 190.56 + 300 + 55.5 + 200 - 30 + 50 + 100.
        assert seen == D("886.06")


class TestRepairReports:
    async def test_daily_log_figures_match(self, client, session):
        estate, reader, units = await setup(session)
        tech = (await make_staff(session, estates=[estate], roles=[Role.technician], full_name="維修一")).user
        day = date(2026, 11, 20)
        orders = [  # (status now, created, completed (the factory's reference time), cancelled)
            (S.completed, local(2026, 11, 20, 9), local(2026, 11, 20, 15), None),
            (S.dispatched, local(2026, 11, 20, 10), local(2026, 11, 20, 16), None),
            (S.completed, local(2026, 11, 17, 9), local(2026, 11, 21, 10), None),  # open at the close, nothing that day
            (S.archived, local(2026, 11, 9, 9), local(2026, 11, 10, 10), None),  # done long before
            (S.pending_dispatch, local(2026, 11, 20, 11), local(2026, 11, 20, 11), None),
            (S.cancelled, local(2026, 11, 20, 8), local(2026, 11, 20, 8), local(2026, 11, 20, 16)),
            (S.callback_done, local(2026, 11, 20, 17), local(2026, 11, 20, 19), None),  # completed after the close
            (S.in_progress, utcnow() - timedelta(hours=2), utcnow(), None),  # today: the current state
        ]
        for status, created, completed, cancelled in orders:
            order = await make_order(session, estate=estate, unit=units["A"], technician=tech, status=status,
                                     completed_at=completed)
            order.created_at, order.cancelled_at = created, cancelled
            session.add(order)
        await session.commit()
        conn = await asyncpg_conn(session)
        info = hand.EstateInfo(estate.id, estate.code, estate.time_zone, estate.afternoon_close)
        today = utcnow().astimezone(TZ).date()
        for d in (day, day + timedelta(days=1), today):
            report = await get(client, reader, f"/estates/{estate.id}/repairs/daily-log", date=str(d))
            sql = await hand.hand_daily_log(conn, info, d, utcnow())
            assert hand.differences(hand.daily_log_figures(report), sql) == [], d
        sql = await hand.hand_daily_log(conn, info, day, utcnow())
        assert sql[("total", "", "rows")] == 6  # every order but the archived one and today's
        assert sql[("state", "pending_dispatch", "rows")] == 2 and sql[("state", "in_progress", "rows")] == 1

    async def test_callback_rate_figures_match(self, client, session):
        estate, reader, units = await setup(session)
        tech = (await make_staff(session, estates=[estate], roles=[Role.technician], full_name="維修一")).user
        now = utcnow()
        rounds = [  # (completed days ago, status, done days after completion)
            (2, CallbackStatus.open, None), (15, CallbackStatus.open, None), (20, CallbackStatus.done, 3),
            (25, CallbackStatus.done, 9), (12, CallbackStatus.escalated, 1), (40, CallbackStatus.resolved, 2),
        ]
        for ago, status, done_after in rounds:
            order = await make_order(session, estate=estate, unit=units["B"], technician=tech, status=S.completed,
                                     completed_at=now - timedelta(days=ago), with_callback=True)
            row = (await session.execute(select(Callback).where(Callback.work_order_id == order.id))).scalar_one()
            row.status = status
            row.done_at = row.completed_at + timedelta(days=done_after) if done_after is not None else None
            session.add(row)
        await session.commit()
        conn = await asyncpg_conn(session)
        info = hand.EstateInfo(estate.id, estate.code, estate.time_zone, estate.afternoon_close)
        months = sorted({(now - timedelta(days=ago)).astimezone(TZ).strftime("%Y-%m") for ago, *_ in rounds})
        total = 0
        for month in months:
            report = await get(client, reader, f"/estates/{estate.id}/callback-rate", period="month", date=f"{month}-01")
            sql = await hand.hand_callback_rate(conn, info, month, utcnow())
            assert hand.differences(hand.callback_rate_figures(report), sql) == [], month
            total += sql.get(("total", "", "completed"), 0)
        assert total == len(rounds)


class TestStocktakeReport:
    async def test_stocktake_figures_match(self, client, session):
        estate, reader, _units = await setup(session)
        costs = {"P1": D("12.35"), "P2": D("0.45"), "P3": D("3.10")}
        items = {}
        for code, cost in costs.items():
            items[code] = StockItem(estate_id=estate.id, code=code, name=f"材料{code}", unit="個", unit_cost=cost,
                                    quantity=D("10"))
            session.add(items[code])
        await session.flush()

        def count(month: str, status: str, n: int, at: datetime) -> Stocktake:
            row = Stocktake(estate_id=estate.id, reference=f"PD-{month}-{n}", month=month, status=status, opened_at=at,
                            due_at=at + timedelta(days=10))
            session.add(row)
            return row

        posted = count("2026-10", "posted", 1, local(2026, 10, 28, 9))
        redo = count("2026-10", "cancelled", 2, local(2026, 10, 29, 9))
        open_ = count("2026-11", "counting", 1, local(2026, 11, 27, 9))
        await session.flush()
        lines = [  # (count, item, book, counted, frozen cost)
            (posted, "P1", "10.000", "9.000", "12.00"), (posted, "P2", "2.345", "2.005", "0.45"),
            (posted, "P3", "4.000", "5.500", "3.10"), (redo, "P1", "10.000", "1.000", None),
            (open_, "P1", "9.000", "9.000", None), (open_, "P2", "2.005", "1.115", None), (open_, "P3", None, None, None),
        ]
        for st, code, book, counted, cost in lines:
            session.add(StocktakeLine(
                estate_id=estate.id, stocktake_id=st.id, stock_item_id=items[code].id, code=code, name=items[code].name,
                unit="個", snapshot_quantity=D("10"), book_at_count=D(book) if book else None,
                counted_quantity=D(counted) if counted else None, unit_cost=D(cost) if cost else None))
        await session.commit()
        conn = await asyncpg_conn(session)
        info = hand.EstateInfo(estate.id, estate.code, estate.time_zone, estate.afternoon_close)
        for month in ("2026-10", "2026-11"):
            report = await get(client, reader, f"/estates/{estate.id}/stocktake-report", month=month)
            sql = await hand.hand_stocktake(conn, info, month)
            assert hand.differences(hand.stocktake_figures(report), sql) == [], month
        october = await hand.hand_stocktake(conn, info, "2026-10")
        # The posted count, not the cancelled one; P1 valued at its frozen 12.00: 108.00 - 120.00,
        # P2 0.90 - 1.06 (rounded half up to the fen), P3 17.05 - 12.40.
        assert october[("total", "", "difference_value")] == D("-7.51")
        assert october[("total", "", "shortages")] == 2 and october[("total", "", "surpluses")] == 1
