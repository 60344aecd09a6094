"""GET /estates/{id}/repairs/daily-log?format=pdf: the day's repair record book to print (§5.6)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.domain.auth.roles import Role
from app.domain.repairs.paperwork.daily_log import CSV_HEADERS
from app.domain.repairs.paperwork.model import DailyRepairLog
from tests.factories import make_staff
from tests.helpers.documents import pdf_of
from tests.helpers.paper import API, LEGAL_NAME, day_of_repairs
from tests.helpers.pdf import pages_of, text_of
from tests.helpers.problems import assert_422, assert_problem
from tests.registry_factories import count_rows

SIMPLIFIED = ["序号", "任务单号", "登记时间", "类别", "位置", "报修内容", "公共区域", "维修人员", "派工时间", "开工时间", "完工时间",
              "当日动态", "收工时状态"]


def url(w) -> str:
    return f"{API}/estates/{w.estate.id}/repairs/daily-log"


@pytest.fixture(autouse=True)
def morning(time_machine):
    # The log shows each order's state at 18:00 closing: run after 18:00 in the estate, today's
    # dispatch would come after the close and read 待派工. 10:00 in Shanghai, today.
    time_machine.move_to(datetime.now(UTC).replace(hour=2, minute=0, second=0), tick=True)


class TestRepairLogPdf:
    async def test_anonymous_is_401(self, client, session):
        w = await day_of_repairs(client, session)
        assert_problem(await client.get(url(w), params={"format": "pdf"}), 401, "invalid-token")

    async def test_the_csvs_columns_every_order_and_the_days_counts(self, client, session):
        w = await day_of_repairs(client, session)
        log = (await client.get(url(w), headers=w.desk.headers)).json()
        pdf = pdf_of(await client.get(url(w), params={"format": "pdf"}, headers=w.desk.headers))
        text = text_of(pdf)
        assert len(SIMPLIFIED) == len(CSV_HEADERS)
        for expected in ("报修记录本", LEGAL_NAME, f"日期：{log['day']}", *SIMPLIFIED, "8号楼2单元301", "厨房水龙头漏水", "水暖",
                         "张师傅", "已派工", "待派工", "共4单", "登记4", "派工1", "记录人：", "审阅（主管）："):
            assert expected in text, expected
        assert all(r["number"] in text for r in log["rows"])
        assert pages_of(pdf) == 1

    async def test_a_busy_day_runs_onto_more_pages_with_the_header_on_each(self, client, session):
        w = await day_of_repairs(client, session, more=40)
        pdf = pdf_of(await client.get(url(w), params={"format": "pdf"}, headers=w.desk.headers))
        pages, text = pages_of(pdf), text_of(pdf)
        assert pages >= 2 and text.count("收工时状态") == pages
        assert "第40单" in text and "共41单" in text and f"第{pages}页/共{pages}页" in text

    async def test_who_may_print_it(self, client, session):
        w = await day_of_repairs(client, session)
        agency = await make_staff(session, estates=[w.estate], roles=[Role.agency])
        assert_problem(await client.get(url(w), params={"format": "pdf"}, headers=agency.headers), 403, "forbidden")
        theirs = await make_staff(session, estates=[w.other], roles=[Role.receptionist])
        assert_problem(await client.get(url(w), params={"format": "pdf"}, headers=theirs.headers), 404, "estate-not-found")

    async def test_bad_input_is_422_naming_it_and_nothing_is_compiled(self, client, session):
        w = await day_of_repairs(client, session)
        for params, field in (({"format": "PDF"}, "format"), ({"format": "pdf", "date": "2026-02-30"}, "date")):
            assert_422(await client.get(url(w), params=params, headers=w.desk.headers), field)
        assert await count_rows(session, DailyRepairLog) == 0
