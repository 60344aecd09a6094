"""The statement parser and the matcher by themselves: no database, no HTTP."""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import pytest

from app.domain.fees.channels.model import Channel
from app.domain.fees.channels.reconciliation.matching import Booked, match
from app.domain.fees.channels.reconciliation.model import MatchCategory
from app.domain.fees.channels.reconciliation.statements import LineKind, StatementUnreadable, parse
from tests.fakes.wechatpay_bill import BillLine, bill_text

AT = datetime(2026, 12, 7, 9, 30)
C = MatchCategory


def tx(n: int, amount: str = "100.00", **kw) -> BillLine:
    return BillLine(at=AT, transaction_id=f"4200{n:024d}", out_trade_no=f"PD{n:024d}", amount=Decimal(amount), **kw)


def booked(n: int, amount: str = "100.00", *, status: str = "paid", on_day: bool = True, kind=LineKind.payment,
           channel_ref: str | None = None) -> Booked:
    return Booked(kind=kind, id=uuid.uuid4(), out_no=f"PD{n:024d}", channel_ref=channel_ref or f"4200{n:024d}",
                  amount=Decimal(amount), status=status, done=status == "paid", on_day=on_day)


def test_a_bill_reads_with_its_summary_and_a_comma_in_a_description():
    refund = tx(1, status="REFUND", refund_id="503" + "0" * 25, out_refund_no="RF1", refund_amount=Decimal("30.00"))
    statement = parse(Channel.wechat, bill_text([tx(1, description="物业费,2026年12月"), tx(2, "55.50"), refund]).encode())
    assert [(x.kind, x.amount, x.out_no) for x in statement.lines] == [
        (LineKind.payment, Decimal("100.00"), f"PD{1:024d}"), (LineKind.payment, Decimal("55.50"), f"PD{2:024d}"),
        (LineKind.refund, Decimal("30.00"), "RF1")]
    assert statement.lines[2].out_trade_no == f"PD{1:024d}" and statement.lines[2].fee == Decimal("-0.18")
    s = statement.summary
    assert (s.count, s.settled_total, s.refund_total, s.fee_total) == (3, Decimal("155.50"), Decimal("30.00"), Decimal("0.75"))
    assert statement.net == Decimal("155.50") - Decimal("30.00") - Decimal("0.75")


def test_a_line_stated_twice_is_refused_by_its_line():
    text = bill_text([tx(1), tx(1)])
    with pytest.raises(StatementUnreadable) as caught:
        parse(Channel.wechat, text.encode())
    assert caught.value.extra["line"] == 3


def test_each_category():
    lines = parse(Channel.wechat, bill_text([tx(1), tx(2, "99.00"), tx(3), tx(4), tx(6, status="REVOKED")]).encode()).lines
    mine = [booked(1), booked(2), booked(3, status="pending"), booked(5), booked(7, on_day=False), booked(6, status="closed")]
    got = {o.reference[-1]: o.category for o in match(lines, mine)}
    assert got == {"1": C.matched, "2": C.amount_mismatch, "3": C.status_mismatch, "4": C.channel_only, "5": C.here_only,
                   "6": C.matched}


def test_another_transaction_for_our_order_and_a_reversal_of_a_paid_one_are_status_mismatches():
    lines = parse(Channel.wechat, bill_text([tx(1), tx(2, status="REVOKED")]).encode()).lines
    outcomes = match(lines, [booked(1, channel_ref="4200" + "9" * 24), booked(2)])
    assert [o.category for o in outcomes] == [C.status_mismatch, C.status_mismatch]


def test_a_refund_line_meets_a_booked_refund_by_our_refund_number():
    refund = tx(1, status="REFUND", refund_id="503" + "1" * 25, out_refund_no="PD" + "1".zfill(24), refund_amount=Decimal("30.00"))
    lines = parse(Channel.wechat, bill_text([refund]).encode()).lines
    assert [o.category for o in match(lines, [])] == [C.channel_only]
    mine = booked(1, "30.00", kind=LineKind.refund, channel_ref="503" + "1" * 25)
    assert [o.category for o in match(lines, [mine])] == [C.matched]
