"""GET /cashier-sessions/{id}/handover-sheet.pdf: the day's 交款单 that the cashier and finance sign (§5.4)."""
from __future__ import annotations

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from tests.factories import make_staff
from tests.helpers import cash
from tests.helpers.documents import pdf_of
from tests.helpers.paper import API, LEGAL_NAME, cashier_day
from tests.helpers.payments import keyed
from tests.helpers.pdf import pages_of, text_of
from tests.helpers.problems import assert_422, assert_problem
from tests.registry_factories import count_rows


def url(session_id: str) -> str:
    return f"{API}/cashier-sessions/{session_id}/handover-sheet.pdf"


class TestHandoverSheetPdf:
    async def test_anonymous_is_401(self, client, session):
        w = await cashier_day(client, session)
        assert_problem(await client.get(url(w.session_id)), 401, "invalid-token")

    async def test_expected_counted_difference_receipts_and_signatures(self, client, session):
        w = await cashier_day(client, session)
        text = text_of(pdf_of(await client.get(url(w.session_id), headers=w.desk.staff.headers)))
        for expected in ("交款单", LEGAL_NAME, "交款人（收款员）：李娜", "已交款，待财务确认", "有效收据：2张", "作废收据（不计）：1张",
                         "现金10160.56", "微信支付1045.00", "合计20205.56", "应交现金（元）：160.56", "实点现金（元）：140.56",
                         "差额（实点－应交，元）：-20.00", "找零短款20元，已报主管", *w.numbers, "8号楼2单元301", "作废，不计",
                         "计入合计205.56", "调整", "交款人：", "收款人（财务）：", "日期："):
            assert expected in text, expected
        assert "未交款" not in text

    async def test_an_open_drawer_prints_marked_not_handed_over(self, client, session):
        w = await cashier_day(client, session)
        other = await make_staff(session, estates=[w.desk.estate], roles=[Role.receptionist], full_name="王芳")
        sid = (await cash.current(client, w.desk, other))["id"]
        assert "未交款" in text_of(pdf_of(await client.get(url(sid), headers=other.headers)))

    async def test_a_long_day_runs_onto_more_pages_with_every_receipt(self, client, session):
        w = await cashier_day(client, session, extra_payments=45)
        pdf = pdf_of(await client.get(url(w.session_id), headers=w.finance.headers))
        text, pages = text_of(pdf), pages_of(pdf)
        assert pages >= 2 and all(n in text for n in w.numbers)
        assert text.count("收据号") >= 2 and f"第{pages}页/共{pages}页" in text
        assert "计入合计655.56" in text

    async def test_a_void_after_hand_over_is_an_adjustment_apart(self, client, session):
        w = await cashier_day(client, session)
        first = (await cash.get(client, w.session_id, w.desk.staff))["receipts"][0]
        r = await client.post(f"{API}/receipts/{first['id']}/void", json={"reason": "重复收费"}, headers=keyed(w.supervisor.headers))
        assert r.status_code == 200, r.text
        theirs = (await cash.current(client, w.desk, w.supervisor))["id"]
        text = text_of(pdf_of(await client.get(url(theirs), headers=w.supervisor.headers)))
        adjustments = text[text.index("调整（"):]
        assert first["number"] in adjustments and "-160.56" in adjustments and "重复收费" in adjustments
        assert "调整合计-160.56" in adjustments
        own = text_of(pdf_of(await client.get(url(w.session_id), headers=w.desk.staff.headers)))
        assert "交款后作废" in own

    async def test_who_may_print_a_drawer(self, client, session):
        w = await cashier_day(client, session)
        assert pdf_of(await client.get(url(w.session_id), headers=w.finance.headers))
        colleague = await make_staff(session, estates=[w.desk.estate], roles=[Role.receptionist])
        assert_problem(await client.get(url(w.session_id), headers=colleague.headers), 404, "cashier-session-not-found")
        tech = await make_staff(session, estates=[w.desk.estate], roles=[Role.technician])
        assert_problem(await client.get(url(w.session_id), headers=tech.headers), 403, "forbidden")
        elsewhere = await make_staff(session, estates=[w.desk.other], roles=[Role.finance])
        assert_problem(await client.get(url(w.session_id), headers=elsewhere.headers), 404, "cashier-session-not-found")

    async def test_a_bad_id_is_422_naming_it_and_printing_writes_nothing(self, client, session):
        w = await cashier_day(client, session)
        before = await count_rows(session, AuditEntry)
        assert_422(await client.get(url("12345"), headers=w.finance.headers), "session_id")
        pdf_of(await client.get(url(w.session_id), headers=w.finance.headers))
        assert await count_rows(session, AuditEntry) == before
