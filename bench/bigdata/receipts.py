"""The payments as rows: allocations, receipts numbered in issue order (gapless per estate,
series and year), the cashiers' days, the counters at the last number, and the charges with
what was paid on them."""
from __future__ import annotations

from datetime import date, timedelta

from bench.bigdata.fees import METHODS
from bench.bigdata.plan import Estate
from bench.bigdata.rows import NULL, js, money, ts

ACK_NOTES = ["", "", "已核对", "款项已入账"]


def write(e: Estate, pays: list[list], charges: dict[str, list[list]]) -> None:
    sessions = _sessions(e, pays)
    rows, last = e.rows, {}
    for at, pid, unit_id, method, amount, credit, payer, cashier, parts, void in pays:
        session = sessions[(cashier, at.date())]["id"]
        tendered = change = NULL
        if method == "cash":
            step = (0, 0, 1000, 5000, 10000)[e.rng.randrange(5)]
            given = -(-amount // step) * step if step else amount
            tendered, change = money(given), money(given - amount)
        reference = "" if method == "cash" else _reference(e, method, at, pid)
        rows.add("payment", pid, ts(at), e.id, unit_id, method, reference, money(amount), tendered, change, money(credit),
                 payer, cashier, session, ts(at))
        reversed_at = ts(void[0]) if void else NULL
        for charge, part in parts:
            rows.add("allocation", e.id_of(), ts(at), e.id, pid, charge[0], money(part), reversed_at)
        seq = last[at.year] = last.get(at.year, 0) + 1
        rows.add("receipt", e.id_of(), ts(at), e.id, "receipt", str(at.year), str(seq), f"{e.code}-{at.year}-{seq:06d}",
                 pid, NULL, unit_id, money(amount), "void" if void else "issued", ts(at), cashier, session,
                 void[1] if void else "", ts(void[0]) if void else NULL, e.staff["supervisor"] if void else NULL)
    for year, seq in sorted(last.items()):
        rows.add("document_counter", e.id, "receipt", str(year), str(seq))
    _session_rows(e, sessions)
    for unit_charges in charges.values():
        for c in unit_charges:
            rows.add("charge", c[0], ts(c[12]), e.id, c[1], c[2], c[3] or NULL, c[4], money(c[5]), money(c[6]),
                     c[7].isoformat(), c[8], c[9], c[10], c[11], ts(c[13]))


def _reference(e: Estate, method: str, at, pid: str) -> str:  # noqa: ANN001
    tail = int(pid[-12:], 16)  # unique per payment, as the wallets' numbers are
    return {"wechat": f"4200{at:%Y%m%d}{tail:015d}", "alipay": f"{at:%Y%m%d}2200{tail:016d}",
            "bank_card": f"POS{tail:015d}", "bank_transfer": f"TR{at:%Y%m%d}{tail % 10**10:010d}"}[method]


def _sessions(e: Estate, pays: list[list]) -> dict[tuple[str, date], dict]:
    """One per cashier and day with payments; takings per method of the receipts not voided."""
    sessions: dict[tuple[str, date], dict] = {}
    for at, _pid, _unit, method, amount, _credit, _payer, cashier, _parts, void in pays:
        row = sessions.get((cashier, at.date()))
        if row is None:
            row = sessions[(cashier, at.date())] = {"id": e.id_of(), "created": at, "takings": dict.fromkeys(METHODS, 0)}
        if not void:
            row["takings"][method] += amount
    return sessions


def _session_rows(e: Estate, sessions: dict[tuple[str, date], dict]) -> None:
    """Today's stay open; the last working day's are handed over, finance has taken the older ones."""
    rng, finance = e.rng, e.staff["finance"]
    past = [d for _c, d in sessions if d < e.today]
    latest = max(past) if past else None
    for (cashier, d), row in sessions.items():
        expected, handed, acked, counted, diff, note, short = "{}", None, None, NULL, NULL, "", 0
        status = "open" if d >= e.today else "handed_over" if d == latest else "acknowledged"
        if status != "open":
            cash = row["takings"]["cash"]
            short = 1000 if cash > 2000 and rng.random() < 0.002 else 0
            expected = js({m: money(v) for m, v in row["takings"].items()})
            counted, diff = money(cash - short), money(-short)
            note = "找零多找给业主10元，短款已登记" if short else ""
            handed = row["created"].replace(hour=16, minute=45) + timedelta(seconds=rng.randrange(780))
            if status == "acknowledged":
                acked = handed + timedelta(minutes=rng.randint(8, 50) + (16 * 60 if rng.random() < 0.5 else 0))
        e.rows.add("cashier_session", row["id"], ts(row["created"]), e.id, cashier, d.isoformat(), status, expected,
                   counted, diff, note, ts(handed), ts(acked), finance if acked else NULL, NULL,
                   ("差额已登记" if short else ACK_NOTES[rng.randrange(4)]) if acked else "")
