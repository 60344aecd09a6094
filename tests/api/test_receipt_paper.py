"""What a printed receipt says: every settled charge, the totals, and the estate's copies and note."""
from __future__ import annotations

import re
import uuid

import pytest

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.registry.model import Estate
from tests.factories import make_staff
from tests.helpers.characters import assert_one_script
from tests.helpers.payments import API, desk, long_desk, pay, print_receipt, set_receipt_paper
from tests.helpers.pdf import pages_of, text_of
from tests.helpers.problems import assert_422, assert_problem
from tests.registry_factories import count_rows

COPIES = ["存根联", "交款人联", "记账联"]


class TestTheTable:
    async def test_a_payment_settling_17_charges_prints_all_17_over_two_pages(self, client, session):
        d = await long_desk(session, months=14)
        await set_receipt_paper(session, d.estate, copies=["交款人联"])
        paid = await pay(client, d, amount="2504.84", method="wechat", reference="WX20261203001", payer_name="王建国")
        assert paid.status_code == 201 and len(paid.json()["receipt"]["allocations"]) == 17
        pdf = (await print_receipt(client, d.staff, paid.json()["receipt"]["id"])).content
        pages = pages_of(pdf)
        assert pages >= 2
        text = text_of(pdf)
        assert "其他" not in text
        assert text.count("收费项目") == pages and f"第{pages}页/共{pages}页" in text
        periods = [f"{2025 + n // 12}-{n % 12 + 1:02d}" for n in range(14)]
        for n, period in enumerate(periods, 1):
            assert re.search(rf"\n{n}物业管理费{period}1\.80元/㎡·月×89\.20㎡160\.56\n", text), (n, period)
        assert "\n15垃圾清运费2026-0315.00元/月15.00\n" in text
        assert "\n16水费2026-033.50元/吨×12吨42.00\n" in text
        assert "\n17装修垃圾清运费200.00\n" in text  # a one-off: its amount only
        assert "共17项2,504.84" in text
        assert "人民币贰仟伍佰零肆元捌角肆分" in text and "¥2,504.84" in text
        assert "付款方式：微信支付" in text and "凭证号：WX20261203001" in text and "收款人：李娜" in text
        assert "经办：" in text and "复核：" in text and "（收款单位盖章）" in text

    async def test_cash_credit_and_the_letterhead(self, client, session):
        d = await long_desk(session, months=1)
        paid = await pay(client, d, amount="500.00", tendered="600.00", payer_name="王建国")
        text = text_of((await print_receipt(client, d.staff, paid.json()["receipt"]["id"])).content)
        for expected in ("新乡市祥瑞物业服务有限公司", "淇水春天管理处", "收款收据", "房号：8号楼2单元301", "交款人：王建国",
                         "预收款（存入账户）82.44", "实收：600.00", "找零：100.00", "人民币伍佰元整"):
            assert expected in text, expected

    async def test_a_traditional_estate_prints_wholly_in_traditional_characters(self, client, session):
        d = await long_desk(session, months=1)
        await set_receipt_paper(session, d.estate, copies=["交款人联"], note="此收据不作报销凭证")
        r = await client.patch(f"{API}/estates/{d.estate.id}", json={"script": "traditional"},
                               headers=(await make_staff(session, estates=[d.estate], roles=[Role.admin])).headers)
        assert r.status_code == 200, r.text
        paid = await pay(client, d, amount="500.00", tendered="600.00", payer_name="王建国")
        printed = await print_receipt(client, d.staff, paid.json()["receipt"]["id"])
        text = text_of(printed.content)
        for expected in ("新鄉市祥瑞物業服務有限公司", "淇水春天管理處", "收款收據", "交款人聯", "房號：8號樓2單元301", "交款人：王建國",
                         "物業管理費", "人民幣伍佰元整", "此收據不作報銷憑證", "（收款單位蓋章）", "第1頁/共1頁"):
            assert expected in text, expected
        assert_one_script(text, "traditional")
        preview = await client.get(f"{API}/receipts/{paid.json()['receipt']['id']}/pdf", headers=d.staff.headers)
        assert "預覽" in text_of(preview.content)

    async def test_a_charge_paid_in_part_says_what_was_owed(self, client, session):
        d = await desk(session)
        text = text_of((await print_receipt(client, d.staff, (await pay(client, d, amount="100.00")).json()["receipt"]["id"])).content)
        assert "应收160.56" in text and "100.00" in text

    async def test_a_refund_document(self, client, session):
        d = await long_desk(session, months=1)
        await pay(client, d, amount="457.56")
        finance = await make_staff(session, estates=[d.estate], roles=[Role.finance], full_name="赵会计")
        r = await client.post(f"{API}/units/{d.unit.id}/refunds", json={"amount": "40.00", "method": "cash", "reason": "多交退回"},
                              headers={**finance.headers, "Idempotency-Key": str(uuid.uuid4())})
        printed = await print_receipt(client, finance, r.json()["receipt"]["id"])
        text = text_of(printed.content)
        assert "退款凭证" in text and "退还预收款" in text and "退款原因：多交退回" in text and "人民币肆拾元整" in text
        assert "退款人：赵会计" in text and "领款人签字：" in text
        assert 'filename="refund-' in printed.headers["content-disposition"]


class TestCopiesAndNote:
    async def test_by_default_all_three_copies_each_numbered_from_one(self, client, session):
        d = await desk(session)
        assert (await client.get(f"{API}/estates/{d.estate.id}", headers=d.staff.headers)).json()["receipt_copies"] == COPIES
        pdf = (await print_receipt(client, d.staff, (await pay(client, d, amount="10.00")).json()["receipt"]["id"])).content
        pages = text_of(pdf).split("\f")
        assert pages_of(pdf) == 3
        for text, label in zip(pages, COPIES, strict=False):
            assert label in text and "第1页/共1页" in text

    async def test_the_estates_copies_in_its_order_and_its_note(self, client, session):
        d = await desk(session)
        admin = await make_staff(session, estates=[d.estate], roles=[Role.admin])
        r = await client.patch(f"{API}/estates/{d.estate.id}", json={"receipt_copies": ["记账联", "交款人联"],
                                                                      "receipt_note": "此收据不作报销凭证"}, headers=admin.headers)
        assert r.status_code == 200, r.text
        assert (r.json()["receipt_copies"], r.json()["receipt_note"]) == (["记账联", "交款人联"], "此收据不作报销凭证")
        pdf = (await print_receipt(client, d.staff, (await pay(client, d, amount="10.00")).json()["receipt"]["id"])).content
        pages = text_of(pdf).split("\f")
        assert pages_of(pdf) == 2
        assert "记账联" in pages[0] and "交款人联" in pages[1] and "存根联" not in text_of(pdf)
        assert all("此收据不作报销凭证" in p for p in pages[:2])


class TestReceiptSettings:
    @pytest.mark.parametrize(("body", "field"), [
        ({"receipt_copies": ["收据联"]}, "receipt_copies"),
        ({"receipt_copies": []}, "receipt_copies"),
        ({"receipt_copies": ["存根联", "存根联"]}, "receipt_copies"),
        ({"receipt_copies": None}, "receipt_copies"),
        ({"receipt_copies": "存根联"}, "receipt_copies"),
        ({"receipt_note": "长" * 201}, "receipt_note"),
        ({"receipt_note": None}, "receipt_note"),
        ({"receipt_note": "a\x00"}, "receipt_note"),
    ])
    async def test_bad_settings_are_refused_naming_the_field(self, client, session, body, field):
        d = await desk(session)
        admin = await make_staff(session, estates=[d.estate], roles=[Role.admin])
        r = await client.patch(f"{API}/estates/{d.estate.id}", json={"name": "改名", **body}, headers=admin.headers)
        assert_422(r, field)
        await session.refresh(d.estate)
        assert d.estate.name != "改名" and d.estate.receipt_copies == COPIES and d.estate.receipt_note == ""
        assert await count_rows(session, AuditEntry, AuditEntry.entity == "estate") == 0

    async def test_only_the_administrator_sets_them(self, client, session):
        d = await desk(session)
        for role in (Role.receptionist, Role.supervisor, Role.finance):
            staff = await make_staff(session, estates=[d.estate], roles=[role])
            r = await client.patch(f"{API}/estates/{d.estate.id}", json={"receipt_note": "x"}, headers=staff.headers)
            assert_problem(r, 403, "forbidden")
        stranger = await make_staff(session, estates=[d.other], roles=[Role.admin])
        r = await client.patch(f"{API}/estates/{d.estate.id}", json={"receipt_note": "x"}, headers=stranger.headers)
        assert r.status_code == 404
        assert (await session.get(Estate, d.estate.id)).receipt_note == ""

    async def test_an_empty_note_prints_none(self, client, session):
        d = await desk(session)
        await set_receipt_paper(session, d.estate, copies=["交款人联"], note="此收据不作报销凭证")
        admin = await make_staff(session, estates=[d.estate], roles=[Role.admin])
        r = await client.patch(f"{API}/estates/{d.estate.id}", json={"receipt_note": ""}, headers=admin.headers)
        assert r.status_code == 200 and r.json()["receipt_note"] == ""
        text = text_of((await print_receipt(client, d.staff, (await pay(client, d, amount="10.00")).json()["receipt"]["id"])).content)
        assert "报销" not in text
