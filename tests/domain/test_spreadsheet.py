"""The sheet-writer without a database: totals that add up, widths from content, estate-local times."""
from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from app.domain import spreadsheet
from app.domain.spreadsheet import Column, Kind, Sheet

D = Decimal
SHANGHAI = ZoneInfo("Asia/Shanghai")
COLUMNS = [Column("楼栋"), Column("应收", Kind.money), Column("实收", Kind.money),
           Column("收缴率", Kind.rate, ratio=("实收", "应收")), Column("户数", Kind.int), Column("单价", Kind.money, total=False),
           Column("收款时间", Kind.datetime), Column("日期", Kind.date)]
AT = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)  # 00:30 on 1 December in Shanghai
ROWS = [["1号楼", D("100.00"), D("33.33"), D("0.3333"), 3, D("1.80"), AT, date(2026, 11, 1)],
        ["2号楼", D("200.005"), D("-12.50"), None, 2, D("1.80"), None, None]]


def sheet(**kw) -> Sheet:
    return Sheet(name="按楼栋", title="淇水春天 & 祥瑞 2026-11", columns=COLUMNS, rows=ROWS, **kw)


def test_the_totals_row_adds_up_and_rates_are_the_ratio_of_their_sums():
    total = sheet(totals=True).totals_row()
    assert total is not None
    assert total[:3] == ["合计", D("300.005"), D("20.83")]
    assert total[3] == D("20.83") / D("300.005")
    assert total[4:] == [None, None, None, None]  # counts are summed only when told; a unit price never
    assert sheet().totals_row() is None


def test_xlsx_cells_are_typed_and_times_estate_local():
    book = openpyxl.load_workbook(io.BytesIO(spreadsheet.to_xlsx([sheet(totals=True)], tz=SHANGHAI)))
    ws = book["按楼栋"]
    first, second, total = (list(r) for r in ws.iter_rows(min_row=2))
    assert first[6].value == datetime(2026, 12, 1, 0, 30) and first[6].number_format == "yyyy-mm-dd hh:mm"
    assert first[7].value == datetime(2026, 11, 1) and first[7].number_format == "yyyy-mm-dd"
    assert second[1].value == pytest.approx(200.01) and second[1].number_format == "#,##0.00"  # rounded half up
    assert second[2].value == pytest.approx(-12.5) and second[2].data_type == "n"
    assert first[3].number_format == "0.00%" and second[3].value is None
    assert total[0].value == "合计" and total[0].font.bold and total[3].value == pytest.approx(0.0694)
    assert ws.auto_filter.ref == "A1:H3" and ws.freeze_panes == "A2"
    assert ws.oddHeader.center.text == "淇水春天 && 祥瑞 2026-11"  # a lone & would be a header code


def test_widths_count_a_cjk_character_twice():
    assert spreadsheet.display_width("物业费 (WY)") == 11
    wide = Sheet("宽", "t", [Column("a"), Column("b")], [["物业管理费物业管理费", "abcdefghij"]])
    ws = openpyxl.load_workbook(io.BytesIO(spreadsheet.to_xlsx([wide], tz=SHANGHAI)))["宽"]
    assert ws.column_dimensions["A"].width == 22 > ws.column_dimensions["B"].width == 12


def test_a_row_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match="3 cells under 2 columns"):
        spreadsheet.to_csv([Sheet("x", "t", [Column("a"), Column("b")], [[1, 2, 3]])], tz=SHANGHAI)


def test_csv_shows_what_excel_shows_and_neutralises_text():
    typed = Sheet("x", "=标题", [Column("名称"), Column("金额", Kind.money), Column("时间", Kind.datetime)],
                  [["-2", D("-12.5"), AT], ["@SUM(A1)", D("3"), None]], totals=True)
    body = spreadsheet.to_csv([typed], tz=SHANGHAI)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows == [["'=标题"], ["名称", "金额", "时间"], ["'-2", "-12.50", "2026-12-01 00:30"], ["'@SUM(A1)", "3.00", ""],
                    ["合计", "-9.50", ""]]
    assert spreadsheet.to_csv([typed], tz=SHANGHAI, encoding="gb18030").decode("gb18030") == body.decode("utf-8-sig")


def test_a_code_is_shown_with_its_name():
    assert spreadsheet.coded("物业费", "WY") == "物业费 (WY)"
    assert spreadsheet.coded("物业费", "") == spreadsheet.coded("物业费", None) == "物业费"
