"""The account statement (JSON, CSV, XLSX) and the month-end report's view of deposits and deductions."""
from __future__ import annotations

import io
from datetime import UTC, datetime

import openpyxl
import pytest

from app.domain.auth.roles import Role
from tests.factories import make_staff
from tests.helpers.payments import API, desk
from tests.helpers.prepaid import deduct, deposit, refund_request
from tests.helpers.problems import assert_422, assert_invalid

# Shanghai is UTC+8: 02:00 UTC is 10:00 at the desk.
DAY = {n: datetime(2026, 11, n, 2, 0, tzinfo=UTC) for n in (2, 3, 4, 5)}


async def _day(session, time_machine, d, n: int) -> None:
    """Move to day n; a token lasts 12 hours, so the desk signs in again."""
    time_machine.move_to(DAY[n], tick=False)
    d.staff = await make_staff(session, estates=[d.estate], roles=[Role.receptionist])


async def history(app, client, session, time_machine):
    """Deposit 200.00 on 2 Nov, 160.56 deducted on 3 Nov, 20.00 refunded on 4 Nov, 50.00 deposited on 5 Nov."""
    time_machine.move_to(DAY[2], tick=False)
    d = await desk(session, amounts=("160.56",))
    assert (await deposit(client, d, amount="200.00")).status_code == 201
    await _day(session, time_machine, d, 3)
    await deduct(app, d)
    await _day(session, time_machine, d, 4)
    finance = await make_staff(session, estates=[d.estate], roles=[Role.finance])
    assert (await refund_request(client, d, finance, amount="20.00")).status_code == 201
    await _day(session, time_machine, d, 5)
    assert (await deposit(client, d, amount="50.00", method="wechat", reference="WX-1")).status_code == 201
    return d


class TestStatement:
    async def test_opening_plus_movements_is_closing(self, app, client, session, time_machine):
        d = await history(app, client, session, time_machine)
        r = await client.get(f"{API}/units/{d.unit.id}/account/statement?from=2026-11-03&to=2026-11-04", headers=d.staff.headers)
        assert r.status_code == 200, r.text
        s = r.json()
        # Opening: the 200.00 of 2 Nov. 200.00 + 0 - 160.56 - 20.00 = 19.44.
        assert (s["opening"], s["deposits"], s["deductions"], s["refunds"], s["closing"]) == (
            "200.00", "0.00", "160.56", "20.00", "19.44")
        assert [(ln["kind"], ln["amount"], ln["balance"]) for ln in s["lines"]] == [
            ("deduction", "-160.56", "39.44"), ("refund", "-20.00", "19.44")]
        assert s["lines"][0]["document"].startswith(f"{d.estate.code}-K-") and s["lines"][1]["document"].startswith(
            f"{d.estate.code}-R-")
        whole = (await client.get(f"{API}/units/{d.unit.id}/account/statement?from=2026-11-01&to=2026-11-30",
                                  headers=d.staff.headers)).json()
        # 0 + (200.00 + 50.00) - 160.56 - 20.00 = 69.44.
        assert (whole["opening"], whole["deposits"], whole["closing"]) == ("0.00", "250.00", "69.44")

    async def test_csv_and_xlsx(self, app, client, session, time_machine):
        d = await history(app, client, session, time_machine)
        url = f"{API}/units/{d.unit.id}/account/statement?from=2026-11-03&to=2026-11-04"
        r = await client.get(url + "&format=csv", headers=d.staff.headers)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        text = r.content.decode("utf-8-sig")
        assert "预存款抵扣" in text and "期初余额,200.00" in text and "期末余额,19.44" in text
        r = await client.get(url + "&format=xlsx", headers=d.staff.headers)
        assert r.status_code == 200
        book = openpyxl.load_workbook(io.BytesIO(r.content))
        summary = {row[0]: row[1] for row in book["预存款汇总"].iter_rows(values_only=True) if row[0]}
        assert float(summary["期末余额"]) == pytest.approx(19.44)

    async def test_days_out_of_order_422(self, client, session):
        d = await desk(session)
        r = await client.get(f"{API}/units/{d.unit.id}/account/statement?from=2026-11-05&to=2026-11-01", headers=d.staff.headers)
        assert_invalid(r, "days-out-of-order", "from")
        r = await client.get(f"{API}/units/{d.unit.id}/account/statement?from=2026-13-01", headers=d.staff.headers)
        assert_422(r, "from")


class TestMonthReport:
    async def test_deductions_are_collected_and_the_report_reconciles(self, app, client, session, time_machine):
        d = await history(app, client, session, time_machine)
        reader = await make_staff(session, estates=[d.estate], roles=[Role.finance])
        r = await client.get(f"{API}/estates/{d.estate.id}/fee-reports/month-end?month=2026-11", headers=reader.headers)
        assert r.status_code == 200, r.text
        t = r.json()["totals"]
        # The January charge of 160.56 was settled from the account in November: arrears recovered.
        # In: deposits 200.00 + 50.00; out: refund 20.00; the deduction moved money already in.
        # 160.56 + 250.00 - 160.56 - 20.00 = 230.00 = receipts 200.00 + 50.00 - refund 20.00.
        assert (t["collected_for_earlier"], t["credit_received"], t["account_used"], t["refunds"]) == (
            "160.56", "250.00", "160.56", "20.00")
        assert t["collected_in_month"] == t["receipts_total"] == "230.00"
