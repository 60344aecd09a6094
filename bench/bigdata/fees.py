"""Three years of monthly billing and the desk's payments: charges, allocations, gapless
receipts, cashier sessions handed over and taken by finance, and the counters left at the
last number issued.

The rules are the services': charges as `billing.compute` makes them, payments settling a
unit's open charges oldest first (`payments.allocate`'s order), a voided receipt's allocations
reversed, `amount_paid` = the allocations not reversed, a payment = its allocations + credit,
each session's `expected` = its receipts not voided, per method.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from bench.bigdata.plan import Estate, weekday
from bench.bigdata.rows import NULL, js, money, ts

METHODS = ["cash", "wechat", "alipay", "bank_card", "bank_transfer"]
METHOD_WEIGHTS = [44, 26, 14, 10, 6]
PROFILES = ["monthly", "quarterly", "bimonthly", "behind", "stopped", "never"]
PROFILE_WEIGHTS = [50, 25, 8, 10, 4, 3]
VOID_SHARE = 0.003
HOURS = [8, 9, 9, 10, 10, 11, 14, 15, 15, 16]

# A charge: [id, unit, item, period, description, amount, paid, due, basis, source, source id, run, created, paid at]
ID, UNIT, AMOUNT, PAID, DUE, PERIOD, CREATED, PAID_AT = 0, 1, 5, 6, 7, 3, 12, 13


def items(e: Estate) -> tuple[int, int]:
    """The price list; the management fee went up once, halfway through the history. (old, new) fen/m²."""
    created, rows = ts(e.start - timedelta(days=400)), e.rows
    for code, name, kind, label, to_all, rule, discount in [
            ("mgmt", "物业管理费", "per_area", "元/㎡·月", "t", "discount", "0.3000"),
            ("parking", "车位管理费", "fixed", "元/个·月", "f", "charge", "0.0000"),
            ("repair", "有偿维修费", "one_off", "元", "f", "charge", "0.0000")]:
        e.fee_items[code] = e.id_of()
        rows.add("fee_item", e.fee_items[code], created, e.id, code, name, kind, label, to_all, rule, discount, "1", "t")
    since = e.start.date().replace(year=e.start.year - 2)
    # Only the management fee accrues 滞纳金: 0.03% a day after 30 days' grace, at most 30% of the charge.
    rows.add("late_fee_rule", e.id_of(), created, e.id, since.isoformat(), "0.000300", "30", "0.3000",
             "{" + e.fee_items["mgmt"] + "}")
    old = 150 + (e.no * 7) % 100
    rows.add("fee_price", e.id_of(), created, e.id, e.fee_items["mgmt"], since.isoformat(), money(old))
    rows.add("fee_price", e.id_of(), created, e.id, e.fee_items["mgmt"], f"{e.months[18]}-01", money(old + 15))
    rows.add("fee_price", e.id_of(), created, e.id, e.fee_items["parking"], since.isoformat(), "80.00")
    return old, old + 15


def billing(e: Estate, prices: tuple[int, int]) -> dict[str, list[list]]:
    """The monthly runs (the 1st at 06:00) and their charges; returns each unit's charges."""
    rng, rows = e.rng, e.rows
    parking = {u[0]: (2 if rng.random() < 0.08 else 1) for u in e.private_units if not u[3] and rng.random() < 0.05}
    created = ts(e.start - timedelta(days=30))
    for unit_id, qty in parking.items():
        rows.add("unit_fee_item", e.id_of(), created, e.id, unit_id, e.fee_items["parking"], f"{qty}.00", e.months[0],
                 NULL)
    charges: dict[str, list[list]] = {u[0]: [] for u in e.private_units}
    bases: dict[tuple, tuple[int, str]] = {}
    for i, month in enumerate(e.months):
        at = datetime(int(month[:4]), int(month[5:]), 1, 6, 0)
        if at > e.now:
            break
        run, price, due = e.id_of(), prices[i >= 18], date(at.year, at.month, 1)
        text = f"{at.year}年{at.month}月"
        n = total = 0
        for unit_id, _b, area, vacant, _o in e.private_units:
            lines = [("mgmt", (price, area, vacant))] + ([("parking", (8000, parking[unit_id]))] if unit_id in parking else [])
            for code, key in lines:
                amount, basis = bases.get((code, key)) or bases.setdefault((code, key), _basis(code, key))
                charges[unit_id].append([e.id_of(), unit_id, e.fee_items[code], month,
                                         text + ("物业管理费" if code == "mgmt" else "车位管理费"), amount, 0, due, basis,
                                         "billing", NULL, run, at + timedelta(microseconds=n), None])
                n, total = n + 1, total + amount
        rows.add("billing_run", run, ts(at), e.id, month, "billing_run", NULL, str(n), money(total))
    for unit_id, due, at, fen, voucher, text in e.extra_charges:
        if unit_id in charges:
            charges[unit_id].append([e.id_of(), unit_id, e.fee_items["repair"], None, text, fen, 0, due,
                                     js({"voucher_id": voucher, "amount": money(fen)}), "voucher", voucher, NULL, at, None])
    for unit_charges in charges.values():
        unit_charges.sort(key=lambda c: (c[DUE], c[PERIOD] or "", c[CREATED], c[ID]))
    return charges


def _basis(code: str, key: tuple) -> tuple[int, str]:
    if code == "parking":
        fen, qty = key
        return fen * qty, js({"rate": money(fen), "quantity": f"{qty}.00", "months": 1, "vacant_discount": None})
    price, area, vacant = key
    gross = (price * area + 50) // 100
    basis = {"rate": money(price), "area": money(area), "months": 1, "vacant_discount": None}
    if not vacant:
        return gross, js(basis)
    discount = (gross * 30 + 50) // 100
    basis.update(vacant_discount="0.3000", gross=money(gross), discount=money(discount))
    return gross - discount, js(basis)


def _visits(e: Estate, profile: str) -> list[int]:
    """The months (indexes) in which the unit's owner came to the desk."""
    rng, months = e.rng, len(e.months)
    if profile == "monthly":
        return list(range(months))
    if profile == "quarterly":
        return list(range(2, months, 3))
    if profile == "bimonthly":
        return list(range(1, months, 2))
    if profile == "behind":
        return list(range(months - rng.choice([2, 3, 4, 5])))
    if profile == "stopped":
        return list(range(rng.randint(6, 30)))
    return []


def _visit(e: Estate, month: str) -> datetime | None:
    rng = e.rng
    d = weekday(date(int(month[:4]), int(month[5:]), 1) + timedelta(days=rng.randint(0, 24)))
    hour = HOURS[rng.randrange(len(HOURS))]
    minute = rng.randint(15, 59) if hour == 8 else rng.randint(0, 40) if hour == 16 else rng.randrange(60)
    at = datetime.combine(d, time(hour, minute, rng.randrange(60)))
    return at if at <= e.now else None



def payments(e: Estate, charges: dict[str, list[list]]) -> list[list]:
    """Every unit's visits; each pays what has fallen due (now and then half, or ahead)."""
    rng, out = e.rng, []
    receptionists = e.users("reception")
    for unit_id, _b, _area, vacant, owner in e.private_units:
        profile = "quarterly" if vacant else rng.choices(PROFILES, PROFILE_WEIGHTS)[0]
        mine, first_open = charges[unit_id], 0
        for index in _visits(e, profile):
            at = _visit(e, e.months[index])
            if at is None:
                continue
            while first_open < len(mine) and mine[first_open][PAID] == mine[first_open][AMOUNT]:
                first_open += 1
            open_ = [c for c in mine[first_open:] if c[CREATED] <= at and c[PAID] < c[AMOUNT]]
            due = sum(c[AMOUNT] - c[PAID] for c in open_ if c[DUE] <= at.date())
            if due <= 0:
                continue
            roll, amount = rng.random(), due
            if roll < 0.03 and due > 10000:
                amount = due // 200 * 100  # half, in whole yuan: the rest next time
            elif roll < 0.05:
                amount = (due // 10000 + 2) * 10000  # ahead: the rest kept on account
            parts, left = [], amount
            for c in open_:
                if left <= 0:
                    break
                part = min(left, c[AMOUNT] - c[PAID])
                c[PAID] += part
                if c[PAID] == c[AMOUNT]:
                    c[PAID_AT] = at
                parts.append((c, part))
                left -= part
            method = rng.choices(METHODS, METHOD_WEIGHTS)[0]
            cashier = receptionists[0 if roll < 0.5 else 1 if roll < 0.8 else 2]
            payer = e.owners[owner][1] if rng.random() < 0.8 else ""
            out.append([at, e.id_of(), unit_id, method, amount, left, payer, cashier, parts, None])
            if rng.random() < VOID_SHARE and at.date() < e.today:
                wrong = "wechat" if method == "cash" else "cash"
                voided = at - timedelta(minutes=2)
                out.append([at - timedelta(minutes=6), e.id_of(), unit_id, wrong, amount, left, payer, cashier, parts,
                            (voided, f"收款方式录错（业主实为{method}支付），作废重开")])
    out.sort(key=lambda p: (p[0], p[1]))
    return out
