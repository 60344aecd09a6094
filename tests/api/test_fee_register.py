"""GET /estates/{id}/fee-reports/saturday-register: the Saturday register (§5.5).

Week 2026-W48 of the register runs Saturday 21 to Friday 27 November 2026, Asia/Shanghai.

    r1  Sat 21 00:00  A 190.56 cash    李娜  A mgmt Nov 160.56 + A water Nov 30.00 (payer 王建國)
    r2  Mon 23 10:00  B 150.00 wechat  王芳  B mgmt Oct 150.00
    r3  Tue 24 10:00  B 100.00 cash    李娜  B mgmt Nov (part) -- voided Wednesday
    r4  Wed 25 14:00  B 200.00 alipay  王芳  B mgmt Nov 150.00 + B water Nov 20.00 + 30.00 credit
    R   Thu 26 10:00  B refund 10.00 cash 李娜
    r5  Fri 27 23:30  A 160.56 wechat  李娜  A mgmt Dec 160.56            (still W48)
    r6  Sat 28 00:10  B  50.00 cash    李娜  credit                        (W49)
"""
from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from urllib.parse import quote

import openpyxl
import pytest

from app.domain.auth.roles import Role
from app.domain.calendar import estate_time
from app.domain.fees.reports import saturday_register as register
from app.domain.fees.reports.export import REGISTER_COLUMNS
from app.domain.fees.reports.model import FeeReport
from tests.factories import make_staff
from tests.helpers.fee_reports import API, Books, api_key_headers, books, local, week48
from tests.helpers.problems import assert_422
from tests.registry_factories import count_rows

D = Decimal


async def get_register(client, b: Books, week: str | None = "2026-W48", **params) -> dict:
    query = {**({"week": week} if week else {}), **params}
    r = await client.get(f"{API}/estates/{b.estate.id}/fee-reports/saturday-register", params=query, headers=b.reader.headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_the_register_week_runs_saturday_to_friday():
    assert estate_time.register_week_saturday("2026-W48").isoformat() == "2026-11-21"
    assert (
        estate_time.register_week_of(local(2026, 11, 21).date()) == estate_time.register_week_of(local(2026, 11, 27).date()) == "2026-W48"
    )
    assert estate_time.register_week_of(local(2026, 11, 28).date()) == "2026-W49"
    # On Saturday the week handed over is the one that ended last night; mid-week, the last finished one.
    assert estate_time.last_ended_register_week(local(2026, 11, 28).date()) == "2026-W48"
    assert estate_time.last_ended_register_week(local(2026, 11, 27).date()) == "2026-W47"
    # Across the year's end: W01 of 2027 starts on Saturday 2 January 2027.
    assert estate_time.register_week_saturday("2027-W01").isoformat() == "2027-01-02"
    assert estate_time.register_week_of(local(2027, 1, 1).date()) == "2026-W53"


class TestRegister:
    async def test_lines(self, client, session):
        b = await week48(session)
        reg = await get_register(client, b)
        assert (reg["first_day"], reg["last_day"]) == ("2026-11-21", "2026-11-27")
        lines = reg["lines"]
        assert [(x["amount"], x["counted"], x["status"], x["method"], x["cashier_name"]) for x in lines] == [
            ("190.56", "190.56", "issued", "cash", "李娜"),
            ("150.00", "150.00", "issued", "wechat", "王芳"),
            ("100.00", "0.00", "void", "cash", "李娜"),
            ("200.00", "200.00", "issued", "alipay", "王芳"),
            ("-10.00", "-10.00", "issued", "cash", "李娜"),
            ("160.56", "160.56", "issued", "wechat", "李娜"),
        ]
        first = lines[0]
        assert first["number"].startswith(f"{b.estate.code}-2026-") and first["unit_label"] and first["payer"] == "王建國"
        assert [(p["fee_item_name"], p["period"], p["amount"]) for p in first["settled"]] == [
            ("物业管理费", "2026-11", "160.56"),
            ("水费", "2026-11", "30.00"),
        ]
        assert [p["fee_item_code"] for p in first["settled"]] == ["mgmt", "water"]
        assert lines[3]["credit"] == "30.00" and lines[4]["series"] == "refund"
        assert lines[2]["void_reason"] == "收错房号" and lines[2]["settled"][0]["amount"] == "100.00"

    async def test_totals_by_item_method_and_cashier(self, client, session):
        b = await week48(session)
        reg = await get_register(client, b)
        assert [(t["name"], t["amount"], t["receipts"]) for t in reg["by_fee_item"]] == [
            ("水费", "50.00", 2),
            ("物业管理费", "621.12", 4),
            ("预收款（存入账户）", "30.00", 1),
            ("退还预收款", "-10.00", 1),
        ]
        methods = {t["method"]: (t["amount"], t["receipts"]) for t in reg["by_method"]}
        assert methods == {
            "cash": ("180.56", 2),
            "wechat": ("310.56", 2),
            "alipay": ("200.00", 1),
            "bank_card": ("0.00", 0),
            "bank_transfer": ("0.00", 0),
            "account": ("0.00", 0),  # 预存款抵扣: settled from prepaid accounts, shown though none this week
        }
        assert [(t["name"], t["amount"], t["receipts"], t["voided"]) for t in reg["by_cashier"]] == [
            ("李娜", "341.12", 3, 1),
            ("王芳", "350.00", 2, 0),
        ]
        assert reg["grand_total"] == "691.12"
        assert reg["counts"] == {"lines": 6, "receipts": 4, "refunds": 1, "voided": 1}
        for group in ("by_fee_item", "by_method", "by_cashier"):
            assert sum(D(t["amount"]) for t in reg[group]) == D("691.12"), group

    async def test_saturday_after_midnight_is_the_next_week(self, client, session):
        b = await week48(session)
        reg = await get_register(client, b, "2026-W49")
        assert [(x["amount"], x["issued_at"]) for x in reg["lines"]] == [("50.00", "2026-11-27T16:10:00Z")]
        assert reg["by_fee_item"] == [{"fee_item_id": None, "name": "预收款（存入账户）", "amount": "50.00", "receipts": 1}]
        w47 = await get_register(client, b, "2026-W47")
        assert w47["lines"] == [] and w47["grand_total"] == "0.00"

    async def test_default_is_the_week_today_falls_in(self, client, session):
        b = await books(session)
        reg = await get_register(client, b, None)
        assert reg["week"] == register.current_week(b.estate)


class TestFiles:
    async def test_csv(self, client, session):
        b = await week48(session)
        r = await client.get(
            f"{API}/estates/{b.estate.id}/fee-reports/saturday-register",
            params={"week": "2026-W48", "format": "csv"},
            headers=b.reader.headers,
        )
        assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
        # The ASCII name every client keeps, and the Chinese one a browser saves it under.
        zh = quote(f"周收费登记表-{b.estate.code}-2026-W48.csv", safe="")
        assert r.headers["content-disposition"] == (
            f'attachment; filename="saturday-register-{b.estate.code}-2026-W48.csv"; filename*=UTF-8\'\'{zh}')
        assert r.content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert rows[1] == [c.header for c in REGISTER_COLUMNS]
        detail, totals = rows[2:11], rows[11]
        # One row per settled charge: r1 settled two charges, r4 two and kept 30.00 on account.
        assert [(row[1], row[6], row[7], row[9]) for row in detail[:2]] == [
            (detail[0][1], "物业管理费 (mgmt)", "2026-11", "160.56"), (detail[0][1], "水费 (water)", "2026-11", "30.00")]
        assert detail[0][3] == "2026-11-21 00:00" and detail[-1][3] == "2026-11-27 23:30"
        assert (detail[3][12], detail[3][9], detail[3][10]) == ("作废", "100.00", "0.00")
        assert [row[6:11] for row in detail[4:7]] == [["物业管理费 (mgmt)", "2026-11", "支付宝", "150.00", "150.00"],
                                                      ["水费 (water)", "2026-11", "支付宝", "20.00", "20.00"],
                                                      ["预收款（存入账户）", "", "支付宝", "30.00", "30.00"]]
        assert detail[7][6] == "退还预收款" and detail[7][10] == "-10.00"
        assert [n for n, *_ in detail] == [str(n) for n in range(1, 10)]
        assert totals[0] == "合计" and totals[9:11] == ["791.12", "691.12"]
        assert ["合计", "691.12", ""] in rows

    async def test_xlsx_has_the_same_totals(self, client, session):
        b = await week48(session)
        r = await client.get(
            f"{API}/estates/{b.estate.id}/fee-reports/saturday-register",
            params={"week": "2026-W48", "format": "xlsx"},
            headers=b.reader.headers,
        )
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        book = openpyxl.load_workbook(io.BytesIO(r.content))
        assert book.sheetnames == ["收费明细", "按收费项目", "按收款方式", "按收款人", "合计"]
        *rows, total = list(book["收费明细"].iter_rows(min_row=2))
        assert len(rows) == 9 and total[0].value == "合计"
        assert sum(D(str(row[9].value)) for row in rows) == D(str(total[9].value)) == D("791.12")  # the void's face amount
        assert sum(D(str(row[10].value)) for row in rows) == D(str(total[10].value)) == D("691.12")
        assert rows[0][10].number_format == "#,##0.00"
        assert rows[0][3].value == datetime(2026, 11, 21, 0, 0) and rows[0][3].is_date
        for sheet in ("按收费项目", "按收款方式", "按收款人"):
            rows = list(book[sheet].iter_rows(min_row=2, values_only=True))
            assert rows[-1][0] == "合计" and D(str(rows[-1][1])) == D("691.12")
            assert sum(D(str(row[1])) for row in rows[:-1]) == D("691.12"), sheet
        assert [row[0] for row in book["按收费项目"].iter_rows(min_row=2, values_only=True)] == [
            "水费 (water)", "物业管理费 (mgmt)", "预收款（存入账户）", "退还预收款", "合计"]


class TestAccess:
    async def test_anonymous_401(self, client, session):
        b = await books(session)
        r = await client.get(f"{API}/estates/{b.estate.id}/fee-reports/saturday-register")
        assert r.status_code == 401

    async def test_the_desk_compiles_it_for_her_estate(self, client, session):
        # §5.5: the receptionist draws up the week's register for the supervisor.
        b = await week48(session)
        url = f"{API}/estates/{b.estate.id}/fee-reports/saturday-register"
        r = await client.get(url, params={"week": "2026-W48"}, headers=b.cashier.headers)
        assert r.status_code == 200, r.text
        assert r.json()["grand_total"] == "691.12"  # the whole estate's week, her colleague's receipts too
        r = await client.get(url, params={"week": "2026-W48", "format": "xlsx"}, headers=b.cashier.headers)
        assert r.status_code == 200 and r.content[:2] == b"PK"
        r = await client.get(f"{API}/estates/{b.estate.id}/fee-reports", headers=b.cashier.headers)
        assert r.status_code == 200

    async def test_another_estates_desk_404_and_a_technician_403(self, client, session):
        b = await week48(session)
        url = f"{API}/estates/{b.estate.id}/fee-reports/saturday-register"
        stranger = await make_staff(session, estates=[b.other], roles=[Role.receptionist])
        for fmt in ("json", "csv"):
            r = await client.get(url, params={"week": "2026-W48", "format": fmt}, headers=stranger.headers)
            assert r.status_code == 404 and r.json()["type"] == "/problems/estate-not-found"
        technician = await make_staff(session, estates=[b.estate], roles=[Role.technician])
        r = await client.get(url, params={"week": "2026-W48"}, headers=technician.headers)
        assert r.status_code == 403 and r.json()["type"] == "/problems/forbidden"
        assert r.json()["permission"] == "fee_reports:read"
        assert await count_rows(session, FeeReport) == 0

    @pytest.mark.parametrize("role", [Role.supervisor, Role.cs_director, Role.finance, Role.admin])
    async def test_the_supervisor_and_finance_read_it(self, client, session, role):
        b = await books(session)
        staff = await make_staff(session, estates=[b.estate], roles=[role])
        r = await client.get(f"{API}/estates/{b.estate.id}/fee-reports/saturday-register", headers=staff.headers)
        assert r.status_code == 200

    async def test_other_estate_404(self, client, session):
        b = await week48(session)
        stranger = await make_staff(session, estates=[b.other], roles=[Role.supervisor])
        for fmt in ("json", "xlsx"):
            r = await client.get(
                f"{API}/estates/{b.estate.id}/fee-reports/saturday-register",
                params={"week": "2026-W48", "format": fmt},
                headers=stranger.headers,
            )
            assert r.status_code == 404

    async def test_api_key(self, client, session):
        b = await week48(session)
        headers = api_key_headers(session, b.estate, ["fee_reports:read"])
        await session.commit()
        r = await client.get(f"{API}/estates/{b.estate.id}/fee-reports/saturday-register?week=2026-W48", headers=headers)
        assert r.status_code == 200 and r.json()["grand_total"] == "691.12"
        r = await client.get(f"{API}/estates/{b.other.id}/fee-reports/saturday-register", headers=headers)
        assert r.status_code == 404

    @pytest.mark.parametrize(
        "week",
        ["2026-W60", "2026-W00", "2025-W53", "2026-48", "2026W48", "1999-W10", "2026-w48", "2026-W48-1", "", "x" * 500, "2026-W4\x00"],
    )
    async def test_bad_week_422(self, client, session, week):
        b = await books(session)
        r = await client.get(f"{API}/estates/{b.estate.id}/fee-reports/saturday-register", params={"week": week}, headers=b.reader.headers)
        assert r.status_code == 422, week
        assert_422(r, "week")
        assert r.headers["content-type"] == "application/problem+json"
        assert await count_rows(session, FeeReport) == 0
