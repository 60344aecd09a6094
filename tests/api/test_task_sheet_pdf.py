"""GET /work-orders/{id}/task-sheet.pdf: the task sheet a technician takes without the app (§7.3.8)."""
from __future__ import annotations

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from tests.factories import make_staff
from tests.helpers.dispatch import local
from tests.helpers.documents import pdf_of
from tests.helpers.paper import API, LEGAL_NAME, OFFICE_PHONE, dispatched
from tests.helpers.pdf import pages_of, text_of
from tests.helpers.problems import assert_422, assert_problem
from tests.registry_factories import count_rows


def url(order_id: str) -> str:
    return f"{API}/work-orders/{order_id}/task-sheet.pdf"


class TestTaskSheetPdf:
    async def test_anonymous_is_401(self, client, session):
        w = await dispatched(client, session)
        assert_problem(await client.get(url(w.order_id)), 401, "invalid-token")

    async def test_the_sheet_carries_the_job_the_place_the_owner_and_the_lines_to_fill(self, client, session):
        w = await dispatched(client, session)
        pdf = pdf_of(await client.get(url(w.order_id), headers=w.desk.headers))
        text = text_of(pdf)
        day = local(9).date().isoformat()
        for expected in ("维修任务单", f"No.{w.number}", f"任务单号：{w.number}", f"报修单号：{w.request_number}",
                         "维修地址：8号楼2单元301",
                         "王建国", "13800138000", f"预约时间：{day}09:00–10:00", "维修人员：张师傅", "紧急程度：紧急",
                         "报修类别：水暖", "厨房水龙头漏水", "材料名称及规格", "合计", "维修情况", "维修结果",
                         "技术员：", "业主确认：", "日期：", LEGAL_NAME, OFFICE_PHONE, "打印：李娜", "第1页/共1页"):
            assert expected in text, expected
        assert pages_of(pdf) == 1

    async def test_the_assigned_technician_prints_his_own_and_no_one_elses(self, client, session):
        w = await dispatched(client, session)
        assert "张师傅" in text_of(pdf_of(await client.get(url(w.order_id), headers=w.tech.headers)))
        assert_problem(await client.get(url(w.order_id), headers=w.colleague.headers), 404, "work-order-not-found")

    async def test_finance_has_no_business_with_repairs(self, client, session):
        w = await dispatched(client, session)
        finance = await make_staff(session, estates=[w.estate], roles=[Role.finance])
        assert_problem(await client.get(url(w.order_id), headers=finance.headers), 403, "forbidden")

    async def test_another_estates_desk_finds_nothing(self, client, session):
        w = await dispatched(client, session)
        theirs = await make_staff(session, estates=[w.other], roles=[Role.receptionist])
        assert_problem(await client.get(url(w.order_id), headers=theirs.headers), 404, "work-order-not-found")

    async def test_a_bad_id_is_422_naming_it_and_printing_writes_nothing(self, client, session):
        w = await dispatched(client, session)
        before = await count_rows(session, AuditEntry)
        assert_422(await client.get(url("not-a-uuid"), headers=w.desk.headers), "order_id")
        pdf_of(await client.get(url(w.order_id), headers=w.desk.headers))
        assert await count_rows(session, AuditEntry) == before
