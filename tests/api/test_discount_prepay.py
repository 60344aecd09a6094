"""Prepay N months, get M free (预交N个月送M个月): the rule, its grant at the desk, the free months waived.

Figures, by hand: 物业费 2.50元/㎡·月 × 89.20㎡ = 223.00 a month; N = 10, M = 2: a deposit of
10 × 223.00 = 2230.00 earmarked for 物业费 pays months 1-10 and earns months 11 and 12, each
waived 223.00; the deduction leaves 0.00 on the account.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.domain.auth.roles import Role
from app.domain.calendar import estate_time
from app.domain.fees.model import Charge, FeeItem, FeeKind
from app.domain.fees.waivers.model import DiscountRule, PrepayGrant, Waiver
from tests.factories import Staff, make_staff
from tests.fees_factories import make_fee_item
from tests.helpers.payments import Desk
from tests.helpers.prepaid import account, deduct, deposit, earmarks
from tests.helpers.problems import assert_invalid, assert_problem
from tests.registry_factories import count_rows, make_building, make_unit, two_estates

API = "/api/v1"
D = Decimal


@dataclass
class Office:
    desk: Desk  # the unit 89.20 m², the receptionist who takes the deposit
    item: FeeItem  # 物业费 2.50元/㎡·月
    months: list[str]  # this month (estate time) and the 11 after it
    finance: Staff
    finance2: Staff
    supervisor: Staff


async def office(session) -> Office:
    estate, other = await two_estates(session)
    estate.code = f"QS{uuid.uuid4().hex[:4]}"
    session.add(estate)
    await session.commit()
    unit = await make_unit(session, building=await make_building(session, estate=estate, number=3), number="501")
    item = await make_fee_item(session, estate=estate, price="2.50", name="物业费", unit_label="元/㎡·月")
    first = estate_time.first_of_month(estate_time.today(estate))
    months = [estate_time.month_key(estate_time.add_months(first, i)) for i in range(12)]
    desk_staff, finance, finance2, supervisor = [await make_staff(session, estates=[estate], roles=[r]) for r in
                                                 (Role.receptionist, Role.finance, Role.finance, Role.supervisor)]
    return Office(desk=Desk(estate=estate, other=other, unit=unit, charges=[], staff=desk_staff), item=item, months=months,
                  finance=finance, finance2=finance2, supervisor=supervisor)


async def create(client, o: Office, **body):
    body = {"fee_item_id": str(o.item.id), "kind": "prepay_months", "prepay_months": 10, "free_months": 2,
            "from_month": o.months[0], "reason": "预交10个月送2个月", **body}
    return await client.post(f"{API}/estates/{o.desk.estate.id}/discount-rules", json=body, headers=o.finance.headers)


async def approved(client, o: Office, **body) -> dict:
    made = await create(client, o, **body)
    assert made.status_code == 201, made.text
    r = await client.post(f"{API}/discount-rules/{made.json()['id']}/approve", headers=o.finance2.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def paid_ahead(client, o: Office, amount: str = "2230.00") -> str:
    """The deposit's receipt id: `amount` paid in cash, all of it earmarked for 物业费."""
    r = await deposit(client, o.desk, amount=amount, earmarks=[{"fee_item_id": str(o.item.id), "amount": amount}])
    assert r.status_code == 201, r.text
    return r.json()["receipt"]["id"]


async def grant(client, o: Office, rule_id: str, receipt_id: str, *, staff: Staff | None = None, **body):
    body = {"unit_id": str(o.desk.unit.id), "receipt_id": receipt_id, "first_month": o.months[0], **body}
    headers = {**(staff or o.desk.staff).headers, "Idempotency-Key": str(uuid.uuid4())}
    return await client.post(f"{API}/discount-rules/{rule_id}/grants", json=body, headers=headers)


async def bill(client, o: Office, months: list[str]) -> None:
    for month in months:
        r = await client.post(f"{API}/estates/{o.desk.estate.id}/billing-runs", json={"month": month}, headers=o.finance.headers)
        assert r.status_code == 200, r.text


async def ledger(session, o: Office) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    """(period, amount, paid, waived) of the unit's 物业费 charges, month by month."""
    rows = (await session.execute(select(Charge).where(Charge.unit_id == o.desk.unit.id).order_by(Charge.period)
                                  .execution_options(populate_existing=True))).scalars()
    return [(c.period, c.amount, c.amount_paid, c.amount_waived) for c in rows]


def expected(o: Office) -> list[tuple[str, Decimal, Decimal, Decimal]]:
    return ([(m, D("223.00"), D("223.00"), D("0.00")) for m in o.months[:10]]
            + [(m, D("223.00"), D("0.00"), D("223.00")) for m in o.months[10:]])


class TestRule:
    @pytest.mark.parametrize(("body", "problem", "field"), [
        ({"free_months": None}, "prepay-terms-required", "free_months"),
        ({"prepay_months": None}, "prepay-terms-required", "prepay_months"),
        ({"value": "100"}, "prepay-terms-required", "value"),
        ({"prepay_months": 2, "free_months": 3}, "free-months-above-prepaid", "free_months"),
        ({"prepay_months": 0}, "validation-failed", "prepay_months"),
        ({"prepay_months": 37}, "validation-failed", "prepay_months"),
        ({"free_months": 13}, "validation-failed", "free_months"),
        ({"kind": "percentage"}, "value-required", "value"),
        ({"kind": "percentage", "value": "10"}, "prepay-terms-only-for-prepay", "prepay_months"),
    ])
    async def test_bad_terms_name_the_field_and_write_nothing(self, client, session, body, problem, field):
        o = await office(session)
        assert_invalid(await create(client, o, **body), problem, field)
        assert await count_rows(session, DiscountRule) == 0

    async def test_a_metered_item_is_refused(self, client, session):
        o = await office(session)
        water = await make_fee_item(session, estate=o.desk.estate, kind=FeeKind.metered, price="3.50", name="水费")
        assert_invalid(await create(client, o, fee_item_id=str(water.id)), "item-not-monthly", "fee_item_id")

    async def test_finance_approves_it_not_the_supervisor(self, client, session):
        o = await office(session)
        rule = (await create(client, o)).json()
        assert (rule["kind"], rule["prepay_months"], rule["free_months"], rule["value"]) == ("prepay_months", 10, 2, "100.00")
        url = f"{API}/discount-rules/{rule['id']}/approve"
        assert_problem(await client.post(url, headers=o.supervisor.headers), 403, "finance-approves-rule")
        assert (await client.post(url, headers=o.finance2.headers)).json()["status"] == "approved"


class TestGrantAccess:
    async def test_anonymous_401_night_duty_403_another_estate_404(self, client, session):
        o = await office(session)
        rule = await approved(client, o)
        receipt = await paid_ahead(client, o)
        r = await client.post(f"{API}/discount-rules/{rule['id']}/grants", json={})
        assert r.status_code == 401
        night = await make_staff(session, estates=[o.desk.estate], roles=[Role.night_duty])
        assert_problem(await grant(client, o, rule["id"], receipt, staff=night), 403, "forbidden")
        outsider = await make_staff(session, estates=[o.desk.other], roles=[Role.receptionist])
        assert_problem(await grant(client, o, rule["id"], receipt, staff=outsider), 404, "discount-rule-not-found")
        assert_problem(await client.get(f"{API}/discount-rules/{rule['id']}/grants", headers=outsider.headers), 404,
                       "discount-rule-not-found")
        assert await count_rows(session, PrepayGrant) == 0


class TestGrant:
    async def test_deposit_then_grant_then_twelve_months_billed(self, client, session, app):
        o = await office(session)
        rule = await approved(client, o)
        r = await grant(client, o, rule["id"], await paid_ahead(client, o))
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["prepaid_months"], body["free_months"]) == (o.months[:10], o.months[10:])
        assert (body["monthly_amount"], body["required_amount"], body["earmarked_amount"]) == ("223.00", "2230.00", "2230.00")
        assert body["waived_now"] == []
        await bill(client, o, o.months)
        await deduct(app, o.desk)
        assert await ledger(session, o) == expected(o)
        acc = await account(client, o.desk)
        assert (acc["balance"], earmarks(acc).get(str(o.item.id), "0.00")) == ("0.00", "0.00")
        lines = (await session.execute(select(Waiver).where(Waiver.rule_id == uuid.UUID(rule["id"])))).scalars().all()
        assert sorted((w.status, w.amount, w.reason, w.decided_by) for w in lines) == [
            ("approved", D("223.00"), "预交10个月送2个月", o.finance2.id)] * 2
        listed = await client.get(f"{API}/discount-rules/{rule['id']}/grants", headers=o.desk.staff.headers)
        assert [g["id"] for g in listed.json()] == [body["id"]]

    async def test_free_months_billed_already_are_waived_at_the_grant_and_on_the_bill(self, client, session, app):
        o = await office(session)
        rule = await approved(client, o)
        await bill(client, o, o.months)
        receipt = await paid_ahead(client, o)
        r = await grant(client, o, rule["id"], receipt)
        assert r.status_code == 201, r.text
        assert [(w["month"], w["total_waived"]) for w in r.json()["waived_now"]] == [(m, "223.00") for m in o.months[10:]]
        await deduct(app, o.desk)
        assert await ledger(session, o) == expected(o)
        assert (await account(client, o.desk))["balance"] == "0.00"
        bill_ = await client.get(f"{API}/units/{o.desk.unit.id}/bill", params={"from": o.months[10], "to": o.months[11]},
                                 headers=o.desk.staff.headers)
        assert bill_.status_code == 200, bill_.text
        assert [(ln["waived"], ln["outstanding"], [w["text"] for w in ln["waivers"]], [w["rule_id"] for w in ln["waivers"]])
                for ln in bill_.json()["lines"]] == [("223.00", "0.00", ["减免 223.00元（预交10个月送2个月）"], [rule["id"]])] * 2

    async def test_a_fen_short_is_refused_and_nothing_is_written(self, client, session):
        o = await office(session)
        rule = await approved(client, o)
        r = await grant(client, o, rule["id"], await paid_ahead(client, o, "2229.99"))
        body = assert_problem(r, 409, "prepay-deposit-short")
        assert (body["required"], body["earmarked"]) == ("2230.00", "2229.99")
        assert await count_rows(session, PrepayGrant) == 0

    async def test_a_second_grant_for_the_unit_is_refused(self, client, session):
        o = await office(session)
        rule = await approved(client, o)
        first = await paid_ahead(client, o)
        assert (await grant(client, o, rule["id"], first)).status_code == 201
        assert_problem(await grant(client, o, rule["id"], await paid_ahead(client, o)), 409, "already-granted")
        assert await count_rows(session, PrepayGrant) == 1

    async def test_bad_grants_name_the_field_and_write_nothing(self, client, session):
        o = await office(session)
        rule = await approved(client, o)
        receipt = await paid_ahead(client, o)
        elsewhere = await make_unit(session, building=await make_building(session, estate=o.desk.other, number=9))
        assert_invalid(await grant(client, o, rule["id"], receipt, first_month="2026-13"), "validation-failed", "first_month")
        before = estate_time.month_key(estate_time.add_months(estate_time.month_first(o.months[0]), -1))
        assert_invalid(await grant(client, o, rule["id"], receipt, first_month=before), "first-month-not-ahead", "first_month")
        assert_invalid(await grant(client, o, rule["id"], str(uuid.uuid4())), "not-a-deposit", "receipt_id")
        assert_invalid(await grant(client, o, rule["id"], receipt, unit_id=str(elsewhere.id)), "unit-outside-rule", "unit_id")
        later = await approved(client, o, from_month=o.months[1])
        assert_invalid(await grant(client, o, later["id"], receipt), "deposit-outside-rule", "receipt_id")
        assert await count_rows(session, PrepayGrant) == 0
        assert await count_rows(session, Waiver) == 0

    async def test_only_an_approved_prepay_rule_is_granted(self, client, session):
        o = await office(session)
        receipt = await paid_ahead(client, o)
        asked = (await create(client, o)).json()
        assert_problem(await grant(client, o, asked["id"], receipt), 409, "rule-not-approved")
        percent = await approved(client, o, kind="percentage", value="10", prepay_months=None, free_months=None)
        assert_problem(await grant(client, o, percent["id"], receipt), 409, "not-a-prepay-rule")

    async def test_arrears_of_the_item_come_first(self, client, session):
        o = await office(session)
        rule = await approved(client, o)
        await bill(client, o, o.months[:1])
        receipt = await paid_ahead(client, o)
        assert_problem(await grant(client, o, rule["id"], receipt, first_month=o.months[1]), 409, "arrears-first")
