"""One hand-written SQL statement per report, computing the report's figures, for bench/reports.py.

Each `hand_*` runs its single statement on an asyncpg connection and returns the figures as a
flat dict {(dimension, key, figure): value}; each `*_figures` reads the same dict out of the
report as the API returns it (its JSON). Figures that are zero are left out of both, so a line
the report lists with nothing on it (an active fee item nobody was billed for, a payment
method nobody used) does not count as a difference. The statements restate the reports'
definitions (see each report module's docstring); tests/bench/test_reports_sql.py checks on a
hand-made data set that both sides agree, so that the timing comparison is honest.
"""
from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

Figures = dict[tuple[str, str, str], Any]
OPEN_STATES = ("pending_dispatch", "awaiting_technician_confirmation", "dispatched", "in_progress", "reopened")
EVENTS = ("created", "dispatched", "started", "completed", "cancelled")


@dataclass(frozen=True)
class EstateInfo:
    id: uuid.UUID
    code: str
    time_zone: str
    afternoon_close: time

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


async def estate_info(conn: Any, code: str) -> EstateInfo:
    row = await conn.fetchrow("SELECT id, code, time_zone, afternoon_close FROM estate WHERE upper(code) = upper($1)", code)
    if row is None:
        raise SystemExit(f"no estate with code {code!r}")
    return EstateInfo(row["id"], row["code"], row["time_zone"], row["afternoon_close"])


def _clean(figures: Figures) -> Figures:
    return {k: v for k, v in figures.items() if v not in (0, None, Decimal(0))}


def _d(value: Any) -> Decimal:
    return Decimal(str(value))


def month_bounds(month: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    year, mon = int(month[:4]), int(month[5:7])
    return datetime(year, mon, 1, tzinfo=tz), datetime(year + mon // 12, mon % 12 + 1, 1, tzinfo=tz)


# --- daily repair log (app/domain/repairs/paperwork/daily_log.py) --------------------------------------

DAILY_LOG = """
WITH o AS (
  SELECT CASE
      WHEN $4::timestamptz >= $5::timestamptz THEN w.status
      WHEN w.cancelled_at <= $4 THEN 'cancelled' WHEN w.archived_at <= $4 THEN 'archived'
      WHEN w.approved_at <= $4 THEN 'approved' WHEN w.callback_done_at <= $4 THEN 'callback_done'
      WHEN w.completed_at <= $4 THEN 'completed' WHEN w.started_at <= $4 THEN 'in_progress'
      WHEN w.dispatched_at <= $4 THEN 'dispatched'
      WHEN w.status IN ('awaiting_technician_confirmation', 'reopened') THEN w.status
      ELSE 'pending_dispatch' END AS state,
    w.created_at >= $2 AS created,
    coalesce(w.dispatched_at >= $2 AND w.dispatched_at < $3, false) AS dispatched,
    coalesce(w.started_at >= $2 AND w.started_at < $3, false) AS started,
    coalesce(w.completed_at >= $2 AND w.completed_at < $3, false) AS completed,
    coalesce(w.cancelled_at >= $2 AND w.cancelled_at < $3, false) AS cancelled
  FROM work_order w
  WHERE w.estate_id = $1 AND w.created_at < $3::timestamptz
    AND (w.created_at >= $2::timestamptz OR w.dispatched_at >= $2 AND w.dispatched_at < $3
         OR w.started_at >= $2 AND w.started_at < $3 OR w.completed_at >= $2 AND w.completed_at < $3
         OR w.cancelled_at >= $2 AND w.cancelled_at < $3
         OR w.status IN ('pending_dispatch', 'awaiting_technician_confirmation', 'dispatched', 'in_progress', 'reopened')
         OR w.completed_at > $4 OR w.cancelled_at > $4)
)
SELECT state, count(*) AS n, count(*) FILTER (WHERE created) AS created, count(*) FILTER (WHERE dispatched) AS dispatched,
       count(*) FILTER (WHERE started) AS started, count(*) FILTER (WHERE completed) AS completed,
       count(*) FILTER (WHERE cancelled) AS cancelled
FROM o
WHERE created OR dispatched OR started OR completed OR cancelled
   OR state IN ('pending_dispatch', 'awaiting_technician_confirmation', 'dispatched', 'in_progress', 'reopened')
GROUP BY state
"""


def daily_log_args(estate: EstateInfo, day: date, now: datetime) -> tuple[Any, ...]:
    tz = estate.tz
    start = datetime.combine(day, time(0), tzinfo=tz)
    return (estate.id, start, start + timedelta(days=1), datetime.combine(day, estate.afternoon_close, tzinfo=tz), now)


async def hand_daily_log(conn: Any, estate: EstateInfo, day: date, now: datetime) -> Figures:
    out: Figures = {}
    for row in await conn.fetch(DAILY_LOG, *daily_log_args(estate, day, now)):
        out[("state", row["state"], "rows")] = row["n"]
        for event in EVENTS:
            out[("total", "", event)] = out.get(("total", "", event), 0) + row[event]
        out[("total", "", "rows")] = out.get(("total", "", "rows"), 0) + row["n"]
    return _clean(out)


def daily_log_figures(report: dict[str, Any]) -> Figures:
    out: Counter[tuple[str, str, str]] = Counter()
    for row in report["rows"]:
        out[("state", row["state_at_close"], "rows")] += 1
        out[("total", "", "rows")] += 1
        for event in row["events"]:
            out[("total", "", event)] += 1
    return _clean(dict(out))


# --- callback rate (app/domain/callbacks/rates.py) --------------------------------------------

CALLBACK_RATE = """
SELECT count(*) AS completed,
       count(*) FILTER (WHERE status IN ('done', 'escalated', 'resolved') AND done_at <= due_at) AS done_within_7_days,
       count(*) FILTER (WHERE status IN ('done', 'escalated', 'resolved') AND done_at > due_at) AS done_late,
       count(*) FILTER (WHERE status = 'open' AND due_at >= $4::timestamptz) AS pending
FROM callback
WHERE estate_id = $1 AND completed_at >= $2::timestamptz AND completed_at < $3::timestamptz
"""


async def hand_callback_rate(conn: Any, estate: EstateInfo, month: str, now: datetime) -> Figures:
    start, end = month_bounds(month, estate.tz)
    row = await conn.fetchrow(CALLBACK_RATE, estate.id, start, end, now)
    return _clean({("total", "", k): row[k] for k in ("completed", "done_within_7_days", "done_late", "pending")})


def callback_rate_figures(report: dict[str, Any]) -> Figures:
    return _clean({("total", "", k): report[k] for k in ("completed", "done_within_7_days", "done_late", "pending")})


# --- Saturday register (app/domain/fees/reports/saturday_register.py) ------------------------------------------

REGISTER = """
WITH r AS (
  SELECT r.id, r.series, r.status, r.issued_by, r.payment_id, coalesce(p.credit, 0) AS credit,
         CASE WHEN r.series = 'refund' THEN -r.amount ELSE r.amount END AS signed, coalesce(p.method, f.method) AS method
  FROM receipt r LEFT JOIN payment p ON p.id = r.payment_id LEFT JOIN refund f ON f.id = r.refund_id
  WHERE r.estate_id = $1 AND r.issued_at >= $2::timestamptz AND r.issued_at < $3::timestamptz
), live AS (SELECT * FROM r WHERE status <> 'void')
SELECT 'total' AS dim, '' AS key, coalesce((SELECT sum(signed) FROM live), 0) AS amount, count(*) AS lines,
       count(*) FILTER (WHERE status <> 'void' AND series = 'receipt') AS receipts,
       count(*) FILTER (WHERE status <> 'void' AND series = 'refund') AS refunds,
       count(*) FILTER (WHERE status = 'void') AS voided
FROM r
UNION ALL SELECT 'method', method, sum(signed), 0, count(*), 0, 0 FROM live GROUP BY method
UNION ALL SELECT 'cashier', issued_by::text, coalesce(sum(signed) FILTER (WHERE status <> 'void'), 0), 0,
                 count(*) FILTER (WHERE status <> 'void'), 0, count(*) FILTER (WHERE status = 'void')
          FROM r GROUP BY issued_by
UNION ALL SELECT 'item', c.fee_item_id::text, sum(a.amount), 0, count(DISTINCT live.id), 0, 0
          FROM live JOIN allocation a ON a.payment_id = live.payment_id JOIN charge c ON c.id = a.charge_id
          GROUP BY c.fee_item_id
UNION ALL SELECT 'item', 'credit', sum(credit), 0, count(*), 0, 0 FROM live WHERE credit <> 0
UNION ALL SELECT 'item', 'refund', sum(signed), 0, count(*), 0, 0 FROM live WHERE series = 'refund'
"""


def register_bounds(week: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Saturday 00:00 to the next Saturday 00:00, estate-local; the week named by its Friday's ISO week."""
    saturday = datetime.strptime(week + "-1", "%G-W%V-%u").date() - timedelta(days=2)
    start = datetime.combine(saturday, time(0), tzinfo=tz)
    return start, datetime.combine(saturday + timedelta(days=7), time(0), tzinfo=tz)


async def hand_register(conn: Any, estate: EstateInfo, week: str) -> Figures:
    start, end = register_bounds(week, estate.tz)
    out: Figures = {}
    for row in await conn.fetch(REGISTER, estate.id, start, end):
        dim, key = row["dim"], row["key"]
        out[(dim, key, "amount")] = row["amount"]
        if dim == "total":
            out.update({(dim, key, k): row[k] for k in ("lines", "receipts", "refunds", "voided")})
        else:
            out[(dim, key, "receipts")] = row["receipts"]
        if dim == "cashier":
            out[(dim, key, "voided")] = row["voided"]
    return _clean(out)


def register_figures(report: dict[str, Any]) -> Figures:
    out: Figures = {("total", "", "amount"): _d(report["grand_total"])}
    out.update({("total", "", k): v for k, v in report["counts"].items()})
    for m in report["by_method"]:
        out[("method", m["method"], "amount")], out[("method", m["method"], "receipts")] = _d(m["amount"]), m["receipts"]
    for c in report["by_cashier"]:
        key = str(c["cashier_id"])
        out.update({("cashier", key, "amount"): _d(c["amount"]), ("cashier", key, "receipts"): c["receipts"],
                    ("cashier", key, "voided"): c["voided"]})
    for i in report["by_fee_item"]:
        key = str(i["fee_item_id"]) if i["fee_item_id"] else ("refund" if _d(i["amount"]) < 0 else "credit")
        out[("item", key, "amount")], out[("item", key, "receipts")] = _d(i["amount"]), i["receipts"]
    return _clean(out)


# --- month-end fee report (app/domain/fees/reports/month_report.py) -----------------------------------

MONTH_REPORT = """
WITH ch AS (
  SELECT c.id, c.unit_id, u.building_id, c.fee_item_id, c.amount
  FROM charge c JOIN unit u ON u.id = c.unit_id AND u.estate_id = $1
  WHERE c.estate_id = $1
    AND (c.period = $4::text OR c.period IS NULL AND c.due_date >= $5::date AND c.due_date < $6::date)
), paid AS (
  SELECT a.charge_id, sum(a.amount) FILTER (WHERE r.issued_at < $2::timestamptz) AS before,
         sum(a.amount) FILTER (WHERE r.issued_at >= $2::timestamptz) AS during
  FROM ch JOIN allocation a ON a.charge_id = ch.id JOIN receipt r ON r.payment_id = a.payment_id
  WHERE r.estate_id = $1 AND r.status = 'issued' AND r.issued_at < $3::timestamptz
  GROUP BY a.charge_id
), per_unit AS (
  SELECT ch.unit_id, ch.building_id, ch.fee_item_id, sum(ch.amount) AS billed,
         coalesce(sum(p.before), 0) AS before, coalesce(sum(p.during), 0) AS during
  FROM ch LEFT JOIN paid p ON p.charge_id = ch.id GROUP BY ch.unit_id, ch.building_id, ch.fee_item_id
), mr AS (
  SELECT r.payment_id, r.series, r.status, r.amount, u.building_id, coalesce(p.credit, 0) AS credit
  FROM receipt r JOIN unit u ON u.id = r.unit_id AND u.estate_id = $1 LEFT JOIN payment p ON p.id = r.payment_id
  WHERE r.estate_id = $1 AND r.issued_at >= $2::timestamptz AND r.issued_at < $3::timestamptz
), base AS (
  SELECT building_id, fee_item_id, billed, before, during, 0 AS earlier, 0 AS later, 0 AS credit, 0 AS refunds FROM per_unit
  UNION ALL
  SELECT u.building_id, c.fee_item_id, 0, 0, 0,
         CASE WHEN coalesce(c.period, to_char(c.due_date, 'YYYY-MM')) < $4 THEN a.amount ELSE 0 END,
         CASE WHEN coalesce(c.period, to_char(c.due_date, 'YYYY-MM')) > $4 THEN a.amount ELSE 0 END, 0, 0
  FROM mr JOIN allocation a ON a.payment_id = mr.payment_id JOIN charge c ON c.id = a.charge_id
       JOIN unit u ON u.id = c.unit_id AND u.estate_id = $1
  WHERE mr.status = 'issued'
  UNION ALL
  SELECT building_id, NULL, 0, 0, 0, 0, 0, CASE WHEN series = 'receipt' THEN credit ELSE 0 END,
         CASE WHEN series = 'refund' THEN amount ELSE 0 END
  FROM mr WHERE status = 'issued'
), fig AS (
  SELECT CASE WHEN grouping(fee_item_id) = 0 THEN 'item' WHEN grouping(building_id) = 0 THEN 'building' ELSE 'total' END AS dim,
         coalesce(coalesce(fee_item_id, building_id)::text, '') AS key, sum(billed) AS billed, sum(before) AS collected_before,
         sum(during) AS collected_for_month, sum(earlier) AS collected_for_earlier, sum(later) AS collected_for_later,
         sum(credit) AS credit_received, sum(refunds) AS refunds
  FROM base GROUP BY GROUPING SETS ((fee_item_id), (building_id), ())
), hh AS (
  SELECT dim, key, count(*) AS households_billed, count(*) FILTER (WHERE p >= b) AS households_paid_in_full,
         count(*) FILTER (WHERE p = 0) AS households_unpaid
  FROM (SELECT CASE WHEN grouping(fee_item_id) = 0 THEN 'item' WHEN grouping(building_id) = 0 THEN 'building' ELSE 'total' END AS dim,
               coalesce(coalesce(fee_item_id, building_id)::text, '') AS key, sum(billed) AS b, sum(before + during) AS p
        FROM per_unit GROUP BY GROUPING SETS ((fee_item_id, unit_id), (building_id, unit_id), (unit_id))) x
  GROUP BY dim, key
), rc AS (
  SELECT coalesce(sum(CASE WHEN series = 'refund' THEN -amount ELSE amount END) FILTER (WHERE status = 'issued'), 0)
           AS receipts_total,
         count(*) FILTER (WHERE status = 'issued' AND series = 'receipt') AS receipts,
         count(*) FILTER (WHERE status = 'issued' AND series = 'refund') AS refund_documents,
         count(*) FILTER (WHERE status = 'void') AS voided
  FROM mr
)
SELECT fig.*, hh.households_billed, hh.households_paid_in_full, hh.households_unpaid, rc.*
FROM fig LEFT JOIN hh USING (dim, key) CROSS JOIN rc
WHERE NOT (fig.dim = 'item' AND fig.key = '')  -- money on account belongs to no fee item
"""
MONTH_SUMS = ("billed", "collected_before", "collected_for_month", "collected_for_earlier", "collected_for_later")
MONTH_COUNTS = ("households_billed", "households_paid_in_full", "households_unpaid")
MONTH_RECEIPTS = ("receipts_total", "receipts", "refund_documents", "voided")


async def hand_month_report(conn: Any, estate: EstateInfo, month: str) -> Figures:
    start, end = month_bounds(month, estate.tz)
    out: Figures = {}
    for row in await conn.fetch(MONTH_REPORT, estate.id, start, end, month, start.date(), end.date()):
        dim, key = row["dim"], row["key"] or ""
        names = MONTH_SUMS + MONTH_COUNTS + (() if dim == "item" else ("credit_received", "refunds"))
        out.update({(dim, key, k): row[k] or 0 for k in names})
        if dim == "total":
            out.update({(dim, key, k): row[k] for k in MONTH_RECEIPTS})
    return _clean(out)


def month_report_figures(report: dict[str, Any]) -> Figures:
    out: Figures = {}

    def take(dim: str, key: str, line: dict[str, Any], names: tuple[str, ...]) -> None:
        for k in names:
            out[(dim, key, k)] = _d(line[k]) if isinstance(line[k], str) else line[k]

    for line in report["by_fee_item"]:
        take("item", str(line["fee_item_id"]), line, MONTH_SUMS + MONTH_COUNTS)
    for line in report["by_building"]:
        take("building", str(line["building_id"]), line, MONTH_SUMS + MONTH_COUNTS + ("credit_received", "refunds"))
    take("total", "", report["totals"], MONTH_SUMS + MONTH_COUNTS + ("credit_received", "refunds") + MONTH_RECEIPTS)
    return _clean(out)


# --- stocktake report (app/domain/stock/report.py) --------------------------------------------

STOCKTAKE = """
WITH st AS (
  SELECT id FROM stocktake WHERE estate_id = $1 AND month = $2::text AND status <> 'cancelled'
  ORDER BY status <> 'posted', opened_at DESC LIMIT 1
), v AS (
  SELECT l.counted_quantity - l.book_at_count AS diff,
         round(l.book_at_count * coalesce(l.unit_cost, i.unit_cost), 2) AS bv,
         round(l.counted_quantity * coalesce(l.unit_cost, i.unit_cost), 2) AS cv
  FROM st JOIN stocktake_line l ON l.stocktake_id = st.id JOIN stock_item i ON i.id = l.stock_item_id
)
SELECT count(*) AS items, count(diff) AS counted, count(*) FILTER (WHERE diff < 0) AS shortages,
       count(*) FILTER (WHERE diff > 0) AS surpluses,
       coalesce(sum(bv) FILTER (WHERE diff IS NOT NULL), 0) AS book_value,
       coalesce(sum(cv) FILTER (WHERE diff IS NOT NULL), 0) AS counted_value,
       coalesce(sum(cv - bv) FILTER (WHERE diff IS NOT NULL), 0) AS difference_value,
       coalesce(sum(cv - bv) FILTER (WHERE diff IS NOT NULL AND cv - bv < 0), 0) AS shortage_value,
       coalesce(sum(cv - bv) FILTER (WHERE diff IS NOT NULL AND cv - bv > 0), 0) AS surplus_value
FROM v
"""
STOCK_TOTALS = ("items", "counted", "shortages", "surpluses", "book_value", "counted_value", "difference_value",
                "shortage_value", "surplus_value")


async def hand_stocktake(conn: Any, estate: EstateInfo, month: str) -> Figures:
    row = await conn.fetchrow(STOCKTAKE, estate.id, month)
    return _clean({("total", "", k): row[k] for k in STOCK_TOTALS})


def stocktake_figures(report: dict[str, Any]) -> Figures:
    t = report["totals"]
    return _clean({("total", "", k): _d(t[k]) if isinstance(t[k], str) else t[k] for k in STOCK_TOTALS})


def differences(service: Figures, hand: Figures) -> list[str]:
    """What the two sides disagree on, one line per figure (empty: they agree)."""
    keys = sorted(set(service) | set(hand))
    return [f"{'/'.join(k)}: report {service.get(k, 0)} != sql {hand.get(k, 0)}"
            for k in keys if _d(service.get(k, 0)) != _d(hand.get(k, 0))]
