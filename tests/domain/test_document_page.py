"""The document frame: pages numbered within each copy, tables that run on, one embedded font."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.domain.documents import page, parts
from tests.helpers.pdf import fonts_of, pages_of, text_of

HEAD = page.Letterhead(legal_name="新乡市祥瑞物业服务有限公司", office_name="淇水春天管理处",
                       address="平原路 88 号", phone="0373-1234567")
BY = page.Printing(by="王丽", at=datetime(2026, 12, 3, 2, 30, tzinfo=UTC), time_zone="Asia/Shanghai")


def _long_table(rows: int) -> list:
    width = page.A5_LANDSCAPE[0] - 2 * page.MARGIN
    body = [[f"第{n}行", "2026-01", "1.00"] for n in range(1, rows + 1)]
    return [parts.grid(["收费项目", "所属期间", "金额"], body, widths=[width / 3] * 3, right=[2])]


def _render(**layout) -> bytes:
    return page.render(page.Layout(title="收款收据", size=page.A5_LANDSCAPE, **layout), letterhead=HEAD, printing=BY)


def test_a_long_table_runs_onto_more_pages_with_its_header_repeated():
    pdf = _render(copies=[page.Copy(label=None, story=_long_table(40))])
    pages = pages_of(pdf)
    assert pages >= 2
    text = text_of(pdf)
    assert text.count("收费项目") == pages
    assert all(f"第{n}行" in text for n in range(1, 41))
    assert f"第1页/共{pages}页" in text and f"第{pages}页/共{pages}页" in text


def test_each_copy_is_numbered_from_one_and_labelled():
    story = _long_table(3)
    pdf = _render(copies=[page.Copy(label=label, story=story) for label in ("存根联", "交款人联", "记账联")])
    assert pages_of(pdf) == 3
    pages = text_of(pdf).split("\f")
    for text, label in zip(pages, ("存根联", "交款人联", "记账联"), strict=False):
        assert label in text and "第1页/共1页" in text


def test_letterhead_printer_and_time_in_the_estates_zone():
    text = text_of(_render(number="QS-2026-000001", corner="补打 2",
                           copies=[page.Copy(label=None, story=[parts.text("x")])]))
    for expected in ("新乡市祥瑞物业服务有限公司", "淇水春天管理处", "0373-1234567", "No.QS-2026-000001", "补打2",
                     "打印：王丽2026-12-0310:30"):
        assert expected in text, expected


def test_only_the_embedded_subset_font_is_named():
    pdf = _render(diagonal=page.Diagonal(text="作废", note="作废于 2026-12-03"),
                  copies=[page.Copy(label=None, story=[parts.text("ABC 123 收据"), parts.StampBox()])])
    found = fonts_of(pdf)
    assert {f.name.split("+", 1)[1] for f in found} <= {"NotoSansSC-Regular", "NotoSansSC-Bold"}
    assert all(f.embedded and f.subset for f in found)
    assert "作废" in text_of(pdf)


def test_typed_text_is_never_read_as_markup():
    text = text_of(_render(copies=[page.Copy(label=None, story=[parts.text("<b>张三</b> & <font size=40>李四")])]))
    assert "<b>张三</b>&<fontsize=40>李四" in text


def test_money_is_two_places_with_separators():
    from decimal import Decimal
    assert parts.money(Decimal("1234567.5")) == "1,234,567.50"
    assert parts.money(Decimal("-0.125")) == "-0.12"


def test_tables_name_no_font_but_the_embedded_one():
    # A Table sets its cells' font even when they hold paragraphs: Helvetica unless told.
    width = page.A5_LANDSCAPE[0] - 2 * page.MARGIN
    story = [parts.fields([("房号", "8-2-301"), ("交款人", "王建国")], width=width),
             parts.grid(["项目", "金额"], [["物业费", "1.00"]], widths=[width / 2] * 2, total=["合计", "1.00"]),
             parts.signatures(["经办", "复核"], width=width)]
    found = fonts_of(_render(copies=[page.Copy(label=None, story=story)]))
    assert {f.name.split("+", 1)[-1] for f in found} <= {"NotoSansSC-Regular", "NotoSansSC-Bold"}, found


def test_a_traditional_estates_document_is_written_wholly_in_traditional():
    from app.domain.documents.writing import written_in
    from app.domain.registry.script import Script
    from tests.helpers.characters import assert_one_script

    head = page.Letterhead(legal_name="新乡市祥瑞物业服务有限公司", office_name="淇水春天管理处", script=Script.traditional)
    with written_in(Script.traditional):
        pdf = page.render(page.Layout(title="收款收据", corner="补打 1", diagonal=page.Diagonal(text="作废", note="作废原因：收错房号"),
                                      copies=[page.Copy(label="交款人联", story=[parts.text("房号：8号楼2单元301 交款人：张三"),
                                                                               parts.StampBox(label="（收款单位盖章）")])]),
                          letterhead=head, printing=BY)
    text = text_of(pdf)
    for expected in ("新鄉市祥瑞物業服務有限公司", "淇水春天管理處", "收款收據", "補打1", "作廢", "交款人聯", "8號樓2單元301",
                     "張三", "收款單位蓋章", "第1頁/共1頁"):
        assert expected in text, expected
    assert_one_script(text, Script.traditional)


def test_a_document_built_outside_its_estates_characters_is_refused():
    from app.domain.registry.script import Script

    head = page.Letterhead(legal_name="X", office_name="Y", script=Script.traditional)
    with pytest.raises(RuntimeError, match="traditional"):
        page.render(page.Layout(title="t", copies=[page.Copy(label=None, story=[parts.text("x")])]), letterhead=head, printing=BY)
