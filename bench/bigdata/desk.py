"""Complaints walked through their transition table, and the store room: items, receipts,
issues to vouchers, monthly stocktakes (posted, with their differences booked), the book
always equal to the last movement's balance."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from app.demo.complaints import STORIES
from app.demo.stock import CATALOGUE
from bench.bigdata.plan import Estate, add_months
from bench.bigdata.rows import NULL, flag, ts

SEVERITIES = ["low", "normal", "high", "urgent"]
WINDOWS = {"urgent": timedelta(hours=24), "high": 3, "normal": 7, "low": 15}  # days end at local midnight
STATUS_AFTER = {"assign": "assigned", "step": "in_progress", "escalate": "escalated", "resolve": "resolved",
                "happy": "closed", "unhappy": "reopened", "withdraw": "withdrawn"}
PLANS = [(80, ["assign", "step", "resolve", "happy"]), (6, ["assign", "step", "escalate", "resolve", "happy"]),
         (6, ["assign", "step", "resolve", "unhappy", "assign", "step", "resolve", "happy"]), (8, ["assign", "withdraw"])]
GAPS = {"assign": (0.2, 4), "step": (2, 30), "escalate": (4, 24), "resolve": (4, 48), "happy": (20, 72),
        "unhappy": (20, 72), "withdraw": (1, 48)}


def complaints(e: Estate, count: int) -> None:
    rng = e.rng
    span = (e.now - e.start).total_seconds()
    received = sorted(e.start + timedelta(seconds=span * rng.random()) for _ in range(count))
    last: dict[int, int] = {}
    for at in received:
        last[at.year] = last.get(at.year, 0) + 1
        _complaint(e, at, f"TS-{at.year}-{last[at.year]:04d}")
    for year, seq in sorted(last.items()):
        e.rows.add("document_counter", e.id, "complaint", str(year), str(seq))


def _complaint(e: Estate, at: datetime, number: str) -> None:
    rng = e.rng
    cid, unit = e.id_of(), e.private_units[rng.randrange(len(e.private_units))]
    owner, j = e.owners[unit[4]], e.unit_building[unit[0]][1]
    category, said, done, resolution = STORIES[rng.randrange(len(STORIES))]
    severity = rng.choices(SEVERITIES, [15, 60, 20, 5])[0]
    window = WINDOWS[severity]
    deadline = at + window if isinstance(window, timedelta) else datetime.combine(
        at.date() + timedelta(days=window), time(23, 59, 59))
    handler, recep = e.users("manager")[j], e.users("reception")[rng.randrange(3)]
    f: dict = dict(status="registered", handler=None, assigned=None, escalated=None, resolved=None, satisfied=None,
                   feedback=None, closed=None, withdrawn=None, reopened=0)
    plan = rng.choices([p for _w, p in PLANS], [w for w, _p in PLANS])[0]
    moment = at
    for verb in plan:
        low, high = GAPS[verb]
        moment += timedelta(hours=low + rng.random() * (high - low))
        if moment > e.now:
            break
        note, satisfied = {"assign": ("指派处理", None), "step": (done, None), "escalate": ("业主要求升级处理", None),
                           "resolve": (resolution, None), "happy": ("业主表示满意", True),
                           "unhappy": ("业主仍不满意", False), "withdraw": ("业主撤回投诉", None)}[verb]
        kind = {"assign": "assigned", "happy": "feedback", "unhappy": "feedback", "withdraw": "withdrawn",
                "escalate": "escalated", "resolve": "resolved"}.get(verb, "step")
        e.rows.add("complaint_step", e.id_of(), ts(moment), e.id, cid, kind, note, ts(moment),
                   handler if verb == "step" else recep, recep, flag(satisfied))
        f["status"] = STATUS_AFTER[verb]
        if verb == "assign":
            f.update(handler=handler, assigned=moment)
        elif verb == "escalate":
            f["escalated"] = moment
        elif verb == "resolve":
            f["resolved"] = moment
        elif verb in ("happy", "unhappy"):
            f.update(satisfied=satisfied, feedback=moment, closed=moment if satisfied else None,
                     reopened=f["reopened"] + (not satisfied))
        elif verb == "withdraw":
            f["withdrawn"] = moment
    e.rows.add("complaint", cid, ts(at), e.id, number, owner[0], unit[0], NULL, owner[1], owner[2],
               rng.choice(["phone", "walk_in", "online"]), category.value, severity, said, ts(at), ts(deadline),
               f["status"], recep, opt_id(f["handler"]), ts(f["assigned"]), ts(f["escalated"]),
               e.staff["supervisor"] if f["escalated"] else NULL, "业主要求升级处理" if f["escalated"] else "",
               resolution if f["resolved"] else "", ts(f["resolved"]), handler if f["resolved"] else NULL,
               flag(f["satisfied"]), ("业主表示满意" if f["satisfied"] else "业主仍不满意") if f["feedback"] else "",
               ts(f["feedback"]), str(f["reopened"]), ts(f["closed"]), ts(f["withdrawn"]),
               "业主撤回投诉" if f["withdrawn"] else "")


def opt_id(value: str | None) -> str:
    return NULL if value is None else value


# --- the store room ------------------------------------------------------------------------

def stock(e: Estate) -> None:
    """Replays the estate's stock events in time order, so every balance is the running book."""
    rng, rows = e.rng, e.rows
    items = [dict(id=e.id_of(), spec=spec, par=Decimal(spec[5]) * 3, balance=Decimal(0), at=None) for spec in CATALOGUE]
    events: list[tuple] = [(e.start - timedelta(days=1), 0, "open_book", None)]
    for i in range(1, len(e.months)):
        first = add_months(e.start.date(), i)
        events.append((datetime.combine(first, time(9)), 1, "restock", None))
    for m in range(len(e.months)):
        opened = datetime.combine(add_months(e.start.date(), m).replace(day=25), time(15))
        events.append((opened, 2, "stocktake", m))
    events += [(d[0], 3, "draw", d) for d in e.draws]
    events.sort(key=lambda x: (x[0], x[1]))
    for at, _order, kind, data in events:
        if at > e.now:
            break
        if kind in ("open_book", "restock"):
            for item in items:
                if item["par"] > item["balance"]:
                    _move(e, item, "received", item["par"] - item["balance"], at,
                          reference="期初库存" if kind == "open_book" else f"采购入库{at:%Y%m}", actor=e.staff["records"])
        elif kind == "draw":
            _draw(e, items, data)
        else:
            _stocktake(e, items, at)
    created = ts(e.start - timedelta(days=2))
    for item in items:
        code, name, category, unit, cost = item["spec"][:5]
        rows.add("stock_item", item["id"], created, e.id, code, name, category.value, unit, cost,
                 f"{item['balance']:.3f}", "t", "", ts(item["at"]))


def _move(e: Estate, item: dict, kind: str, qty: Decimal, at: datetime, *, reference: str = "", actor: str,
          order: str = NULL, voucher: str = NULL, stocktake: str = NULL, note: str = "") -> str:
    item["balance"] += qty
    item["at"] = at
    mid = e.id_of()
    e.rows.add("stock_movement", mid, ts(at), e.id, item["id"], kind, f"{qty:.3f}", f"{item['balance']:.3f}",
               item["spec"][4], ts(at), order, voucher, stocktake, reference, note, actor)
    return mid


def _draw(e: Estate, items: list[dict], draw: tuple) -> None:
    at, voucher, order, tech = draw
    rng = e.rng
    for line_no in range(1, 2 + (rng.random() < 0.4)):
        item = items[rng.randrange(len(items))]
        low, high = (Decimal(x) for x in item["spec"][6])
        qty = low + (high - low) * Decimal(rng.randint(0, 10)) / 10
        qty = qty.quantize(Decimal("0.1")) if low != low.to_integral_value() else qty.to_integral_value()
        if qty <= 0 or qty > item["balance"]:
            continue
        e.rows.add("voucher_material", e.id_of(), ts(at), e.id, voucher, str(line_no), item["spec"][1], f"{qty:.2f}",
                   item["spec"][3], item["id"])
        _move(e, item, "issued", -qty, at, actor=tech, order=order, voucher=voucher, reference="维修领用")


def _stocktake(e: Estate, items: list[dict], opened: datetime) -> None:
    """Opened on the 25th at 15:00, counted at 16:00, posted at 17:00 with its shortages booked."""
    rng, month = e.rng, f"{opened:%Y-%m}"
    counted, posted = opened + timedelta(hours=1), opened + timedelta(hours=2)
    status = "posted" if posted <= e.now else "counting" if counted <= e.now else "open"
    sid, clerk, boss = e.id_of(), e.staff["records"], e.staff["supervisor"]
    due = datetime.combine(add_months(opened.date(), 1) - timedelta(days=1), time(23, 59, 59))
    e.rows.add("stocktake", sid, ts(opened), e.id, f"PD-{opened:%Y%m}-01", month, status, ts(opened), clerk, ts(due), "",
               ts(posted if status == "posted" else None), boss if status == "posted" else NULL, NULL, NULL, "", NULL,
               NULL)
    for item in items:
        code, name, _c, unit, cost = item["spec"][:5]
        book = item["balance"]
        count = book - 1 if book >= 1 and rng.random() < 0.1 else book
        adjustment = NULL
        if status == "posted" and count != book:
            adjustment = _move(e, item, "adjusted", count - book, posted, actor=boss, stocktake=sid,
                               reference=f"PD-{opened:%Y%m}-01", note="盘亏")
        done = status != "open"
        e.rows.add("stocktake_line", e.id_of(), ts(opened), e.id, sid, item["id"], code, name, unit, f"{book:.3f}",
                   f"{book:.3f}" if done else NULL, f"{count:.3f}" if done else NULL, ts(counted if done else None),
                   clerk if done else NULL, "", cost if status == "posted" else NULL, adjustment)
