"""Figures that must hold (issue 17): a hand-checked quarter, 2027-01..2027-03, for four units.

The scenario (tests/helpers/ledger_quarter.py) runs the real app day by day; every figure below
is worked out by hand first, rounded ONCE, half up, to the fen (billing/rules.py `round_money`,
`prorate`), then every report is read and must agree with the hand figures and with each other:
the bill explanation, the account statement, the arrears list, the Saturday registers of the
quarter's weeks and the month-end fee reports.

物业管理费 2.50元/㎡·月, due on the 10th:
  A 89.20 m²: 2.50 × 89.20 = 223.00; February to the 17th (moved out): 223.00 × 17/28 = 135.392… → 135.39
  B 96.50 m²: 2.50 × 96.50 = 241.25
  C 120.00 m², vacant: 2.50 × 120.00 = 300.00, the vacant-unit rule waives 50% = 150.00
  D 75.35 m²: 2.50 × 75.35 = 188.375 → 188.38; January from the 15th: 2.50 × 75.35 × 17/31 = 103.302… → 103.30
Late fees (0.05%/day after 10 days' grace, cap 5%): days counted from the day after due + grace.
  B January, paid 02-05: 02-05 − 01-20 = 16 days; 241.25 × 0.0005 × 16 = 1.93 (cap 12.06 not reached)
  B February, posted 03-08: 03-08 − 02-20 = 16 days: 1.93, waived 100% (supervisor)
  D March, posted by the month-end job on 03-31: 03-31 − 03-20 = 11 days; 188.38 × 0.0005 × 11 = 1.036… → 1.04
February's water, 3.50元/吨: A 12.00 吨 = 42.00, B 8.50 = 29.75, D 10.00 = 35.00 (C no reading).
  Shared meter 5040.50 − 5000.00 − 30.50 own = 10.00 吨 × 3.50 = 35.00 over 381.05 m²:
  A 35 × 89.20/381.05 = 8.1931 → 8.19; B 8.8636 → 8.86; C 11.0221 → 11.02; D 6.9210 → 6.92;
  sum 34.99: the missing fen goes to the largest remainder, B's (0.0036): B 8.87.
A's deposit 600.00 (100.00 earmarked 水费) settles by deductions: 223.00 (01-05), 135.39 (02-01 run),
  42.00 from the earmark + 8.19 free (02-26): 408.58; left 58.00 earmarked + 133.42 free = 191.42.
D paid January's 188.38 on 01-15; the cancel is approved on 01-18: 188.38 to D's account, the
  rebilled 103.30 deducted 01-19, the 85.08 left deducted from February's 188.38 on 02-01, whose
  other 103.30 D pays at the desk.
"""
from __future__ import annotations

from decimal import Decimal

import pytest

from tests.helpers.ledger_quarter import MONTHS, WEEKS, Quarter, quarter

D = Decimal

# Per unit: the bill's totals (billed, paid, waived, outstanding) by hand.
BILLS = {
    "A": ("408.58", "408.58", "0.00", "0.00"),  # 223.00 + 135.39 + 42.00 + 8.19
    "B": ("766.23", "764.30", "1.93", "0.00"),  # 3 × 241.25 + 1.93 + 1.93 + 29.75 + 8.87; paid 243.18 + 521.12
    "C": ("911.02", "461.02", "450.00", "0.00"),  # 3 × 300.00 + 11.02; 3 × 150.00 waived
    "D": ("523.02", "333.60", "0.00", "189.42"),  # 103.30 + 2 × 188.38 + 35.00 + 6.92 + 1.04; owes 188.38 + 1.04
}
# Per unit, every line: (period, item, amount, paid, waived, outstanding, state), in the bill's order.
LINES = {
    "A": [("2027-01", "物业管理费", "223.00", "223.00", "0.00", "0.00", "open"),
          ("2027-02", "物业管理费", "135.39", "135.39", "0.00", "0.00", "open"),
          ("2027-02", "水费", "42.00", "42.00", "0.00", "0.00", "open"),
          ("2027-02", "公摊水费", "8.19", "8.19", "0.00", "0.00", "open")],
    "B": [("2027-01", "物业管理费", "241.25", "241.25", "0.00", "0.00", "open"),
          (None, "物业管理费", "1.93", "1.93", "0.00", "0.00", "open"),
          ("2027-02", "物业管理费", "241.25", "241.25", "0.00", "0.00", "open"),
          ("2027-02", "水费", "29.75", "29.75", "0.00", "0.00", "open"),
          ("2027-02", "公摊水费", "8.87", "8.87", "0.00", "0.00", "open"),
          (None, "物业管理费", "1.93", "0.00", "1.93", "0.00", "open"),
          ("2027-03", "物业管理费", "241.25", "241.25", "0.00", "0.00", "open")],
    "C": [("2027-01", "物业管理费", "300.00", "150.00", "150.00", "0.00", "open"),
          ("2027-02", "物业管理费", "300.00", "150.00", "150.00", "0.00", "open"),
          ("2027-02", "公摊水费", "11.02", "11.02", "0.00", "0.00", "open"),
          ("2027-03", "物业管理费", "300.00", "150.00", "150.00", "0.00", "open")],
    "D": [("2027-01", "物业管理费", "188.38", "0.00", "0.00", "0.00", "cancelled"),
          ("2027-01", "物业管理费", "103.30", "103.30", "0.00", "0.00", "open"),
          ("2027-02", "物业管理费", "188.38", "188.38", "0.00", "0.00", "open"),
          ("2027-02", "水费", "35.00", "35.00", "0.00", "0.00", "open"),
          ("2027-02", "公摊水费", "6.92", "6.92", "0.00", "0.00", "open"),
          ("2027-03", "物业管理费", "188.38", "0.00", "0.00", "188.38", "open"),
          (None, "物业管理费", "1.04", "0.00", "0.00", "1.04", "open")],
}
# Per unit: the account statement of the quarter (opening, deposits, corrections, deductions, refunds, closing).
STATEMENTS = {
    "A": ("0.00", "600.00", "0.00", "408.58", "0.00", "191.42"),
    "B": ("0.00",) * 6, "C": ("0.00",) * 6,
    "D": ("0.00", "0.00", "188.38", "188.38", "0.00", "0.00"),  # 188.38 in; 103.30 + 85.08 out
}
# Per week: (series, unit, amount, counted) of each line, and the grand total. Weeks not listed: empty.
REGISTERS = {
    "2027-W01": ([("deposit", "101", "600.00", "600.00"), ("account", "101", "223.00", "0.00"),
                  ("receipt", "201", "150.00", "150.00")], "750.00"),
    "2027-W02": ([("receipt", "202", "188.38", "188.38")], "188.38"),  # valid: its money went to D's account
    "2027-W03": ([("account", "202", "103.30", "0.00")], "0.00"),
    "2027-W05": ([("account", "101", "135.39", "0.00"), ("account", "202", "85.08", "0.00"),
                  ("receipt", "102", "243.18", "243.18"), ("receipt", "201", "150.00", "150.00"),
                  ("receipt", "202", "103.30", "103.30")], "496.48"),
    "2027-W08": ([("account", "101", "50.19", "0.00")], "0.00"),
    "2027-W09": ([("receipt", "201", "161.02", "161.02"), ("receipt", "202", "41.92", "41.92")], "202.94"),
    "2027-W10": ([("receipt", "102", "521.12", "521.12")], "521.12"),
}
# The weeks whose money falls in each month (W53 and W04, W06, W07, W11..W13 are empty).
WEEKS_OF = {"2027-01": ("2026-W53", "2027-W01", "2027-W02", "2027-W03", "2027-W04"),
            "2027-02": ("2027-W05", "2027-W06", "2027-W07", "2027-W08"),
            "2027-03": ("2027-W09", "2027-W10", "2027-W11", "2027-W12", "2027-W13")}
# Month-end totals: billed, waived, collected_for_month, outstanding, collected_for_earlier,
# credit_received, account_used, receipts_total (= collected_in_month).
MONTH_TOTALS = {
    # 223.00 + 241.25 + 300.00 + 103.30 (D's 188.38 cancelled, not billed); C's 150.00 waived;
    # A 223.00 + C 150.00 + D 103.30 collected; B's 241.25 outstanding; credit: A's deposit 600.00
    # and D's 188.38 moved to the account; account used 223.00 + 103.30; money 600 + 150 + 188.38.
    "2027-01": ("867.55", "150.00", "476.30", "241.25", "0.00", "788.38", "326.30", "938.38"),
    # 135.39 + 241.25 + 300.00 + 188.38 + B's late fee 1.93 + water 106.75 + shared 35.00 = 1008.70;
    # collected A 135.39 + 50.19, B 1.93, C 150.00, D 188.38 = 525.89; outstanding B 241.25 + 29.75
    # + 8.87, C 11.02, D 35.00 + 6.92 = 332.81; B's January recovered; account 135.39 + 85.08 + 50.19.
    "2027-02": ("1008.70", "150.00", "525.89", "332.81", "241.25", "0.00", "270.66", "496.48"),
    # 241.25 + 300.00 + 188.38 + late fees 1.93 + 1.04 = 732.60; waived 150.00 + 1.93; collected
    # C 150.00 + B 241.25; D owes 188.38 + 1.04; February's 332.81 recovered.
    "2027-03": ("732.60", "151.93", "391.25", "189.42", "332.81", "0.00", "0.00", "724.06"),
}
# Late fees of the month: billed, collected, waived, outstanding.
MONTH_LATE_FEES = {"2027-01": ("0.00",) * 4, "2027-02": ("1.93", "1.93", "0.00", "0.00"),
                   "2027-03": ("2.97", "0.00", "1.93", "1.04")}


@pytest.fixture
async def q(app, client, session, time_machine) -> Quarter:
    return await quarter(app, client, session, time_machine)


def total(values) -> Decimal:
    return sum((D(v) for v in values), D("0.00"))


async def test_every_report_agrees_with_the_hand_figures_and_each_other(q):
    bills = {u: await q.get(f"/units/{unit.id}/bill") for u, unit in q.units.items()}
    statements = {u: await q.get(f"/units/{unit.id}/account/statement", **{"from": "2027-01-01", "to": "2027-03-31"})
                  for u, unit in q.units.items()}
    arrears = await q.get(f"/estates/{q.estate.id}/arrears")
    registers = {w: await q.get(f"/estates/{q.estate.id}/fee-reports/saturday-register", week=w) for w in WEEKS}
    months = {m: await q.get(f"/estates/{q.estate.id}/fee-reports/month-end", month=m) for m in MONTHS}

    check_bills(bills)
    await check_statements_and_accounts(q, statements)
    check_arrears(q, arrears, bills)
    check_registers(registers)
    check_months(months)
    check_across(bills, statements, arrears, registers, months)


def check_bills(bills: dict) -> None:
    for u, (billed, paid, waived, outstanding) in BILLS.items():
        t = bills[u]["totals"]
        assert (t["billed"], t["paid"], t["waived"], t["outstanding"]) == (billed, paid, waived, outstanding), u
        # Nothing accrues beyond what was posted: the month-end job posted D's 1.04 on 03-31.
        assert (t["account_outstanding"], t["balance_due"], t["late_fees"]) == (outstanding, outstanding, "0.00"), u
        got = [(ln["period"], ln["fee_item_name"], ln["amount"], ln["paid"], ln["waived"], ln["outstanding"], ln["state"])
               for ln in bills[u]["lines"]]
        assert got == LINES[u], u
    assert bills["A"]["totals"]["credit"] == "133.42"  # A's free money; the 58.00 earmarked for water is not credit
    said = {ln["explanation"] for b in bills.values() for ln in b["lines"]}
    assert {"物业管理费 2.50元/㎡·月 × 89.20㎡ × 17/28个月 = 135.39元",
            "物业管理费 2.50元/㎡·月 × 75.35㎡ × 17/31个月 = 103.30元",
            "物业管理费 2.50元/㎡·月 × 75.35㎡ × 1个月 = 188.38元（已取消：1月15日入住，应按天计费）",
            "公摊水费 (5,040.50 − 5,000.00 − 30.50)吨 × 3.50元/吨 × 96.50/381.05㎡ = 8.86元，尾差+0.01元 = 8.87元",
            "2027年1月物业管理费滞纳金 1.93元：滞纳金 未缴241.25元 × 0.05%/天 × 16天（宽限10天之后起算） = 1.93元",
            "2027年3月物业管理费滞纳金 1.04元：滞纳金 未缴188.38元 × 0.05%/天 × 11天（宽限10天之后起算） = 1.04元",
            } <= said
    # D's January receipt stays valid: its part on the cancelled charge went to the account, not voided.
    [moved] = bills["D"]["lines"][0]["payments"]
    assert (moved["amount"], moved["voided"], moved["moved_to_account"]) == ("188.38", False, True)


async def check_statements_and_accounts(q: Quarter, statements: dict) -> None:
    keys = ("opening", "deposits", "corrections", "deductions", "refunds", "closing")
    for u, figures in STATEMENTS.items():
        assert tuple(statements[u][k] for k in keys) == figures, u
    assert [(ln["kind"], ln["earmark"], ln["amount"], ln["balance"]) for ln in statements["A"]["lines"]] == [
        ("deposit", "水费", "100.00", "100.00"), ("deposit", "不限项目", "500.00", "600.00"),
        ("deduction", "不限项目", "-223.00", "377.00"), ("deduction", "不限项目", "-135.39", "241.61"),
        ("deduction", "水费", "-42.00", "199.61"), ("deduction", "不限项目", "-8.19", "191.42")]
    assert [(ln["kind"], ln["amount"], ln["balance"]) for ln in statements["D"]["lines"]] == [
        ("correction", "188.38", "188.38"), ("deduction", "-103.30", "85.08"), ("deduction", "-85.08", "0.00")]
    account = await q.get(f"/units/{q.units['A'].id}/account")
    assert (account["balance"], [(e["name"], e["balance"]) for e in account["earmarks"]]) == (
        "191.42", [("不限项目", "133.42"), ("水费", "58.00")])
    for u, s in statements.items():  # opening + deposits + corrections − deductions − refunds = closing
        assert D(s["opening"]) + D(s["deposits"]) + D(s["corrections"]) - D(s["deductions"]) - D(s["refunds"]) == D(s["closing"]), u


def check_arrears(q: Quarter, arrears: dict, bills: dict) -> None:
    # As of 03-31: D's March 188.38 (due 03-10, 21 days) and its late fee 1.04 (due 03-31): 0-30 days.
    assert (arrears["as_of"], arrears["totals"]["total"], arrears["totals"]["days_0_30"], arrears["totals"]["units"]) == (
        "2027-03-31", "189.42", "189.42", 1)
    [row] = arrears["items"]
    assert (row["unit_id"], row["total"], row["oldest_due_date"]) == (str(q.units["D"].id), "189.42", "2027-03-10")
    assert D(arrears["totals"]["total"]) == total(b["totals"]["outstanding"] for b in bills.values())


def check_registers(registers: dict) -> None:
    for week, reg in registers.items():
        lines, grand = REGISTERS.get(week, ([], "0.00"))
        # Sorted: one morning's deductions are issued the same minute, in no promised order.
        got = sorted((ln["series"], ln["unit_label"][-3:], ln["amount"], ln["counted"]) for ln in reg["lines"])
        assert (got, reg["grand_total"]) == (sorted(lines), grand), week
        for group in ("by_fee_item", "by_method", "by_cashier"):
            assert total(t["amount"] for t in reg[group]) == D(grand), (week, group)
    # W01: the deposit is the money; the QS-K deduction from it counts 0.
    w01 = registers["2027-W01"]
    assert [(t["name"], t["amount"]) for t in w01["by_fee_item"]] == [("物业管理费", "150.00"), ("预收款（存入账户）", "600.00")]
    # W02: D's 188.38 still counts (the receipt is valid), but its charge was cancelled by approval:
    # the money is D's, on account -- as January's month report counts it (credit_received).
    assert [(t["name"], t["amount"]) for t in registers["2027-W02"]["by_fee_item"]] == [("预收款（存入账户）", "188.38")]
    # W05: B's January 241.25 and its late fee 1.93 on one receipt.
    [b_late] = [ln for ln in registers["2027-W05"]["lines"] if ln["amount"] == "243.18"]
    assert [(s["period"], s["amount"]) for s in b_late["settled"]] == [("2027-01", "241.25"), (None, "1.93")]
    assert total(r["grand_total"] for r in registers.values()) == D("2158.92")  # 938.38 + 496.48 + 724.06


def check_months(months: dict) -> None:
    keys = ("billed", "waived", "collected_for_month", "outstanding", "collected_for_earlier", "credit_received",
            "account_used", "receipts_total")
    for m, figures in MONTH_TOTALS.items():
        t = months[m]["totals"]
        assert tuple(t[k] for k in keys) == figures, m
        assert t["collected_in_month"] == t["receipts_total"], m
        lf = months[m]["late_fees"]
        assert (lf["billed"], lf["collected"], lf["waived"], lf["outstanding"]) == MONTH_LATE_FEES[m], m
        # Every month's figures close: billed − waived − collected for the month = outstanding.
        assert D(t["billed"]) - D(t["waived"]) - D(t["collected_for_month"]) == D(t["outstanding"]), m
        # The money: what the fee items collected, plus credit kept, less what accounts settled.
        items = total(ln["collected_in_month"] for ln in months[m]["by_fee_item"])
        assert items + D(t["credit_received"]) - D(t["account_used"]) == D(t["receipts_total"]), m
        [building] = months[m]["by_building"]
        assert all(building[k] == t[k] for k in keys[:-1]), m  # one building: the estate
    c = months["2027-01"]["corrections"]
    assert (c["cancelled_count"], c["cancelled_amount"], c["replacements_count"], c["replacements_amount"], c["net_effect"]) == (
        1, "188.38", 1, "103.30", "-85.08")  # 103.30 − 188.38
    assert all(months[m]["corrections"]["cancelled_count"] == 0 for m in ("2027-02", "2027-03"))
    # Collection rates: collected for the month / (billed − waived), four places.
    assert [months[m]["totals"]["collection_rate"] for m in MONTHS] == ["0.6638", "0.6124", "0.6738"]
    # 476.30/717.55 = 0.66379…; 525.89/858.70 = 0.61242…; 391.25/580.67 = 0.67379…
    by_item = {ln["name"]: ln for ln in months["2027-02"]["by_fee_item"]}
    assert [(n, by_item[n]["billed"], by_item[n]["outstanding"]) for n in ("物业管理费", "水费", "公摊水费")] == [
        ("物业管理费", "866.95", "241.25"), ("水费", "106.75", "64.75"), ("公摊水费", "35.00", "26.81")]


def check_across(bills: dict, statements: dict, arrears: dict, registers: dict, months: dict) -> None:
    # Billed and waived: the units' bills are the quarter's month reports, cancelled charges in neither.
    assert total(b["totals"]["billed"] for b in bills.values()) == total(
        months[m]["totals"]["billed"] for m in MONTHS) == D("2608.85")
    assert total(b["totals"]["waived"] for b in bills.values()) == total(
        months[m]["totals"]["waived"] for m in MONTHS) == D("451.93")
    # Money: each month's receipts are its weeks' registers.
    for m in MONTHS:
        assert total(registers[w]["grand_total"] for w in WEEKS_OF[m]) == D(months[m]["totals"]["receipts_total"]), m
    # The desk's money per unit (registers, QS-K documents counting 0) = what the bill says it paid,
    # except A, whose bills were paid from the account: its 600.00 = 408.58 settled + 191.42 left.
    counted: dict[str, Decimal] = {}
    for reg in registers.values():
        for ln in reg["lines"]:
            counted[ln["unit_label"][-3:]] = counted.get(ln["unit_label"][-3:], D("0")) + D(ln["counted"])
    assert counted == {"101": D("600.00"), "102": D("764.30"), "201": D("461.02"), "202": D("333.60")}
    assert [bills[u]["totals"]["paid"] for u in "BCD"] == ["764.30", "461.02", "333.60"]
    assert D(bills["A"]["totals"]["paid"]) + D(statements["A"]["closing"]) == counted["101"]
    # Accounts: the QS-K documents of the registers = the statements' deductions = the months' account_used.
    k_docs = total(ln["amount"] for r in registers.values() for ln in r["lines"] if ln["series"] == "account")
    assert k_docs == total(s["deductions"] for s in statements.values()) == total(
        months[m]["totals"]["account_used"] for m in MONTHS) == D("596.96")  # 408.58 + 188.38
    # Credit kept: A's deposit and D's correction, in January's report and the statements.
    assert total(D(s["deposits"]) + D(s["corrections"]) for s in statements.values()) == D(
        months["2027-01"]["totals"]["credit_received"]) == D("788.38")
    # What March leaves owing is the arrears list, D's bill and its late fee.
    assert D(months["2027-03"]["totals"]["outstanding"]) == D(arrears["totals"]["total"]) == D(
        bills["D"]["totals"]["outstanding"])
    # Each month's outstanding is recovered the next month.
    assert months["2027-01"]["totals"]["outstanding"] == months["2027-02"]["totals"]["collected_for_earlier"]
    assert months["2027-02"]["totals"]["outstanding"] == months["2027-03"]["totals"]["collected_for_earlier"]
    # Late fees: the months' billed, waived and outstanding = the bills' late-fee lines (period null).
    late = [ln for b in bills.values() for ln in b["lines"] if ln["period"] is None]
    for field, key in (("amount", "billed"), ("paid", "collected"), ("waived", "waived"), ("outstanding", "outstanding")):
        assert total(ln[field] for ln in late) == total(months[m]["late_fees"][key] for m in MONTHS), field
