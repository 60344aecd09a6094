"""The demo year's payments, receipts and cashier days (see app/demo/fees.py for the whole story).

Who pays when and how, the few mistakes voided and re-keyed, the one refund of credit, the
drawers handed over and acknowledged, and the gapless receipt numbers, all as plain rows for
app.demo.fees to write in bulk.
"""
from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from typing import Any

from app.demo.fees import (
    ACK_NOTES,
    DIFFERENCES,
    METHOD_NAMES,
    METHOD_WEIGHTS,
    MONTHS,
    PROFILES,
    VOIDS,
    ZERO,
    M,
    _Charge,
    _Estate,
    _Payment,
    _weekday,
)
from app.domain.calendar import estate_time
from app.domain.fees.cash.model import SessionStatus
from app.domain.fees.payments import service as payments
from app.domain.fees.payments.model import DRAWER_METHODS, PaymentMethod, ReceiptSeries, ReceiptStatus, format_number
from app.domain.registry.model import Unit

# --- payments ----------------------------------------------------------------------------

def _pay_months(rng: random.Random, profile: str) -> list[tuple[int, bool]]:
    """(month index, pays only what fell due before that month) of a unit's visits to the desk."""
    if profile == "monthly":
        return [(i, False) for i in range(MONTHS)]
    if profile == "quarterly":
        return [(i, False) for i in range(2, MONTHS, 3)]
    if profile == "late":
        return [(i, True) for i in range(1, MONTHS) if rng.random() > 0.15]
    if profile == "behind":
        return [(i, False) for i in range(MONTHS - rng.choice([2, 3]))]
    return [(i, False) for i in range(rng.randint(2, 6))]  # stopped: months of arrears since


def _visit(rng: random.Random, e: _Estate, month: str, *, late: bool) -> datetime | None:
    """A weekday in office hours; paid before 16:40 so the drawer is counted by 17:00."""
    day = _weekday(estate_time.month_first(month) + timedelta(days=rng.randint(4, 27) if late else rng.randint(0, 24)))
    hour = rng.choice([8, 9, 9, 10, 10, 11, 14, 15, 15, 16])
    minute = rng.randint(15, 59) if hour == 8 else rng.randint(0, 40) if hour == 16 else rng.randrange(60)
    at = e.at(day, hour, minute, rng.randrange(60))
    return at if at <= e.now else None


def _reference(rng: random.Random, method: PaymentMethod, at: datetime) -> str:
    day = at.strftime("%Y%m%d")
    if method is M.wechat:
        return f"4200{rng.randrange(10**6):06d}{day}{rng.randrange(10**10):010d}"
    if method is M.alipay:
        return f"{day}2200{rng.randrange(10**16):016d}"
    if method is M.bank_card:
        return f"POS{rng.randrange(10**12):012d}"
    return f"TR{day}{rng.randrange(10**8):08d}" if method is M.bank_transfer else ""


def _tender(rng: random.Random, amount: Decimal) -> tuple[Decimal, Decimal]:
    step = rng.choice([None, None, Decimal(10), Decimal(50), Decimal(100)])
    if step is None:
        return amount, ZERO
    tendered = (amount / step).to_integral_value(ROUND_CEILING) * step
    return tendered, tendered - amount


def _pay(rng: random.Random, e: _Estate, unit: Unit, at: datetime, *, late: bool) -> _Payment | None:
    """Everything due by the visit (by the month before, for late payers); now and then a part, or ahead."""
    cutoff = e.day_of(at)
    if late:
        cutoff = estate_time.first_of_month(cutoff) - timedelta(days=1)
    open_ = sorted((c for c in e.charges.get(unit.id, []) if c.created_at <= at and c.outstanding > 0), key=_Charge.key)
    due = sum((c.outstanding for c in open_ if c.due_date <= cutoff), ZERO)
    if due <= 0:
        return None
    amount, roll = due, rng.random()
    if roll < 0.03 and due > 100:
        amount = (due / 2).to_integral_value(ROUND_DOWN)  # the rest next time
    elif roll < 0.05:
        amount = (due / 100).to_integral_value(ROUND_CEILING) * 100 + 100  # ahead: kept on account
    method = rng.choices(list(METHOD_WEIGHTS), weights=list(METHOD_WEIGHTS.values()))[0]
    parts, credit = payments.allocate(amount, open_, selected=False)
    for charge, part in parts:
        charge.amount_paid += part
        if charge.amount_paid == charge.amount:
            charge.paid_at = at
    tendered, change = _tender(rng, amount) if method is M.cash else (None, None)
    return _Payment(unit_id=unit.id, at=at, method=method, reference=_reference(rng, method, at), amount=amount,
                    tendered=tendered, change=change, credit=credit, cashier_id=e.users["reception"].id,
                    payer=e.payers.get(unit.id, "") if rng.random() < 0.8 else "", parts=parts)


def payments_of(rng: random.Random, e: _Estate, never: set[uuid.UUID]) -> list[_Payment]:
    out: list[_Payment] = []
    for unit in e.units:
        if unit.id in never:
            continue
        profile = "quarterly" if unit.is_vacant else rng.choices(list(PROFILES), weights=list(PROFILES.values()))[0]
        for index, late in _pay_months(rng, profile):
            at = _visit(rng, e, e.months[index], late=late)
            payment = _pay(rng, e, unit, at, late=late) if at is not None else None
            if payment is not None:
                out.append(payment)
    _mistakes(rng, e, out)
    return out


def _mistakes(rng: random.Random, e: _Estate, out: list[_Payment]) -> None:
    """A few receipts keyed with the wrong method, voided by the supervisor minutes later and issued again."""
    candidates = [p for p in out if p.credit == 0 and e.day_of(p.at) < e.today]
    for right in rng.sample(candidates, min(VOIDS, len(candidates))):
        method = M.wechat if right.method is M.cash else M.cash
        at = right.at - timedelta(minutes=6)
        reason = f"收款方式录错（业主实为{METHOD_NAMES[right.method]}支付），作废重开"
        out.append(_Payment(
            unit_id=right.unit_id, at=at, method=method, reference=_reference(rng, method, at), amount=right.amount,
            tendered=right.amount if method is M.cash else None, change=ZERO if method is M.cash else None, credit=ZERO,
            payer=right.payer, cashier_id=right.cashier_id, parts=list(right.parts),
            void=(right.at - timedelta(minutes=2), reason, e.users["supervisor"].id)))


def refund_of(rng: random.Random, e: _Estate, pays: list[_Payment]) -> dict[str, Any] | None:
    """One owner who paid ahead asked for the money back: the supervisor transfers it."""
    paid_ahead = [p for p in pays if p.credit > 0 and (e.today - e.day_of(p.at)).days >= 10]
    if not paid_ahead:
        return None
    pay = rng.choice(paid_ahead)
    day = _weekday(e.day_of(pay.at) + timedelta(days=rng.randint(3, 6)))
    at = e.at(day, 10, rng.randrange(60), rng.randrange(60))
    return dict(id=uuid.uuid4(), created_at=at, estate_id=e.estate.id, unit_id=pay.unit_id, amount=pay.credit,
                method=M.bank_transfer.value, reference=_reference(rng, M.bank_transfer, at),
                reason="业主多缴，申请退回账上余额", cashier_id=e.users["supervisor"].id, cashier_session_id=None,
                refunded_at=at)


# --- the cashier's days and the numbered documents ----------------------------------------

def sessions_of(rng: random.Random, e: _Estate, pays: list[_Payment], refund: dict[str, Any] | None) -> None:
    """One session per cashier and day; the past ones handed over at 16:45 and taken by finance."""
    sessions: dict[tuple[uuid.UUID, date], dict[str, Any]] = {}

    def of(cashier_id: uuid.UUID, at: datetime, method: PaymentMethod, amount: Decimal) -> uuid.UUID:
        row = sessions.setdefault((cashier_id, e.day_of(at)), {
            "id": uuid.uuid4(), "created_at": at, "takings": {m: ZERO for m in DRAWER_METHODS}})
        row["created_at"] = min(row["created_at"], at)
        row["takings"][method] += amount
        session_id: uuid.UUID = row["id"]
        return session_id

    for p in pays:
        # A receipt voided before the hand-over counts for nothing in it.
        p.session_id = of(p.cashier_id, p.at, p.method, ZERO if p.void else p.amount)
    if refund is not None:
        refund["cashier_session_id"] = of(refund["cashier_id"], refund["created_at"], M(refund["method"]), -refund["amount"])
    of(e.users["reception"].id, min(e.now, e.at(e.today, 8, 0)), M.cash, ZERO)  # today's drawer, open
    past = [k for k in sessions if k[1] < e.today]
    cash_days = [k for k in past if k[0] == e.users["reception"].id and sessions[k]["takings"][M.cash] > 20]
    short = dict(zip(rng.sample(cash_days, min(rng.randint(1, 2), len(cash_days))), DIFFERENCES, strict=False))
    for (cashier_id, day), row in sorted(sessions.items(), key=lambda kv: (kv[0][1], str(kv[0][0]))):
        e.add("cashier_sessions", _session_row(rng, e, cashier_id, day, row, short.get((cashier_id, day))))


def _session_row(rng: random.Random, e: _Estate, cashier_id: uuid.UUID, day: date, row: dict[str, Any],
                 difference: tuple[Decimal, str] | None) -> dict[str, Any]:
    out = dict(id=row["id"], created_at=row["created_at"], estate_id=e.estate.id, cashier_id=cashier_id, day=day,
               status=SessionStatus.open.value, expected={}, counted_cash=None, difference=None, note="",
               handed_over_at=None, acknowledged_at=None, acknowledged_by=None, flagged_late_at=None, acknowledge_note="")
    if day >= e.today:
        return out
    diff, note = difference or (ZERO, "")
    handed = e.at(day, 16, rng.randint(45, 58), rng.randrange(60))
    out.update(status=SessionStatus.acknowledged.value, expected={m.value: str(v) for m, v in row["takings"].items()},
               counted_cash=row["takings"][M.cash] + diff, difference=diff, note=note, handed_over_at=handed,
               acknowledged_at=handed + timedelta(minutes=rng.randint(8, 50)), acknowledged_by=e.users["finance"].id,
               acknowledge_note="差额已登记" if diff else rng.choice(ACK_NOTES))
    return out


def documents_of(e: _Estate, pays: list[_Payment], refund: dict[str, Any] | None) -> None:
    """Payments, allocations, the refund and the receipts, numbered in issue order."""
    docs: list[tuple[datetime, ReceiptSeries, Any]] = [(p.at, ReceiptSeries.receipt, p) for p in pays]
    if refund is not None:
        docs.append((refund["created_at"], ReceiptSeries.refund, refund))
        e.add("refunds", refund)
    last: dict[tuple[ReceiptSeries, int], int] = {}
    for at, series, doc in sorted(docs, key=lambda d: d[0]):
        year = e.day_of(at).year
        seq = last[(series, year)] = last.get((series, year), 0) + 1
        receipt = dict(id=uuid.uuid4(), created_at=at, estate_id=e.estate.id, series=series.value, year=year, seq=seq,
                       number=format_number(estate_code=e.estate.code, series=series, year=year, seq=seq),
                       payment_id=None, refund_id=None, amount=None, issued_at=at,
                       status=ReceiptStatus.issued.value, void_reason="", voided_at=None, voided_by=None)
        if isinstance(doc, _Payment):
            receipt.update(payment_id=doc.id, unit_id=doc.unit_id, amount=doc.amount, issued_by=doc.cashier_id,
                           cashier_session_id=doc.session_id)
            if doc.void is not None:
                receipt.update(status=ReceiptStatus.void.value, voided_at=doc.void[0], void_reason=doc.void[1],
                               voided_by=doc.void[2])
            _payment_rows(e, doc)
        else:
            receipt.update(refund_id=doc["id"], unit_id=doc["unit_id"], amount=doc["amount"], issued_by=doc["cashier_id"],
                           cashier_session_id=doc["cashier_session_id"])
        e.add("receipts", receipt)
    for (series, year), seq in last.items():
        e.add("document_counters", dict(estate_id=e.estate.id, series=series.value, year=year, last_seq=seq))


def _payment_rows(e: _Estate, p: _Payment) -> None:
    e.add("payments", dict(
        id=p.id, created_at=p.at, estate_id=e.estate.id, unit_id=p.unit_id, method=p.method.value, reference=p.reference,
        amount=p.amount, tendered=p.tendered, change_given=p.change, credit=p.credit, payer_name=p.payer,
        cashier_id=p.cashier_id, cashier_session_id=p.session_id, received_at=p.at))
    for charge, part in p.parts:
        e.add("allocations", dict(id=uuid.uuid4(), created_at=p.at, estate_id=e.estate.id, payment_id=p.id,
                                  charge_id=charge.id, amount=part, reversed_at=p.void[0] if p.void else None))
