"""GET /estates/{id}/fee-reports/saturday-register?format=pdf: the week's register to print and sign (§5.5).

The week is tests/helpers/fee_reports.week48: 2026-W48, Saturday 21 to Friday 27 November 2026.
"""
from __future__ import annotations

from app.domain.auth.roles import Role
from app.domain.fees.reports.model import FeeReport
from tests.factories import make_staff
from tests.helpers.documents import pdf_of
from tests.helpers.fee_reports import API, Books, local, week48
from tests.helpers.paper import LEGAL_NAME, office
from tests.helpers.pdf import pages_of, text_of
from tests.helpers.problems import assert_422, assert_problem
from tests.registry_factories import count_rows


def url(b: Books) -> str:
    return f"{API}/estates/{b.estate.id}/fee-reports/saturday-register"


async def printed(client, b: Books, **params) -> bytes:
    return pdf_of(await client.get(url(b), params={"week": "2026-W48", "format": "pdf", **params}, headers=b.reader.headers))


class TestRegisterPdf:
    async def test_anonymous_is_401(self, client, session):
        b = await week48(session)
        assert_problem(await client.get(url(b), params={"format": "pdf"}), 401, "invalid-token")

    async def test_every_line_the_weeks_total_and_the_summaries(self, client, session):
        b = await week48(session)
        await office(session, b.estate)
        reg = (await client.get(url(b), params={"week": "2026-W48"}, headers=b.reader.headers)).json()
        pdf = await printed(client, b)
        text = text_of(pdf)
        for expected in ("周收费登记表", "No.2026-W48", LEGAL_NAME, "起止：2026-11-21至2026-11-27", "收据号", "收费项目", "计入金额",
                         "王建国", "1号楼1单元101", "物业管理费(2026-11)", "作废", "收错房号", "退款",
                         f"本周合计{reg['grand_total']}\n", "按收费项目汇总", "按收款方式汇总", "按收款人汇总",
                         "李娜", "王芳", f"本周合计{reg['grand_total']}元（作废不计，退款为负）", "制表（前台）：", "审核（主管）："):
            assert expected in text, expected
        assert [line["number"] for line in reg["lines"] if line["number"] not in text] == []

    async def test_a_busy_week_runs_onto_more_pages_with_the_header_on_each(self, client, session):
        b = await week48(session)
        for n in range(40):
            await b.pay(session, "C", "1.00", local(2026, 11, 26, 9, n))
        pdf = await printed(client, b)
        pages, text = pages_of(pdf), text_of(pdf)
        assert pages >= 2 and text.count("收据号") >= 2 and f"第{pages}页/共{pages}页" in text

    async def test_who_may_print_it(self, client, session):
        b = await week48(session)
        tech = await make_staff(session, estates=[b.estate], roles=[Role.technician])
        r = await client.get(url(b), params={"format": "pdf"}, headers=tech.headers)
        assert_problem(r, 403, "forbidden")
        theirs = await make_staff(session, estates=[b.other], roles=[Role.finance])
        assert_problem(await client.get(url(b), params={"format": "pdf"}, headers=theirs.headers), 404, "estate-not-found")

    async def test_bad_input_is_422_naming_it_and_nothing_is_stored(self, client, session):
        b = await week48(session)
        for params, field in (({"format": "PDF"}, "format"), ({"format": "pdf", "week": "2026-W54"}, "week")):
            assert_422(await client.get(url(b), params=params, headers=b.reader.headers), field)
        assert await count_rows(session, FeeReport) == 0
