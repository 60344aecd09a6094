"""Arrears notices (催缴通知单): GET /units/{id}/arrears-notice.pdf and the batch GET /estates/{id}/arrears-notices.pdf.

Today is 2026-12-03 in Shanghai. 8-2-301 owes Sep and Oct management fees (223.00 each, late fee
0.05%/day) and Nov water (30.00); its Dec fee falls due on the 20th, so it is no arrears yet.
8-2-302 owes 100.00 of Oct; 8-2-303 has paid; 9-1-101 owes Nov (150.00).
"""
from __future__ import annotations

import pytest

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from tests.factories import make_staff
from tests.helpers.documents import pdf_of
from tests.helpers.paper import API, ARREARS_NOW, LEGAL_NAME, OFFICE_ADDRESS, OFFICE_PHONE, Owing, owing
from tests.helpers.pdf import pages_of, text_of
from tests.helpers.problems import assert_422, assert_invalid, assert_problem
from tests.registry_factories import count_rows, make_building


@pytest.fixture(autouse=True)
def frozen_now(time_machine):
    time_machine.move_to(ARREARS_NOW, tick=False)


def unit_url(unit) -> str:
    return f"{API}/units/{unit.id}/arrears-notice.pdf"


def batch_url(w: Owing) -> str:
    return f"{API}/estates/{w.estate.id}/arrears-notices.pdf"


class TestUnitNotice:
    async def test_anonymous_is_401(self, client, session):
        w = await owing(session)
        assert_problem(await client.get(unit_url(w.wang)), 401, "invalid-token")

    async def test_each_charge_past_due_with_its_age_and_late_fee_as_the_bill_computes_it(self, client, session):
        w = await owing(session)
        bill = (await client.get(f"{API}/units/{w.wang.id}/bill", headers=w.desk.headers)).json()
        fees = {ln["period"]: ln["late_fee"]["amount"] for ln in bill["lines"]}
        pdf = pdf_of(await client.get(unit_url(w.wang), headers=w.desk.headers))
        text = text_of(pdf)
        assert fees["2026-09"] != "0.00" and fees["2026-11"] == "0.00"
        late = sum(float(fees[p]) for p in ("2026-09", "2026-10"))
        for expected in ("催缴通知单", "尊敬的王建国", "房号：8号楼2单元301", "通知日期：2026-12-03", "缴费截止日期：2026-12-18",
                         f"物业管理费2026-09223.000.000.00223.002026-09-0193{fees['2026-09']}",
                         f"物业管理费2026-10223.000.000.00223.002026-10-0163{fees['2026-10']}",
                         "水费2026-1130.000.000.0030.002026-11-01320.00", f"合计476.000.000.00476.00{late:.2f}{476 + late:,.2f}",
                         f"联系电话：{OFFICE_PHONE}", f"地址：{OFFICE_ADDRESS}", LEGAL_NAME, "（盖章）", "第1页/共1页"):
            assert expected in text, expected
        assert "2026-12-20" not in text  # not due yet: no arrears
        assert pages_of(pdf) == 1

    async def test_late_fees_posted_or_not_the_letter_says_the_same(self, client, session):
        w = await owing(session)
        # As of 12-03, 0.05% a day, no grace: Sep 93 days: 223.00 × 0.0005 × 93 = 10.3695 -> 10.37; Oct 63 days:
        # 223.00 × 0.0005 × 63 = 7.0245 -> 7.02. 10.37 + 7.02 = 17.39; 476.00 + 17.39 = 493.39.
        said = "合计493.39元（其中欠费476.00元，滞纳金17.39元）"
        assert said in text_of(pdf_of(await client.get(unit_url(w.wang), headers=w.desk.headers))).replace("\n", "")
        r = await client.post(f"{API}/units/{w.wang.id}/late-fees", headers=w.desk.headers)
        assert (r.status_code, r.json()["total"]) == (200, "17.39"), r.text
        assert said in text_of(pdf_of(await client.get(unit_url(w.wang), headers=w.desk.headers))).replace("\n", "")

    async def test_a_waived_part_has_its_column_so_each_row_adds_up(self, client, session):
        w = await owing(session)
        supervisor = await make_staff(session, estates=[w.estate], roles=[Role.supervisor])
        [line] = (await client.get(f"{API}/units/{w.li.id}/bill", headers=w.desk.headers)).json()["lines"]
        asked = await client.post(f"{API}/charges/{line['charge_id']}/waivers", headers=w.desk.headers,
                                  json={"kind": "amount", "value": "20.00", "reason": "维修延误补偿"})
        r = await client.post(f"{API}/waivers/{asked.json()['id']}/approve", json={"reason": "同意"},
                              headers=supervisor.headers)
        assert r.status_code == 200, r.text
        # 应收 180.00 − 减免 20.00 − 已缴 80.00 = 欠费 80.00, due 10-01, 63 days late on 12-03.
        text = text_of(pdf_of(await client.get(unit_url(w.li), headers=w.desk.headers)))
        assert "物业管理费2026-10180.0020.0080.0080.002026-10-0163" in text

    async def test_the_pay_by_day_asked_for_is_printed(self, client, session):
        w = await owing(session)
        r = await client.get(unit_url(w.li), params={"pay_by": "2026-12-31"}, headers=w.desk.headers)
        text = text_of(pdf_of(r))
        assert "缴费截止日期：2026-12-31" in text and "请于2026-12-31前" in text and "尊敬的李梅" in text

    async def test_a_pay_by_day_past_or_malformed_is_422_naming_it_and_writes_nothing(self, client, session):
        w = await owing(session)
        before = await count_rows(session, AuditEntry)
        assert_invalid(await client.get(unit_url(w.wang), params={"pay_by": "2026-12-02"}, headers=w.desk.headers),
                       "pay-by-out-of-range", "pay_by")
        assert_invalid(await client.get(unit_url(w.wang), params={"pay_by": "2028-01-01"}, headers=w.desk.headers),
                       "pay-by-out-of-range", "pay_by")
        assert_422(await client.get(unit_url(w.wang), params={"pay_by": "2026-02-30"}, headers=w.desk.headers), "pay_by")
        assert_422(await client.get(batch_url(w), params={"pay_by": "tomorrow"}, headers=w.desk.headers), "pay_by")
        assert await count_rows(session, AuditEntry) == before

    async def test_a_unit_owing_nothing_has_no_notice(self, client, session):
        w = await owing(session)
        assert_problem(await client.get(unit_url(w.paid), headers=w.desk.headers), 409, "unit-owes-nothing")

    async def test_a_long_debt_runs_onto_more_pages_numbered_within_the_notice(self, client, session):
        w = await owing(session, months_of_wang=70)
        pdf = pdf_of(await client.get(unit_url(w.wang), headers=w.desk.headers))
        pages, text = pages_of(pdf), text_of(pdf)
        assert pages >= 2 and text.count("收费项目") == pages
        assert "2021-01" in text and "2026-10" in text and f"第{pages}页/共{pages}页" in text

    async def test_who_may_print(self, client, session):
        w = await owing(session)
        finance = await make_staff(session, estates=[w.estate], roles=[Role.finance])
        assert pdf_of(await client.get(unit_url(w.wang), headers=finance.headers))
        tech = await make_staff(session, estates=[w.estate], roles=[Role.technician])
        assert_problem(await client.get(unit_url(w.wang), headers=tech.headers), 403, "forbidden")
        theirs = await make_staff(session, estates=[w.other], roles=[Role.receptionist])
        assert_problem(await client.get(unit_url(w.wang), headers=theirs.headers), 404, "unit-not-found")
        assert_422(await client.get(f"{API}/units/301/arrears-notice.pdf", headers=w.desk.headers), "unit_id")


class TestBatch:
    async def test_one_notice_per_owing_unit_each_on_its_own_pages(self, client, session):
        w = await owing(session)
        pdf = pdf_of(await client.get(batch_url(w), headers=w.desk.headers))
        pages = text_of(pdf).split("\f")[:-1]
        assert len(pages) == pages_of(pdf) == 3
        whom = [next(n for n in ("王建国", "李梅", "赵强", "孙丽") if f"尊敬的{n}" in p) for p in pages]
        assert whom == ["王建国", "李梅", "赵强"]  # in unit order; 8-2-303 has paid and is left out
        assert all("第1页/共1页" in p and "缴费截止日期：2026-12-18" in p for p in pages)

    async def test_a_building_and_a_minimum_age(self, client, session):
        w = await owing(session)
        text = text_of(pdf_of(await client.get(batch_url(w), params={"building_id": str(w.b8.id)}, headers=w.desk.headers)))
        assert "尊敬的王建国" in text and "尊敬的李梅" in text and "赵强" not in text
        text = text_of(pdf_of(await client.get(batch_url(w), params={"min_age_days": 60}, headers=w.desk.headers)))
        assert "尊敬的王建国" in text and "尊敬的李梅" in text and "赵强" not in text

    async def test_a_long_notice_restarts_the_numbering_of_the_next(self, client, session):
        w = await owing(session, months_of_wang=70)
        pdf = pdf_of(await client.get(batch_url(w), params={"building_id": str(w.b8.id)}, headers=w.desk.headers))
        pages = text_of(pdf).split("\f")[:-1]
        assert len(pages) >= 3
        assert "第1页/共" in pages[0] and "第1页/共1页" in pages[-1] and "尊敬的李梅" in pages[-1]

    async def test_nobody_owing_is_one_page_saying_so(self, client, session):
        w = await owing(session)
        empty = await make_building(session, estate=w.estate, number=10, name="10号楼")
        pdf = pdf_of(await client.get(batch_url(w), params={"building_id": str(empty.id)}, headers=w.desk.headers))
        assert pages_of(pdf) == 1 and "没有逾期欠费的房屋" in text_of(pdf)

    async def test_who_may_print_and_what_they_may_name(self, client, session):
        w = await owing(session)
        assert_problem(await client.get(batch_url(w)), 401, "invalid-token")
        tech = await make_staff(session, estates=[w.estate], roles=[Role.technician])
        assert_problem(await client.get(batch_url(w), headers=tech.headers), 403, "forbidden")
        theirs = await make_staff(session, estates=[w.other], roles=[Role.receptionist])
        assert_problem(await client.get(batch_url(w), headers=theirs.headers), 404, "estate-not-found")
        foreign = await make_building(session, estate=w.other, number=8)
        assert_problem(await client.get(batch_url(w), params={"building_id": str(foreign.id)}, headers=w.desk.headers),
                       404, "building-not-found")
        both = await make_staff(session, estates=[w.estate, w.other], roles=[Role.supervisor])
        assert_invalid(await client.get(batch_url(w), params={"building_id": str(foreign.id)}, headers=both.headers),
                       "building-not-in-estate", "building_id")
        assert_422(await client.get(batch_url(w), params={"min_age_days": "-1"}, headers=w.desk.headers), "min_age_days")


class TestBatchSize:
    async def test_more_owing_units_than_a_batch_prints_is_422_naming_the_building(self, client, session, monkeypatch):
        from app.domain.fees.statements import arrears_notice_pdf

        w = await owing(session)  # three units owe
        monkeypatch.setattr(arrears_notice_pdf, "MAX_NOTICES", 2)
        body = assert_problem(await client.get(batch_url(w), headers=w.desk.headers), 422, "too-many-notices")
        assert body["units"] == 3 and body["most"] == 2
        assert_422(await client.get(batch_url(w), headers=w.desk.headers), "building_id")
        text = text_of(pdf_of(await client.get(batch_url(w), params={"building_id": str(w.b8.id)}, headers=w.desk.headers)))
        assert "尊敬的王建国" in text and "尊敬的李梅" in text
