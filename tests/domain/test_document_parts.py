"""Every piece a document is made of names only the embedded font (a table, too, names one)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.domain.documents import page, parts
from tests.helpers.pdf import fonts_of

HEAD = page.Letterhead(legal_name="新乡市祥瑞物业服务有限公司", office_name="淇水春天管理处")
BY = page.Printing(by="王丽", at=datetime(2026, 12, 3, 2, 30, tzinfo=UTC), time_zone="Asia/Shanghai")
WIDTH = page.A4_PORTRAIT[0] - 2 * page.MARGIN
PIECES = {
    "grid": lambda: parts.grid(["收费项目", "金额"], [["物业管理费", "1.00"], ["", ""]], widths=[WIDTH / 2] * 2, right=[1],
                               total=["合计", "1.00"]),
    "fields": lambda: parts.fields([("房号", "8-2-301"), ("交款人", None), ("日期", "")], width=WIDTH),
    "signatures": lambda: parts.signatures(["技术员", "业主确认", "日期"], width=WIDTH),
    "ruled": lambda: parts.ruled(3, width=WIDTH, label="维修情况："),
    "choices": lambda: parts.choices("维修结果", ["已修复", "需再次上门"]),
}


@pytest.mark.parametrize("name", sorted(PIECES))
def test_a_piece_names_no_font_but_the_embedded_one(name):
    pdf = page.render(page.Layout(title="维修任务单", copies=[page.Copy(label=None, story=[PIECES[name]()])]),
                      letterhead=HEAD, printing=BY)
    found = fonts_of(pdf)
    assert {f.name.split("+", 1)[-1] for f in found} <= {"NotoSansSC-Regular", "NotoSansSC-Bold"}, found
    assert all(f.embedded and f.subset for f in found)
