"""Late fees become charges: the estate's rules, posting at the desk, in a payment, at month end."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.fees.late_fees.model import LateFeeRule
from app.domain.fees.model import Charge, ChargeSource, FeeItem
from app.domain.fees.payments.model import Receipt
from tests.factories import make_staff
from tests.fees_factories import make_fee_item
from tests.helpers.late_fees import API, NOW, late, late_fees_on, pay
from tests.helpers.payments import keyed
from tests.helpers.problems import assert_422, assert_invalid, assert_problem
from tests.registry_factories import count_rows


@pytest.fixture(autouse=True)
def frozen_now(time_machine):
    # Ticking: a receipt lists its allocations in the order they were made (created_at).
    time_machine.move_to(NOW, tick=True)


def rule_body(item: FeeItem, **over) -> dict:
    return {"effective_from": "2026-12-01", "daily_rate": "0.0003", "grace_days": 30, "cap_share": "0.3",
            "fee_item_ids": [str(item.id)], **over}


class TestRulePermissions:
    async def test_anonymous_401(self, client, session):
        w = await late(session)
        assert (await client.get(f"{API}/estates/{w.estate.id}/late-fee-rules")).status_code == 401
        assert (await client.post(f"{API}/estates/{w.estate.id}/late-fee-rules", json=rule_body(w.item))).status_code == 401

    async def test_desk_reads_finance_writes(self, client, session):
        w = await late(session)
        r = await client.post(f"{API}/estates/{w.estate.id}/late-fee-rules", json=rule_body(w.item), headers=w.desk.headers)
        assert r.status_code == 403
        finance = await make_staff(session, estates=[w.estate], roles=[Role.finance])
        r = await client.post(f"{API}/estates/{w.estate.id}/late-fee-rules", json=rule_body(w.item), headers=finance.headers)
        assert r.status_code == 201, r.text
        assert (r.json()["daily_rate"], r.json()["grace_days"], r.json()["fee_item_ids"]) == ("0.0003", 30, [str(w.item.id)])
        r = await client.get(f"{API}/estates/{w.estate.id}/late-fee-rules", headers=w.desk.headers)
        assert [x["effective_from"] for x in r.json()] == ["2000-01-01", "2026-12-01"]
        entry = (await session.execute(select(AuditEntry).where(AuditEntry.entity == "late_fee_rule"))).scalar_one()
        assert (entry.action, entry.entity_id) == ("late_fee_rule.create", r.json()[1]["id"])

    async def test_another_estate_404(self, client, session):
        w = await late(session)
        finance = await make_staff(session, estates=[w.other], roles=[Role.finance])
        assert (await client.get(f"{API}/estates/{w.estate.id}/late-fee-rules", headers=finance.headers)).status_code == 404
        r = await client.post(f"{API}/estates/{w.estate.id}/late-fee-rules", json=rule_body(w.item), headers=finance.headers)
        assert r.status_code == 404
        assert await count_rows(session, LateFeeRule) == 1


class TestRuleInput:
    async def test_bad_input_422_names_the_field_nothing_written(self, client, session):
        w = await late(session)
        finance = await make_staff(session, estates=[w.estate], roles=[Role.finance])
        for over, field in (({"daily_rate": "-0.1"}, "daily_rate"), ({"daily_rate": "2"}, "daily_rate"),
                            ({"grace_days": -1}, "grace_days"), ({"cap_share": "1.5"}, "cap_share"),
                            ({"fee_item_ids": []}, "fee_item_ids"), ({"fee_item_ids": ["x"]}, "fee_item_ids"),
                            ({"effective_from": "2026-02-30"}, "effective_from"), ({"extra": 1}, "extra")):
            r = await client.post(f"{API}/estates/{w.estate.id}/late-fee-rules", json=rule_body(w.item, **over),
                                  headers=finance.headers)
            assert_422(r, field)
        theirs = await make_fee_item(session, estate=w.other)
        r = await client.post(f"{API}/estates/{w.estate.id}/late-fee-rules", json=rule_body(theirs), headers=finance.headers)
        assert_invalid(r, "fee-item-not-in-estate", "fee_item_ids")
        assert await count_rows(session, LateFeeRule) == 1

    async def test_a_date_taken_or_reaching_back_over_due_charges_409(self, client, session):
        w = await late(session)
        finance = await make_staff(session, estates=[w.estate], roles=[Role.finance])
        r = await client.post(f"{API}/estates/{w.estate.id}/late-fee-rules", json=rule_body(w.item, effective_from="2000-01-01"),
                              headers=finance.headers)
        assert assert_problem(r, 409, "late-fee-rule-date-taken")["field"] == "effective_from"
        # October's charge fell due under the old rule: a rule from 2026-10-01 would rewrite it.
        r = await client.post(f"{API}/estates/{w.estate.id}/late-fee-rules", json=rule_body(w.item, effective_from="2026-10-01"),
                              headers=finance.headers)
        assert assert_problem(r, 409, "rule-would-rewrite-due-charges")["field"] == "effective_from"
        assert await count_rows(session, LateFeeRule) == 1


class TestLatePayment:
    async def test_late_fee_posted_and_settled_in_one_payment_with_one_receipt(self, client, session):
        w = await late(session)
        # October: due 10-01 + 10 days' grace = 10-11; paid 11-10: 30 days.
        # 223.00 × 0.0005 × 30 = 3.345 -> 3.35 (half up); cap 5% × 223.00 = 11.15 not reached.
        r = await pay(client, w, "226.35", charge_ids=[w.october])
        assert r.status_code == 201, r.text
        receipt = r.json()["receipt"]
        assert [(a["description"], a["amount"]) for a in receipt["allocations"]] == [
            ("2026年10月物业管理费", "223.00"), ("2026年10月物业管理费滞纳金", "3.35")]
        assert (receipt["amount"], r.json()["credit"]) == ("226.35", "0.00")
        assert await count_rows(session, Receipt) == 1
        [fee] = await late_fees_on(session, w.october)
        assert (fee.source, fee.period, fee.due_date, fee.amount, fee.amount_paid) == (
            ChargeSource.late_fee, None, date(2026, 11, 10), D("3.35"), D("3.35"))
        assert (fee.basis["daily_rate"], fee.basis["days"], fee.basis["cap"], fee.basis["grace_days"]) == ("0.0005", 30, "11.15", 10)
        # September was not selected: nothing posted on it.
        assert await late_fees_on(session, w.september) == []

    async def test_money_short_of_the_late_fee_leaves_it_owed(self, client, session):
        w = await late(session)
        r = await pay(client, w, "223.00", charge_ids=[w.october])
        assert r.status_code == 201, r.text
        [fee] = await late_fees_on(session, w.october)
        assert (fee.amount, fee.amount_paid) == (D("3.35"), D("0.00"))

    async def test_oldest_first_each_late_fee_right_after_its_charge(self, client, session):
        w = await late(session)
        # September: 11-10 − 09-11 = 60 days: 223.00 × 0.0005 × 60 = 6.69. October 3.35 as above.
        # 223.00 + 6.69 + 223.00 + 3.35 = 456.04
        r = await pay(client, w, "456.04")
        assert r.status_code == 201, r.text
        assert [(a["description"], a["amount"]) for a in r.json()["receipt"]["allocations"]] == [
            ("2026年9月物业管理费", "223.00"), ("2026年9月物业管理费滞纳金", "6.69"),
            ("2026年10月物业管理费", "223.00"), ("2026年10月物业管理费滞纳金", "3.35")]

    async def test_replay_posts_nothing_twice(self, client, session):
        w = await late(session)
        first = await pay(client, w, "226.35", charge_ids=[w.october], key="late-1")
        again = await pay(client, w, "226.35", charge_ids=[w.october], key="late-1")
        assert (first.status_code, again.status_code, again.headers.get("Idempotent-Replayed")) == (201, 201, "true")
        assert again.json() == first.json()
        assert len(await late_fees_on(session, w.october)) == 1 and await count_rows(session, Receipt) == 1

    async def test_accruing_is_what_the_payment_posts(self, client, session):
        w = await late(session)
        r = await client.get(f"{API}/units/{w.unit.id}/charges", headers=w.desk.headers)
        accruing = {c["id"]: c["late_fee_accruing"] for c in r.json()["items"]}
        bill = (await client.get(f"{API}/units/{w.unit.id}/bill", headers=w.desk.headers)).json()
        assert {ln["charge_id"]: ln["late_fee"]["amount"] for ln in bill["lines"]} == accruing
        assert (await pay(client, w, "456.04")).status_code == 201
        posted = {str(c.id): str((await late_fees_on(session, c))[0].amount) for c in (w.september, w.october)}
        assert posted == accruing == {str(w.september.id): "6.69", str(w.october.id): "3.35"}

    async def test_void_makes_the_late_fee_owed_again_and_the_next_payment_posts_only_the_increment(
        self, client, session, time_machine,
    ):
        w = await late(session)
        rid = (await pay(client, w, "226.35", charge_ids=[w.october])).json()["receipt"]["id"]
        supervisor = await make_staff(session, estates=[w.estate], roles=[Role.supervisor])
        r = await client.post(f"{API}/receipts/{rid}/void", json={"reason": "收错户"}, headers=keyed(supervisor.headers))
        assert r.status_code == 200, r.text
        [fee] = await late_fees_on(session, w.october)
        assert (fee.amount_paid, fee.outstanding) == (D("0.00"), D("3.35"))
        # Five days later: 35 days: 223.00 × 0.0005 × 35 = 3.9025 -> 3.90 accrued; 3.35 posted: 0.55 more.
        time_machine.move_to(datetime(2026, 11, 15, 2, 0, tzinfo=UTC), tick=True)
        w.desk = await make_staff(session, estates=[w.estate], roles=[Role.receptionist])  # a new day's login
        r = await pay(client, w, "226.90", charge_ids=[w.october, fee])
        assert r.status_code == 201, r.text
        assert [(a["description"], a["amount"]) for a in r.json()["receipt"]["allocations"]] == [
            ("2026年10月物业管理费", "223.00"), ("2026年10月物业管理费滞纳金", "0.55"), ("2026年10月物业管理费滞纳金", "3.35")]
        fees = await late_fees_on(session, w.october)
        assert [(f.amount, f.outstanding) for f in fees] == [(D("3.35"), D("0.00")), (D("0.55"), D("0.00"))]


class TestPostAtTheDesk:
    async def test_permissions(self, client, session):
        w = await late(session)
        assert (await client.post(f"{API}/units/{w.unit.id}/late-fees")).status_code == 401
        for role in (Role.technician, Role.manager, Role.admin):
            staff = await make_staff(session, estates=[w.estate], roles=[role])
            assert (await client.post(f"{API}/units/{w.unit.id}/late-fees", headers=staff.headers)).status_code == 403, role
        outsider = await make_staff(session, estates=[w.other], roles=[Role.receptionist])
        r = await client.post(f"{API}/units/{w.unit.id}/late-fees", headers=outsider.headers)
        assert assert_problem(r, 404, "unit-not-found")
        assert await count_rows(session, Charge, Charge.source == ChargeSource.late_fee.value) == 0

    async def test_posts_once_then_the_payment_posts_nothing_more(self, client, session):
        w = await late(session)
        r = await client.post(f"{API}/units/{w.unit.id}/late-fees", headers=w.desk.headers)
        assert r.status_code == 200, r.text
        # 6.69 + 3.35 = 10.04, as above
        assert (r.json()["as_of"], r.json()["total"]) == ("2026-11-10", "10.04")
        assert [(p["description"], p["amount"]) for p in r.json()["posted"]] == [
            ("2026年9月物业管理费滞纳金", "6.69"), ("2026年10月物业管理费滞纳金", "3.35")]
        again = await client.post(f"{API}/units/{w.unit.id}/late-fees", headers=w.desk.headers)
        assert (again.json()["posted"], again.json()["total"]) == ([], "0.00")
        assert (await pay(client, w, "456.04")).status_code == 201
        assert [len(await late_fees_on(session, c)) for c in (w.september, w.october)] == [1, 1]
        assert await count_rows(session, Charge, Charge.is_open()) == 0
        assert await count_rows(session, AuditEntry, AuditEntry.action == "charge.post_late_fee") == 2

    async def test_a_waived_late_fee_is_not_posted_again(self, client, session):
        w = await late(session)
        await client.post(f"{API}/units/{w.unit.id}/late-fees", headers=w.desk.headers)
        [fee] = await late_fees_on(session, w.october)
        # The desk asks to waive all of it (3.35), a supervisor approves: the late fee owes nothing more.
        asked = await client.post(f"{API}/charges/{fee.id}/waivers", json={"kind": "percentage", "value": "100",
                                                                           "reason": "首次逾期"}, headers=w.desk.headers)
        assert asked.status_code == 201, asked.text
        supervisor = await make_staff(session, estates=[w.estate], roles=[Role.supervisor])
        approved = await client.post(f"{API}/waivers/{asked.json()['id']}/approve", headers=supervisor.headers)
        assert (approved.status_code, approved.json()["amount"]) == (200, "3.35"), approved.text
        r = await pay(client, w, "223.00", charge_ids=[w.october])
        assert r.status_code == 201, r.text
        assert [a["amount"] for a in r.json()["receipt"]["allocations"]] == ["223.00"]
        assert len(await late_fees_on(session, w.october)) == 1
