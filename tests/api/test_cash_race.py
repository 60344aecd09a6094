"""Voids racing a hand-over (交款, §5.4): real concurrent requests, each in its own session.

Whatever order PostgreSQL lets them through in, every voided receipt is either "voided before
the hand-over" (not counted in its session, no adjustment) or "voided after" (still counted
in its session, one adjustment in the voider's) -- and the session's lines add up to its figures.
"""
from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal

from app.domain.auth.roles import Role
from tests.factories import make_staff
from tests.helpers.cash import current, get, hand_over
from tests.helpers.payments import API, desk, keyed, pay

ROUNDS = 6
VOIDS = 4


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _check_session_adds_up(s: dict) -> None:
    counted = [line for line in s["receipts"] if line["counted"]]
    assert sum(Decimal(line["amount"]) for line in counted) == Decimal(s["expected_total"]), s
    assert len(counted) == s["receipt_count"], s
    assert len(s["receipts"]) - len(counted) == s["void_count"], s
    for m in s["by_method"]:
        mine = [line for line in counted if line["method"] == m["method"]]
        assert (len(mine), sum((Decimal(x["amount"]) for x in mine), Decimal("0"))) == (m["receipts"], Decimal(m["expected"])), s


async def test_voids_sent_with_the_hand_over_land_on_one_side_of_it(client, session):
    d = await desk(session)
    supervisor = await make_staff(session, estates=[d.estate], roles=[Role.supervisor], full_name="張主管")
    before_seen = after_seen = 0
    for n in range(ROUNDS):
        cashier = await make_staff(session, estates=[d.estate], roles=[Role.receptionist], full_name=f"收銀{n}")
        paid = [(await pay(client, d, staff=cashier, amount=f"{10 + i}.00")).json()["receipt"] for i in range(VOIDS + 1)]
        sid = (await current(client, d, cashier))["id"]
        expected_cash = sum(Decimal(p["amount"]) for p in paid)
        note = {"note": "作废在交款时", "counted_cash": str(expected_cash)}
        results = await asyncio.gather(
            hand_over(client, sid, cashier, **note),
            *[client.post(f"{API}/receipts/{p['id']}/void", json={"reason": "收错户"}, headers=keyed(supervisor.headers))
              for p in paid[:VOIDS]])
        assert [r.status_code for r in results] == [200] * (VOIDS + 1), [r.text for r in results]

        handed = await get(client, sid, cashier)
        _check_session_adds_up(handed)
        adjusted = {a["receipt_id"]: a for a in (await current(client, d, supervisor))["adjustments"]}
        for line in handed["receipts"]:
            assert line["status"] == ("void" if line["id"] != paid[-1]["id"] else "issued")
            if line["status"] != "void":
                continue
            # Counted in the handed-over session exactly when its money was booked elsewhere.
            assert line["counted"] == (line["id"] in adjusted), (line, handed["handed_over_at"])
            if line["counted"]:
                assert Decimal(adjusted[line["id"]]["amount"]) == -Decimal(line["amount"])
                assert _at(line["voided_at"]) > _at(handed["handed_over_at"])
                after_seen += 1
            else:
                assert _at(line["voided_at"]) < _at(handed["handed_over_at"])
                before_seen += 1
    mine = await current(client, d, supervisor)
    # The supervisor's drawer took nothing: the voids after hand-over are reported beside it.
    _check_session_adds_up(mine)
    assert Decimal(mine["expected_total"]) == 0 and len(mine["adjustments"]) == after_seen
    assert sum(Decimal(m["adjusted"]) for m in mine["by_method"]) == sum(Decimal(a["amount"]) for a in mine["adjustments"]) < 0
    assert after_seen > 0, "no void waited for the hand-over: the race was not run"
