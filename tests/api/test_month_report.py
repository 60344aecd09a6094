"""GET /estates/{id}/fee-reports/month-end: the month-end fee report (§5.8), checked by hand to the cent.

November 2026 at an estate in Asia/Shanghai. Building 1: units A (101) and B (102); building 2:
units C (201) and D (202). Items: 物业管理费 (mgmt) and 水费 (water).

    November charges   A mgmt 160.56, A water 30.00, B mgmt 150.00, B water 20.00, C mgmt 200.00, D mgmt 120.00
    other charges      C mgmt October 200.00 (arrears), A mgmt December 160.56

    receipts (local)   Oct 25 10:00  B  20.00 cash     B water Nov              (paid in advance)
                       Nov  3 10:00  A 190.56 cash     A mgmt Nov + A water Nov
                       Nov  5 11:00  C 300.00 wechat   C mgmt Oct 200 + C mgmt Nov 100 (partial)
                       Nov 10 09:00  B 150.00 cash     B mgmt Nov -- voided at 15:00
                       Nov 20 16:00  A 200.00 alipay   A mgmt Dec 160.56 + 39.44 credit
                       Nov 25 10:00  A refund 30.00 bank transfer (of that credit)
                       Nov 30 23:50  B  50.00 cash     B mgmt Nov (partial; 15:50 UTC)
                       Dec  1 00:10  C 100.00 cash     C mgmt Nov rest (still 30 Nov in UTC: December here)
"""
from __future__ import annotations

import csv
import io
from datetime import datetime
from urllib.parse import quote

import openpyxl
import pytest

from app.domain.auth.roles import Role
from app.domain.fees.reports.model import FeeReport
from tests.factories import make_staff
from tests.helpers.fee_reports import API, TZ, Books, D, api_key_headers, books, local, november
from tests.helpers.problems import assert_422
from tests.registry_factories import count_rows


async def month_report(client, b: Books, month: str = "2026-11", **params) -> dict:
    r = await client.get(f"{API}/estates/{b.estate.id}/fee-reports/month-end", params={"month": month, **params},
                         headers=b.reader.headers)
    assert r.status_code == 200, r.text
    return r.json()


FIGURES = ["billed", "collected_before", "collected_for_month", "outstanding", "collection_rate", "collected_for_earlier",
           "collected_for_later", "collected_in_month", "households_billed", "households_paid_in_full",
           "households_partly_paid", "households_unpaid"]


def figures(line: dict, *extra: str) -> tuple:
    return tuple(line[k] for k in [*FIGURES, *extra])


class TestHandCheckedMonth:
    async def test_by_fee_item(self, client, session):
        b = await november(session)
        report = await month_report(client, b)
        items = {i["code"]: i for i in report["by_fee_item"]}
        # mgmt: billed 160.56+150+200+120; for the month A 160.56 + C 100 + B 50 (the voided 150 counts nowhere);
        # outstanding at the month's end B 100 + C 100 (paid on 1 Dec: too late) + D 120; arrears C's October;
        # in advance A's December. Households: A in full, B and C in part, D nothing.
        assert figures(items["mgmt"]) == ("630.56", "0.00", "310.56", "320.00", "0.4925", "200.00", "160.56", "671.12",
                                          4, 1, 2, 1)
        # water: B's was paid on 25 October (in advance), A's on 3 November.
        assert figures(items["water"]) == ("50.00", "20.00", "30.00", "0.00", "0.6000", "0.00", "0.00", "30.00", 2, 2, 0, 0)

    async def test_by_building_and_totals(self, client, session):
        b = await november(session)
        report = await month_report(client, b)
        one, two = report["by_building"]
        assert (one["name"], two["name"]) == ("1号楼", "2号楼")
        # Building 1 (A, B): 190.56 + 200 + 50 - 30 refunded = 410.56 of receipts; 39.44 of it is A's credit.
        assert figures(one, "credit_received", "refunds") == (
            "360.56", "20.00", "240.56", "100.00", "0.6672", "0.00", "160.56", "410.56", 2, 1, 1, 0, "39.44", "30.00")
        assert figures(two, "credit_received", "refunds") == (
            "320.00", "0.00", "100.00", "220.00", "0.3125", "200.00", "0.00", "300.00", 2, 0, 1, 1, "0.00", "0.00")
        t = report["totals"]
        assert figures(t, "credit_received", "refunds") == (
            "680.56", "20.00", "340.56", "320.00", "0.5004", "200.00", "160.56", "710.56", 4, 1, 2, 1, "39.44", "30.00")
        assert (t["receipts"], t["refund_documents"], t["voided"]) == (4, 1, 1)

    async def test_totals_reconcile_with_the_months_receipts(self, client, session):
        b = await november(session)
        t = (await month_report(client, b))["totals"]
        # The month's receipts, from the receipt list, voids left out and the refund negative.
        r = await client.get(f"{API}/estates/{b.estate.id}/receipts", headers=b.reader.headers,
                             params={"from": local(2026, 11, 1).isoformat(), "to": local(2026, 12, 1).isoformat(), "limit": 200})
        counted = [D(x["amount"]) * (-1 if x["series"] == "refund" else 1) for x in r.json()["items"] if x["status"] == "issued"]
        assert sum(counted) == D("710.56") == D(t["receipts_total"]) == D(t["collected_in_month"])
        parts = ["collected_for_month", "collected_for_earlier", "collected_for_later", "credit_received"]
        assert sum(D(t[k]) for k in parts) - D(t["refunds"]) == D(t["receipts_total"])
        # And billed = paid in advance + paid in the month + outstanding, line by line.
        for line in [*(await month_report(client, b))["by_fee_item"], t]:
            assert D(line["billed"]) == D(line["collected_before"]) + D(line["collected_for_month"]) + D(line["outstanding"])

    async def test_december_sees_the_late_payment(self, client, session):
        b = await november(session)
        dec = await month_report(client, b, "2026-12")
        assert dec["totals"]["receipts_total"] == "100.00"
        mgmt = next(i for i in dec["by_fee_item"] if i["code"] == "mgmt")
        # C's November rest is arrears recovered in December; A's December was paid in November.
        assert (mgmt["billed"], mgmt["collected_before"], mgmt["collected_for_earlier"], mgmt["outstanding"]) == (
            "160.56", "160.56", "100.00", "0.00")

    async def test_an_empty_month(self, client, session):
        b = await books(session)
        report = await month_report(client, b, "2026-05")
        assert report["totals"]["billed"] == "0.00" and report["totals"]["collection_rate"] is None
        assert [i["code"] for i in report["by_fee_item"]] == ["mgmt", "water"]


class TestFiles:
    async def test_xlsx_has_the_same_totals(self, client, session):
        b = await november(session)
        r = await client.get(f"{API}/estates/{b.estate.id}/fee-reports/month-end",
                             params={"month": "2026-11", "format": "xlsx"}, headers=b.reader.headers)
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        zh = quote(f"月度收费报表-{b.estate.code}-2026-11.xlsx", safe="")
        assert r.headers["content-disposition"] == (
            f'attachment; filename="month-fee-report-{b.estate.code}-2026-11.xlsx"; filename*=UTF-8\'\'{zh}')
        book = openpyxl.load_workbook(io.BytesIO(r.content))
        assert book.sheetnames == ["按收费项目", "按楼栋", "收据核对", "滞纳金", "更正"]
        sheet = book["按楼栋"]
        headers = [c.value for c in sheet[1]]
        *lines, total = list(sheet.iter_rows(min_row=2))
        assert total[0].value == "合计" and [row[0].value for row in lines] == ["1号楼", "2号楼"]
        cell = total[headers.index("本月收款合计")]
        assert D(str(cell.value)) == D("710.56") and cell.number_format == "#,##0.00"
        assert D(str(total[headers.index("本月应收")].value)) == D("680.56")
        rate = total[headers.index("收缴率")]
        assert rate.value == pytest.approx(0.5004) and rate.number_format == "0.00%"
        assert total[headers.index("应收户数")].value == 4
        # Per fee item a unit billed for two items is a household of each: those counts are not summed.
        item_headers = [c.value for c in book["按收费项目"][1]]
        item_total = list(book["按收费项目"].iter_rows(min_row=2, values_only=True))[-1]
        assert item_total[0] == "合计" and D(str(item_total[item_headers.index("本月应收")])) == D("680.56")
        assert item_total[item_headers.index("应收户数")] is None
        check = [c.value for c in book["收据核对"][2]]
        assert D(str(check[0])) == D(str(check[1])) == D("710.56") and check[2:] == [4, 1, 1]

    async def test_csv_has_a_bom_and_chinese_headers(self, client, session):
        b = await november(session)
        r = await client.get(f"{API}/estates/{b.estate.id}/fee-reports/month-end",
                             params={"month": "2026-11", "format": "csv"}, headers=b.reader.headers)
        assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
        assert f'filename="month-fee-report-{b.estate.code}-2026-11.csv"' in r.headers["content-disposition"]
        assert r.content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert rows[1][:3] == ["代码", "收费项目", "本月应收"]
        assert rows[2][:6] == ["mgmt", "物业管理费", "630.56", "0.00", "310.56", "320.00"]
        by_item, by_building = [row for row in rows if row and row[0] == "合计"]
        assert (by_item[2], by_item[6], by_item[10]) == ("680.56", "0.5004", "")  # households per item do not add up
        assert by_building[1] == "680.56" and by_building[8] == "710.56"


class TestAccess:
    async def test_anonymous_401(self, client, session):
        b = await books(session)
        r = await client.get(f"{API}/estates/{b.estate.id}/fee-reports/month-end")
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"

    async def test_the_desk_compiles_it_for_her_estate(self, client, session):
        # §5.8: the receptionist summarises the month's fees for finance.
        b = await november(session)
        url = f"{API}/estates/{b.estate.id}/fee-reports/month-end"
        r = await client.get(url, params={"month": "2026-11"}, headers=b.cashier.headers)
        assert r.status_code == 200, r.text
        assert r.json()["totals"]["receipts_total"] == "710.56"  # the whole estate's month, not her receipts only
        r = await client.get(url, params={"month": "2026-11", "format": "csv"}, headers=b.cashier.headers)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        stranger = await make_staff(session, estates=[b.other], roles=[Role.receptionist])
        r = await client.get(url, params={"month": "2026-11"}, headers=stranger.headers)
        assert r.status_code == 404 and r.json()["type"] == "/problems/estate-not-found"
        assert await count_rows(session, FeeReport) == 0

    @pytest.mark.parametrize("role", [Role.manager, Role.technician, Role.night_duty])
    async def test_roles_without_the_permission_403(self, client, session, role):
        b = await books(session)
        staff = await make_staff(session, estates=[b.estate], roles=[role])
        for fmt in ("json", "xlsx"):
            r = await client.get(f"{API}/estates/{b.estate.id}/fee-reports/month-end", params={"format": fmt},
                                 headers=staff.headers)
            assert r.status_code == 403, role
            assert r.json()["type"] == "/problems/forbidden"

    async def test_other_estate_404(self, client, session):
        b = await november(session)
        stranger = await make_staff(session, estates=[b.other], roles=[Role.finance])
        for fmt in ("json", "csv"):
            r = await client.get(f"{API}/estates/{b.estate.id}/fee-reports/month-end", params={"format": fmt},
                                 headers=stranger.headers)
            assert r.status_code == 404 and r.json()["type"] == "/problems/estate-not-found"

    async def test_an_integrations_read_only_key_reads_json(self, client, session):
        b = await november(session)
        headers = api_key_headers(session, b.estate, ["fee_reports:read"])
        elsewhere = api_key_headers(session, b.other, ["fee_reports:read"])
        without = api_key_headers(session, b.estate, ["reports:read", "registry:read"])
        await session.commit()
        url = f"{API}/estates/{b.estate.id}/fee-reports/month-end?month=2026-11"
        r = await client.get(url, headers=headers)
        assert r.status_code == 200 and r.json()["totals"]["receipts_total"] == "710.56"
        assert (await client.get(url, headers=elsewhere)).status_code == 404
        assert (await client.get(url, headers=without)).status_code == 403

    @pytest.mark.parametrize("month", ["2026-13", "2026-00", "2026-1", "1999-12", "2026/11", "2026-11-01", "x" * 300, "2026-11\x00"])
    async def test_bad_month_422(self, client, session, month):
        b = await books(session)
        r = await client.get(f"{API}/estates/{b.estate.id}/fee-reports/month-end", params={"month": month},
                             headers=b.reader.headers)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
        assert_422(r, "month")
        assert await count_rows(session, FeeReport) == 0

    async def test_bad_format_422(self, client, session):
        b = await books(session)
        r = await client.get(f"{API}/estates/{b.estate.id}/fee-reports/month-end", params={"format": "pdf"},
                             headers=b.reader.headers)
        assert r.status_code == 422 and r.json()["type"] == "/problems/validation-failed"

    async def test_default_is_the_current_month(self, client, session):
        b = await books(session)
        r = await client.get(f"{API}/estates/{b.estate.id}/fee-reports/month-end", headers=b.reader.headers)
        assert r.status_code == 200
        assert r.json()["month"] == datetime.now(TZ).strftime("%Y-%m")
