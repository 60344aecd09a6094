"""Reconciliation (对账) of WeChat Pay over HTTP against the fake channel: a day's payments made through
the fake, its trade bill built with each mismatch planted, downloaded by the job (signed request, SHA1
verified), uploaded again (idempotent), the items in finance's queue resolved with a note; reports."""
from __future__ import annotations

import asyncio
import io
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import func, select

from app.config import get_settings
from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.events.model import OutboxEvent
from app.domain.fees.channels.model import ChannelPayment
from app.domain.fees.channels.reconciliation.model import ChannelStatement, ReconciliationItem, StatementLine
from app.jobs.registry import JOBS
from app.jobs.runner import run_job
from tests.factories import TEST_SECRET, make_staff
from tests.fakes.wechatpay import FakeWechatPay
from tests.fakes.wechatpay_bill import BillLine, bill_text
from tests.helpers.channels import PUBLIC, configured, paid_qr, qr
from tests.helpers.problems import assert_422, assert_invalid, assert_problem

API = "/api/v1"
SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = "2026-12-07"
PAID_AT = datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)
NEXT_MORNING = datetime(2026, 12, 8, 10, 30, tzinfo=SHANGHAI)


@pytest.fixture
async def fake():
    server = FakeWechatPay()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def settings(settings, fake):
    return settings.model_copy(update={"wechatpay_gateway": fake.url, "channel_notify_base_url": PUBLIC})


@pytest.fixture
def job_settings(monkeypatch, fake):
    """The job reads the process's settings, as it does in production: the fake's address, the test secret."""
    monkeypatch.setenv("PROPDESK_WECHATPAY_GATEWAY", fake.url)
    monkeypatch.setenv("PROPDESK_SECRET", TEST_SECRET)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def line(tx: dict, **overrides) -> BillLine:
    """The bill's line of a transaction the fake knows (its amount as paid, unless told otherwise)."""
    overrides.setdefault("amount", Decimal(tx["amount"]["total"]) / 100)
    return BillLine(at=PAID_AT.replace(tzinfo=None), transaction_id=tx["transaction_id"], out_trade_no=tx["out_trade_no"],
                    **overrides)


class Day:
    """A day of channel payments with each category planted in its bill."""

    def __init__(self, d, finance, fake, txs, pending):
        self.d, self.finance, self.fake, self.pending = d, finance, fake, pending
        self.matched, self.wrong_amount, self.omitted = txs
        self.unknown = BillLine(at=PAID_AT.replace(tzinfo=None) + timedelta(hours=2), transaction_id="4200" + "9" * 24,
                                out_trade_no="PDUNKNOWN000000000000000001", amount=Decimal("88.00"))
        self.refund = line(self.matched, status="REFUND", refund_id="50300" + "1" * 23, out_refund_no="RF0001",
                           refund_amount=Decimal("10.00"))
        self.lines = [line(self.matched), line(self.wrong_amount, amount=Decimal("44.00")),
                      line(pending), self.unknown, self.refund]
        self.text = bill_text(self.lines)

    @property
    def url(self) -> str:
        return f"{API}/estates/{self.d.estate.id}"


@pytest.fixture
async def day(client, session, fake, time_machine):
    time_machine.move_to(PAID_AT)
    d, finance = await configured(client, session, fake, amounts=("160.56", "45.00", "80.00", "20.00"))
    txs = [await paid_qr(client, d, fake, [c]) for c in d.charges[:3]]
    created = await qr(client, d, [d.charges[3]])
    pending = fake.pay(created["out_trade_no"])  # the owner paid; the channel's word never came
    time_machine.move_to(NEXT_MORNING)
    # Signed in the next morning: yesterday's sign-ins have expired.
    finance = await make_staff(session, estates=[d.estate], roles=[Role.finance])
    d.staff = await make_staff(session, estates=[d.estate], roles=[Role.receptionist])
    planted = Day(d, finance, fake, txs, pending)
    fake.bills[DAY] = planted.text
    return planted


async def count(session, model, *where) -> int:
    return (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


async def items_by_category(client, day: Day) -> dict[str, dict]:
    r = await client.get(f"{day.url}/reconciliation-items", headers=day.finance.headers)
    assert r.status_code == 200, r.text
    return {f"{i['category']}:{i['kind']}": i for i in r.json()}


async def upload(client, day: Day, text: str | bytes, *, on: str = DAY, headers=None):
    content = text.encode() if isinstance(text, str) else text
    return await client.post(f"{day.url}/channel-statements/wechat/upload", data={"day": on},
                             files={"file": ("tradebill.csv", content, "text/csv")}, headers=headers or day.finance.headers)


class TestTheDay:
    async def test_the_job_downloads_the_bill_and_finds_each_category(self, app, client, session, day, job_settings):
        [run] = await run_job(app.state.sessionmaker, "channel_statement_import", estate_id=day.d.estate.id,
                              now=NEXT_MORNING.astimezone(ZoneInfo("UTC")))
        assert (run.period, run.status) == (DAY, "succeeded"), run
        assert run.summary["counts"] == {"matched": 1, "channel_only": 2, "here_only": 1, "amount_mismatch": 1,
                                         "status_mismatch": 1}
        asked = [s for s in day.fake.seen if s.path.startswith("/v3/bill")]
        assert [s.path.split("?")[0] for s in asked] == ["/v3/bill/tradebill", "/v3/billdownload/file"]
        assert all(s.verified for s in asked) and f"bill_date={DAY}&bill_type=ALL" in asked[0].path
        found = await items_by_category(client, day)
        assert sorted(found) == ["amount_mismatch:payment", "channel_only:payment", "channel_only:refund", "here_only:payment",
                                 "status_mismatch:payment"]
        assert found["channel_only:payment"]["reference"] == day.unknown.transaction_id
        assert found["channel_only:payment"]["channel_amount"] == "88.00"
        assert (found["amount_mismatch:payment"]["channel_amount"], found["amount_mismatch:payment"]["booked_amount"]) == \
            ("44.00", "45.00")
        assert found["here_only:payment"]["reference"] == day.omitted["transaction_id"]
        assert found["here_only:payment"]["allowed_resolutions"] == ["explain"]
        assert (found["status_mismatch:payment"]["channel_status"], found["status_mismatch:payment"]["booked_status"]) == \
            ("SUCCESS", "pending")
        assert found["channel_only:refund"]["reference"] == day.refund.refund_id
        assert await count(session, StatementLine) == 5
        [statement] = (await session.execute(select(ChannelStatement))).scalars().all()
        fees = sum((x.charged_fee for x in day.lines), Decimal("0"))
        assert (statement.source, statement.fee_total, statement.net) == ("download", fees, statement.settled_total
                                                                          - Decimal("10.00") - fees)
        # Run again by hand (forced): the same day, nothing doubled.
        [again] = await run_job(app.state.sessionmaker, "channel_statement_import", estate_id=day.d.estate.id, period=DAY,
                                force=True)
        assert again.status == "succeeded" and again.summary["open_items"] == 5
        assert await count(session, StatementLine) == 5 and await count(session, ReconciliationItem) == 5

    async def test_the_same_file_uploaded_after_the_download_changes_nothing(self, client, session, day):
        first = await client.post(f"{day.url}/channel-statements/wechat/download", json={"day": DAY},
                                  headers=day.finance.headers)
        assert first.status_code == 200, first.text
        for _ in range(2):
            r = await upload(client, day, day.text)
            assert r.status_code == 200, r.text
            assert r.json()["counts"] == first.json()["counts"] and r.json()["source"] == "upload"
        assert r.json()["imports"] == 3 and r.json()["open_items"] == 5 and r.json()["sha1"] == first.json()["sha1"]
        assert await count(session, StatementLine) == 5 and await count(session, ReconciliationItem) == 5
        assert await count(session, ChannelStatement) == 1
        assert await count(session, AuditEntry, AuditEntry.action == "reconciliation_item.open") == 5

    async def test_two_imports_of_the_day_at_once_count_it_once(self, client, session, day):
        answers = await asyncio.gather(upload(client, day, day.text), client.post(
            f"{day.url}/channel-statements/wechat/download", json={"day": DAY}, headers=day.finance.headers))
        assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
        assert sorted(a.json()["imports"] for a in answers) == [1, 2]
        assert await count(session, ChannelStatement) == 1
        assert await count(session, StatementLine) == 5 and await count(session, ReconciliationItem) == 5

    async def test_an_upload_in_gb18030_as_saved_on_an_office_pc_reads_the_same(self, client, session, day):
        r = await upload(client, day, day.text.encode("gb18030"))
        assert r.status_code == 200, r.text
        assert r.json()["counts"]["channel_only"] == 2 and r.json()["line_count"] == 5

    async def test_a_day_without_trades_leaves_what_was_paid_here_only(self, client, session, day):
        del day.fake.bills[DAY]  # the channel answers NO_STATEMENT_EXIST
        r = await client.post(f"{day.url}/channel-statements/wechat/download", json={"day": DAY}, headers=day.finance.headers)
        assert r.status_code == 200, r.text
        assert r.json()["line_count"] == 0 and r.json()["counts"]["here_only"] == 3

    async def test_a_file_that_does_not_hash_as_signed_is_refused(self, client, session, day):
        day.fake.bill_tampered = True
        r = await client.post(f"{day.url}/channel-statements/wechat/download", json={"day": DAY}, headers=day.finance.headers)
        assert_problem(r, 503, "statement-not-verified")
        assert await count(session, ChannelStatement) == 0 and await count(session, ReconciliationItem) == 0


async def test_a_refund_made_here_meets_its_refund_line(client, session, fake, time_machine):
    time_machine.move_to(PAID_AT)
    d, _ = await configured(client, session, fake)
    tx = await paid_qr(client, d, fake, [d.charges[0]])
    fake.refund_outcome = "SUCCESS"
    supervisor = await make_staff(session, estates=[d.estate], roles=[Role.supervisor])
    [payment] = (await session.execute(select(ChannelPayment))).scalars().all()
    asked = await client.post(f"{API}/channel-payments/{payment.id}/refunds", json={"reason": "业主重复缴费，退回"},
                              headers={**supervisor.headers, "Idempotency-Key": str(uuid.uuid4())})
    assert asked.status_code == 201 and asked.json()["status"] == "succeeded", asked.text
    refund = fake.refunds[asked.json()["out_refund_no"]]
    time_machine.move_to(NEXT_MORNING)
    finance = await make_staff(session, estates=[d.estate], roles=[Role.finance])
    text = bill_text([line(tx), line(tx, status="REFUND", refund_id=refund["refund_id"], out_refund_no=asked.json()["out_refund_no"],
                                     refund_amount=Decimal("160.56"))])
    r = await client.post(f"{API}/estates/{d.estate.id}/channel-statements/wechat/upload", data={"day": DAY},
                          files={"file": ("tradebill.csv", text.encode(), "text/csv")}, headers=finance.headers)
    assert r.status_code == 200, r.text
    assert r.json()["counts"] == {"matched": 2, "channel_only": 0, "here_only": 0, "amount_mismatch": 0, "status_mismatch": 0}
    assert r.json()["refund_total"] == "160.56" and r.json()["open_items"] == 0


class TestResolving:
    async def test_finance_resolves_an_item_with_a_note_and_it_leaves_the_queue(self, client, session, day):
        assert (await upload(client, day, day.text)).status_code == 200
        queue = (await client.get(f"{API}/attention", headers=day.finance.headers)).json()
        assert queue["counts"]["reconciliation_item"] == 5
        # The most dangerous first: money in the channel nothing here accounts for.
        first = next(i for i in queue["items"] if i["kind"] == "reconciliation_item")
        assert "渠道有、本系统无" in first["title"]
        unknown = (await items_by_category(client, day))["channel_only:payment"]
        r = await client.post(f"{API}/reconciliation-items/{unknown['id']}/resolve", headers=day.finance.headers,
                              json={"resolution": "book", "note": "业主王先生多付，已补录为预存款 QS-2026-000123"})
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["resolved_by"], r.json()["allowed_resolutions"]) == \
            ("booked", str(day.finance.user.id), [])
        assert r.json()["note"].startswith("业主王先生多付")
        queue = (await client.get(f"{API}/attention", headers=day.finance.headers)).json()
        assert queue["counts"]["reconciliation_item"] == 4
        [entry] = (await session.execute(select(AuditEntry).where(AuditEntry.action == "reconciliation_item.book"))).scalars().all()
        assert entry.actor_id == day.finance.user.id and entry.after["note"].startswith("业主王先生多付")
        assert await count(session, OutboxEvent, OutboxEvent.type == "reconciliation_item.resolved") == 1
        # Resolved once: a second resolution is refused; an import again does not reopen it.
        again = await client.post(f"{API}/reconciliation-items/{unknown['id']}/resolve", headers=day.finance.headers,
                                  json={"resolution": "explain", "note": "再次"})
        assert_problem(again, 409, "illegal-transition")
        assert (await upload(client, day, day.text)).json()["open_items"] == 4

    async def test_money_the_channel_does_not_hold_can_only_be_explained(self, client, session, day):
        assert (await upload(client, day, day.text)).status_code == 200
        here = (await items_by_category(client, day))["here_only:payment"]
        url = f"{API}/reconciliation-items/{here['id']}/resolve"
        assert_problem(await client.post(url, json={"resolution": "book", "note": "x"}, headers=day.finance.headers),
                       409, "nothing-to-book")
        r = await client.post(url, json={"resolution": "explain", "note": "23:59 付款，计入次日账单"}, headers=day.finance.headers)
        assert r.status_code == 200 and r.json()["status"] == "explained"

    async def test_a_note_is_required(self, client, session, day):
        assert (await upload(client, day, day.text)).status_code == 200
        item = (await items_by_category(client, day))["amount_mismatch:payment"]
        for body, field in [({"resolution": "refund", "note": "  "}, "note"), ({"resolution": "refund"}, "note"),
                            ({"resolution": "forget", "note": "x"}, "resolution")]:
            assert_422(await client.post(f"{API}/reconciliation-items/{item['id']}/resolve", json=body,
                                         headers=day.finance.headers), field)
        assert (await client.get(f"{API}/reconciliation-items/{item['id']}", headers=day.finance.headers)).json()["status"] == "open"


class TestReports:
    async def test_the_day_as_json_csv_and_xlsx(self, client, session, day):
        assert (await upload(client, day, day.text)).status_code == 200
        url = f"{day.url}/channel-reconciliation/wechat/daily?day={DAY}"
        report = (await client.get(url, headers=day.finance.headers)).json()
        figures = {c["category"]: (c["count"], c["amount"]) for c in report["by_category"]}
        assert figures == {"matched": (1, "160.56"), "channel_only": (2, "78.00"), "here_only": (1, "80.00"),
                           "amount_mismatch": (1, "44.00"), "status_mismatch": (1, "20.00")}
        assert (report["lines"], report["payments"], report["refunds"], report["booked_total"]) == (5, 4, 1, "285.56")
        fees = sum((x.charged_fee for x in day.lines), Decimal("0"))
        assert (report["fee_total"], report["refund_total"]) == (str(fees), "10.00")
        assert Decimal(report["net"]) == Decimal(report["settled_total"]) - Decimal("10.00") - fees
        csv = await client.get(url + "&format=csv", headers=day.finance.headers)
        assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
        text = csv.content.decode("utf-8-sig")
        assert "应结订单总金额" in text and "渠道有、本系统无" in text and day.unknown.transaction_id in text
        assert f"filename*=UTF-8''{quote('支付渠道对账报表-wechat-', safe='')}" in csv.headers["content-disposition"]
        xlsx = await client.get(url + "&format=xlsx", headers=day.finance.headers)
        book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
        assert book.sheetnames == ["汇总", "按类别", "差异明细"]
        assert [c.value for c in book["按类别"][1]] == ["类别", "笔数", "金额"]

    async def test_the_month(self, client, session, day):
        assert (await upload(client, day, day.text)).status_code == 200
        url = f"{day.url}/channel-reconciliation/wechat/monthly?month=2026-12"
        report = (await client.get(url, headers=day.finance.headers)).json()
        assert [d["day"] for d in report["days"]] == [DAY]
        assert report["counts"]["channel_only"] == 2 and report["open_items"] == 5
        assert report["days_without_statement"] == [f"2026-12-0{n}" for n in range(1, 7)]
        xlsx = await client.get(url + "&format=xlsx", headers=day.finance.headers)
        sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content))["按日"]
        assert sheet["A1"].value == "日期" and sheet.cell(3, 1).value == "合计"


class TestAccess:
    async def test_anonymous_401_and_the_desk_403(self, client, session, day):
        desk = day.d.staff.headers
        routes = [("POST", f"{day.url}/channel-statements/wechat/download", {"json": {"day": DAY}}),
                  ("GET", f"{day.url}/reconciliation-items", {}),
                  ("GET", f"{day.url}/channel-reconciliation/wechat/daily?day={DAY}", {}),
                  ("GET", f"{day.url}/channel-reconciliation/wechat/monthly?month=2026-12", {})]
        for method, url, extra in routes:
            assert (await client.request(method, url, **extra)).status_code == 401
            assert_problem(await client.request(method, url, headers=desk, **extra), 403, "forbidden")
        assert (await upload(client, day, day.text, headers=desk)).status_code == 403
        assert await count(session, ChannelStatement) == 0 and not [s for s in day.fake.seen if "bill" in s.path]

    async def test_finance_of_another_estate_gets_404(self, client, session, day):
        assert (await upload(client, day, day.text)).status_code == 200
        item = (await items_by_category(client, day))["channel_only:payment"]
        outsider = await make_staff(session, estates=[day.d.other], roles=[Role.finance])
        h = outsider.headers
        assert_problem(await upload(client, day, day.text, headers=h), 404, "estate-not-found")
        assert_problem(await client.post(f"{day.url}/channel-statements/wechat/download", json={"day": DAY}, headers=h),
                       404, "estate-not-found")
        assert_problem(await client.get(f"{day.url}/channel-reconciliation/wechat/daily?day={DAY}", headers=h),
                       404, "estate-not-found")
        assert_problem(await client.get(f"{API}/reconciliation-items/{item['id']}", headers=h), 404,
                       "reconciliation-item-not-found")
        r = await client.post(f"{API}/reconciliation-items/{item['id']}/resolve", headers=h,
                              json={"resolution": "explain", "note": "不是我们的"})
        assert_problem(r, 404, "reconciliation-item-not-found")
        assert (await client.get(f"{API}/attention", headers=h)).json()["counts"].get("reconciliation_item", 0) == 0
        assert (await items_by_category(client, day))["channel_only:payment"]["status"] == "open"


class TestBadInput:
    @pytest.mark.parametrize(("mangle", "line_no"), [
        (lambda t: t.replace("交易时间,", "时间,", 1), 1),
        (lambda t: t.replace("\r\n`", "\r\n", 1), 2),  # the second line's first backtick gone
        (lambda t: t.replace("`160.56", "`160.5x", 1), 2),
        (lambda t: t.replace("`SUCCESS,`OTHERS", "`SUCCESS,`OTHERS,`extra", 1), 2),
        (lambda t: t.rsplit("\r\n", 2)[0] + "\r\n", 7),  # the summary's line cut off
        (lambda t: t.rsplit("\r\n", 2)[0] + "\r\n`5,`1.00,`10.00,`0.00,`0.00,`1.00,`10.00\r\n", 8),  # does not add up
        (lambda t: t.replace("2026-12-07 12:00:00", "2026-12-06 12:00:00"), 5),  # a line of another day
    ])
    async def test_a_malformed_file_is_422_naming_the_line_and_writes_nothing(self, client, session, day, mangle, line_no):
        r = await upload(client, day, mangle(day.text))
        assert_invalid(r, "statement-unreadable", "file")
        assert r.json()["line"] == line_no, r.json()
        assert await count(session, ChannelStatement) == 0 and await count(session, ReconciliationItem) == 0

    async def test_today_or_a_bad_day_is_422_naming_the_day(self, client, session, day):
        url = f"{day.url}/channel-statements/wechat/download"
        assert_invalid(await client.post(url, json={"day": "2026-12-08"}, headers=day.finance.headers),
                       "statement-day-not-past", "day")
        for bad in ["2026-12-7", "20261207", "2026-13-01"]:
            assert_422(await client.post(url, json={"day": bad}, headers=day.finance.headers), "day")
            assert_422(await upload(client, day, day.text, on=bad), "day")
        assert_422(await client.post(url, json={"day": DAY, "extra": 1}, headers=day.finance.headers), "extra")
        assert_422(await client.get(f"{day.url}/channel-reconciliation/wechat/daily?day=2026-12-7",
                                    headers=day.finance.headers), "day")
        assert_422(await client.get(f"{day.url}/channel-reconciliation/wechat/monthly?month=2026-13",
                                    headers=day.finance.headers), "month")
        assert_422(await client.get(f"{day.url}/reconciliation-items?status=closed", headers=day.finance.headers), "status")
        assert await count(session, ChannelStatement) == 0 and not [s for s in day.fake.seen if "bill" in s.path]

    async def test_an_upload_without_its_file_or_with_an_unknown_part(self, client, session, day):
        url = f"{day.url}/channel-statements/wechat/upload"
        assert_422(await client.post(url, data={"day": DAY}, headers=day.finance.headers), "file")
        assert_422(await client.post(url, files={"file": ("b.csv", day.text.encode())}, headers=day.finance.headers), "day")
        r = await client.post(url, data={"day": DAY, "note": "x"}, files={"file": ("b.csv", day.text.encode())},
                              headers=day.finance.headers)
        assert_422(r, "note")
        assert await count(session, ChannelStatement) == 0


def test_the_job_runs_each_morning_for_yesterday():
    spec = JOBS["channel_statement_import"]
    assert spec.period_of(datetime(2026, 12, 8, 10, 0)) == "2026-12-07"
    assert spec.period_of(datetime(2027, 1, 1, 10, 0)) == "2026-12-31"
    assert spec.cron == "0 10 * * *" and spec.per_estate


async def test_an_estate_without_a_channel_is_skipped(app, session, fake, job_settings):
    from tests.factories import make_estate

    estate = await make_estate(session)
    [run] = await run_job(app.state.sessionmaker, "channel_statement_import", estate_id=estate.id, period=DAY)
    assert run.status == "succeeded" and run.summary == {"skipped": "no WeChat Pay merchant configured"}
