"""Every export over HTTP, opened as finance opens it: XLSX that prints, CSV that Excel reads.

Each export endpoint (the Saturday register and the month-end fee report live and stored, the
daily repair log, the stocktake report by count and by month) is fetched with books whose
payers, fee items, repair descriptions and stock items are named like formulas. The XLSX must
have a bold header frozen at A2 with an autofilter, money as numbers formatted #,##0.00, real
dates, a totals row equal to the sum of its rows and an A4 landscape page one page wide; the
typed names are plain string cells; the CSV starts with the UTF-8 BOM, or is GB18030 on request.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from app.api.files import CHINESE_NAMES, chinese_name, content_disposition
from app.domain.auth.roles import Role
from app.domain.fees.model import FeeKind
from app.domain.fees.reports.model import FeeReport
from app.domain.repairs.intake.settings import ensure_categories
from app.domain.repairs.model import WorkOrderStatus
from app.domain.spreadsheet import display_width
from app.jobs.registry import JOBS  # noqa: F401 - the registry first, then the job modules it imports
from app.jobs.runner import run_job
from tests.factories import make_staff
from tests.fees_factories import make_fee_item
from tests.helpers.fee_reports import API, books, local
from tests.helpers.problems import assert_422, assert_problem
from tests.helpers.stock import count, new_item, open_count, store, this_month
from tests.registry_factories import count_rows, make_building, make_unit, two_estates
from tests.repairs_factories import make_order

D = Decimal
TYPED = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)"]
MONTH_MONEY = ["本月应收", "往月预收本月", "本月实收本月", "本月欠收", "收回往月欠费", "预收以后月份", "本月收款合计",
               "本月减免", "减免后应收"]
Request = tuple[str, dict[str, str], dict[str, str]]


@dataclass(frozen=True)
class Export:
    name: str
    build: Callable[..., Awaitable[Request]]
    money: dict[str, list[str]]  # sheet: its money columns
    dates: dict[str, list[str]] = field(default_factory=dict)  # sheet: its date-and-time columns


async def fee_books(session) -> Any:
    """Week 2026-W48 of November: four payments by payers named like formulas, for fee items named
    like formulas; the last payment voided, 12.50 of A's credit refunded."""
    b = await books(session)
    for n, name in enumerate(TYPED, 1):
        b.items[f"t{n}"] = await make_fee_item(session, estate=b.estate, code=f"T{n}", name=name, kind=FeeKind.fixed)
    paid = []
    for n, (unit, payer) in enumerate(zip("ABCD", TYPED, strict=True), 1):
        await b.charge(session, f"{unit}-t{n}", unit, f"t{n}", f"{n}0.50", "2026-11")
        await b.charge(session, f"{unit}-mgmt", unit, "mgmt", "160.56", "2026-11")
        amount = D(f"{n}0.50") + D("160.56") + (D("20.00") if unit == "A" else 0)
        paid.append(await b.pay(session, unit, str(amount), local(2026, 11, 21 + n, 10), f"{unit}-t{n}", f"{unit}-mgmt",
                                payer=payer, method="cash" if n % 2 else "wechat"))
    await b.void(session, paid[-1], local(2026, 11, 25, 11))
    await b.refund(session, "A", "12.50", local(2026, 11, 26, 15))
    return b


async def register_live(app, client, session) -> Request:
    b = await fee_books(session)
    return f"{API}/estates/{b.estate.id}/fee-reports/saturday-register", {"week": "2026-W48"}, b.reader.headers


async def month_live(app, client, session) -> Request:
    b = await fee_books(session)
    return f"{API}/estates/{b.estate.id}/fee-reports/month-end", {"month": "2026-11"}, b.reader.headers


async def _stored(app, client, session, job: str, period: str) -> Request:
    b = await fee_books(session)
    [run] = await run_job(app.state.sessionmaker, job, estate_id=b.estate.id, period=period)
    assert run.status == "succeeded"
    [item] = (await client.get(f"{API}/estates/{b.estate.id}/fee-reports", headers=b.reader.headers)).json()["items"]
    return f"{API}/fee-reports/{item['id']}", {}, b.reader.headers


async def register_stored(app, client, session) -> Request:
    return await _stored(app, client, session, "saturday_register", "2026-W48")


async def month_stored(app, client, session) -> Request:
    return await _stored(app, client, session, "month_end_fee_report", "2026-11")


async def daily_log(app, client, session) -> Request:
    """Today's repair log: four orders whose descriptions look like formulas, finished by a technician."""
    estate, _ = await two_estates(session)
    await ensure_categories(session, estate_id=estate.id)
    unit = await make_unit(session, building=await make_building(session, estate=estate, number=8))
    tech = await make_staff(session, estates=[estate], roles=[Role.technician], full_name="張師傅")
    for text in TYPED:
        await make_order(session, estate=estate, unit=unit, description=text, technician=tech.user,
                         status=WorkOrderStatus.completed)
    desk = await make_staff(session, estates=[estate], roles=[Role.receptionist])
    return f"{API}/estates/{estate.id}/repairs/daily-log", {}, desk.headers


async def _counted(client, session) -> tuple[Any, dict, dict[str, str]]:
    """A count of four items named like formulas, each one short of three at 12.50."""
    s = await store(session)
    odd = [await new_item(client, s, code=f"X{n}", name=text, unit="卷", cost="12.50", stock="3") for n, text in enumerate(TYPED, 1)]
    st = await open_count(client, s)
    await count(client, s, st, [(item, "2") for item in odd])
    finance = await make_staff(session, estates=[s.estate], roles=[Role.finance])
    return s, st, finance.headers


async def stocktake(app, client, session) -> Request:
    _, st, headers = await _counted(client, session)
    return f"{API}/stocktakes/{st['id']}/report", {}, headers


async def stocktake_month(app, client, session) -> Request:
    s, _, headers = await _counted(client, session)
    return f"{API}/estates/{s.estate.id}/stocktake-report", {"month": this_month()}, headers


REGISTER = {"收费明细": ["金额", "计入金额"], "按收费项目": ["金额"], "按收款方式": ["金额"], "按收款人": ["金额"],
            "合计": ["总金额"]}
MONTH = {"按收费项目": MONTH_MONEY, "按楼栋": [*MONTH_MONEY, "预收款（存入账户）", "退还预收款"],
         "收据核对": ["本月收款合计", "本月有效收据合计"]}
STOCK = {"盤點明細": ["單價", "帳面金額", "實盤金額", "差異金額"], "匯總": ["帳面金額", "實盤金額", "差異金額"]}
EXPORTS = [
    Export("register", register_live, REGISTER, {"收费明细": ["开具时间"]}),
    Export("register-stored", register_stored, REGISTER, {"收费明细": ["开具时间"]}),
    Export("month", month_live, MONTH),
    Export("month-stored", month_stored, MONTH),
    Export("daily-log", daily_log, {}, {"報修記錄本": ["登記時間", "派工時間", "開工時間", "完工時間"]}),
    Export("stocktake", stocktake, STOCK, {"盤點明細": ["盤點時間"]}),
    Export("stocktake-month", stocktake_month, STOCK, {"盤點明細": ["盤點時間"]}),
]
each_export = pytest.mark.parametrize("export", EXPORTS, ids=[e.name for e in EXPORTS])


async def fetch(app, client, session, export: Export, **params: str) -> Any:
    url, query, headers = await export.build(app, client, session)
    r = await client.get(url, params={**query, **params}, headers=headers)
    assert r.status_code == 200, r.text
    return r


def is_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def assert_prints(sheet: Any) -> None:
    """Bold Chinese header frozen at A2 with a filter over the data; A4 landscape, one page wide, header on each page."""
    header = sheet[1]
    assert is_cjk(sheet.title) and all(isinstance(c.value, str) and is_cjk(c.value) for c in header), sheet.title
    assert all(c.font.bold for c in header)
    assert sheet.freeze_panes == "A2"
    last = get_column_letter(len(header))
    assert sheet.auto_filter.ref in (f"A1:{last}{sheet.max_row - 1}", f"A1:{last}{sheet.max_row}")
    setup = sheet.page_setup
    assert (setup.orientation, setup.fitToWidth, setup.fitToHeight, int(setup.paperSize)) == ("landscape", 1, 0, 9)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.print_title_rows == "$1:$1"
    for cell in header:  # wide enough for the header, a CJK character counting two
        assert sheet.column_dimensions[cell.column_letter].width >= display_width(cell.value)


def assert_money_and_totals(sheet: Any, money: list[str]) -> None:
    headers = [c.value for c in sheet[1]]
    rows = list(sheet.iter_rows(min_row=2))
    assert rows, sheet.title
    for name in money:
        cells = [row[headers.index(name)] for row in rows]
        numbers = [c for c in cells if c.value is not None]
        assert numbers, (sheet.title, name)
        assert all(c.data_type == "n" and c.number_format == "#,##0.00" for c in numbers), (sheet.title, name)
    if rows[-1][0].value in ("合计", "合計"):
        *lines, total = rows
        assert lines, sheet.title
        for name in money:
            n = headers.index(name)
            if total[n].value is not None:
                assert D(str(total[n].value)) == sum((D(str(row[n].value or 0)) for row in lines), D(0)), (sheet.title, name)


class TestXlsx:
    @each_export
    async def test_prints_with_numbers_dates_and_totals(self, app, client, session, export):
        r = await fetch(app, client, session, export, format="xlsx")
        assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        book = openpyxl.load_workbook(io.BytesIO(r.content))
        assert set(export.money) <= set(book.sheetnames)
        for sheet in book:
            assert_prints(sheet)
            assert_money_and_totals(sheet, export.money.get(sheet.title, []))
        for name, columns in export.dates.items():
            headers = [c.value for c in book[name][1]]
            for column in columns:
                cells = [row[headers.index(column)] for row in book[name].iter_rows(min_row=2)
                         if row[0].value not in ("合计", "合計")]
                assert cells and all(isinstance(c.value, datetime) and c.is_date for c in cells), (name, column)
                assert all(c.number_format == "yyyy-mm-dd hh:mm" for c in cells)

    async def test_the_register_shows_local_times_and_one_row_per_charge(self, app, client, session):
        r = await fetch(app, client, session, EXPORTS[0], format="xlsx")
        sheet = openpyxl.load_workbook(io.BytesIO(r.content))["收费明细"]
        headers = [c.value for c in sheet[1]]
        first, second = list(sheet.iter_rows(min_row=2, max_row=3, values_only=True))
        # Paid at 10:00 Asia/Shanghai (02:00 UTC): Excel has no zones, the cell holds the estate's time.
        assert first[headers.index("开具时间")] == datetime(2026, 11, 22, 10, 0)
        assert first[headers.index("收据号")] == second[headers.index("收据号")]
        assert [row[headers.index("收费项目")] for row in (first, second)] == [f"'{TYPED[0]} (T1)", "物业管理费 (mgmt)"]
        rates = openpyxl.load_workbook(io.BytesIO((await fetch(app, client, session, EXPORTS[2], format="xlsx")).content))
        rate = [c for c in rates["按楼栋"][2] if rates["按楼栋"].cell(1, c.column).value == "收缴率"][0]
        assert rate.data_type == "n" and rate.number_format == "0.00%"


    async def test_the_repair_log_names_its_categories(self, app, client, session):
        r = await fetch(app, client, session, EXPORTS[4], format="xlsx")
        sheet = openpyxl.load_workbook(io.BytesIO(r.content))["報修記錄本"]
        column = [c.value for c in sheet[1]].index("類別")
        assert {row[column] for row in sheet.iter_rows(min_row=2, values_only=True)} == {"水暖 (plumbing)"}


class TestTypedText:
    @each_export
    async def test_formula_looking_names_are_plain_strings_in_xlsx(self, app, client, session, export):
        r = await fetch(app, client, session, export, format="xlsx")
        book = openpyxl.load_workbook(io.BytesIO(r.content))
        cells = [c for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None]
        assert not [c.coordinate for c in cells if c.data_type == "f"]
        for text in TYPED:
            found = [c for c in cells if isinstance(c.value, str) and c.value.startswith(f"'{text}")]
            assert found and all(c.data_type == "s" for c in found), text
            assert not [c.value for c in cells if c.value == text or str(c.value).startswith(f"{text} (")], text

    @each_export
    async def test_formula_looking_names_are_prefixed_in_csv(self, app, client, session, export):
        r = await fetch(app, client, session, export, format="csv")
        cells = [c for row in csv.reader(io.StringIO(r.content.decode("utf-8-sig"))) for c in row]
        for text in TYPED:
            assert [c for c in cells if c == f"'{text}" or c.startswith(f"'{text} (")], text
            assert not [c for c in cells if c == text or c.startswith(f"{text} (")], text


NOT_FOUND = {"register": "estate-not-found", "month": "estate-not-found", "register-stored": "fee-report-not-found",
             "month-stored": "fee-report-not-found", "daily-log": "estate-not-found", "stocktake": "stocktake-not-found",
             "stocktake-month": "estate-not-found"}


class TestAccess:
    @each_export
    async def test_anonymous_401_another_estates_staff_404(self, app, client, session, export):
        url, query, _ = await export.build(app, client, session)
        elsewhere, _ = await two_estates(session)
        stranger = await make_staff(session, estates=[elsewhere], roles=list(Role))
        for fmt in ("csv", "xlsx"):
            r = await client.get(url, params={**query, "format": fmt})
            assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
            assert_problem(await client.get(url, params={**query, "format": fmt}, headers=stranger.headers), 404,
                           NOT_FOUND[export.name])


class TestCsvEncoding:
    @each_export
    async def test_utf8_with_a_bom_by_default_gb18030_on_request(self, app, client, session, export):
        url, query, headers = await export.build(app, client, session)
        r = await client.get(url, params={**query, "format": "csv"}, headers=headers)
        assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
        assert r.content.startswith(b"\xef\xbb\xbf")
        text = r.content.decode("utf-8-sig")
        assert is_cjk(text)
        r = await client.get(url, params={**query, "format": "csv", "encoding": "gb18030"}, headers=headers)
        assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=gb18030"
        assert not r.content.startswith(b"\xef\xbb\xbf")
        with pytest.raises(UnicodeDecodeError):
            r.content.decode("utf-8")
        assert r.content.decode("gb18030") == text  # the Chinese survives, cell for cell

    @each_export
    async def test_another_encoding_422(self, app, client, session, export):
        url, query, headers = await export.build(app, client, session)
        stored = await count_rows(session, FeeReport)
        for encoding in ("latin-1", "GB18030 ", "utf-16", ""):
            r = await client.get(url, params={**query, "format": "csv", "encoding": encoding}, headers=headers)
            assert_problem(r, 422, "validation-failed")
            assert_422(r, "encoding")
        assert await count_rows(session, FeeReport) == stored


def test_every_paper_downloads_under_its_chinese_name_and_an_ascii_one():
    assert chinese_name("task-sheet-WO-2026-000123.pdf") == "派工单-WO-2026-000123.pdf"
    assert chinese_name("arrears-notices-2026-12-01.pdf") == "催缴通知书汇总-2026-12-01.pdf"  # not the single notice's
    assert chinese_name("voucher-1-photo-2.jpg") is None
    header = content_disposition("attachment", filename="repair-log-2026-12-07.xlsx")
    assert header == ("attachment; filename=\"repair-log-2026-12-07.xlsx\"; "
                      "filename*=UTF-8''%E7%BB%B4%E4%BF%AE%E6%97%A5%E5%BF%97-2026-12-07.xlsx")
    # A longer start is never shadowed by a shorter one listed before it.
    starts = list(CHINESE_NAMES)
    assert all(not b.startswith(a) for i, a in enumerate(starts) for b in starts[i + 1:])
