"""Listing cashier sessions and the day's hand-over sheet: who sees which drawers, the totals."""
from __future__ import annotations

from datetime import date, timedelta

from app.domain.auth.roles import Role
from tests.factories import make_staff
from tests.helpers.cash import acknowledge, current, hand_over
from tests.helpers.payments import API, desk, pay


async def two_drawers(client, session):
    """Two receptionists' sessions of today: one handed over short, one still open."""
    d = await desk(session)
    other = await make_staff(session, estates=[d.estate], roles=[Role.receptionist], full_name="王芳")
    await pay(client, d, amount="160.56", tendered="200")
    await pay(client, d, amount="45.00", method="wechat", reference="WX1")
    await pay(client, d, staff=other, amount="80.00")
    mine = (await current(client, d))["id"]
    theirs = (await current(client, d, other))["id"]
    assert (await hand_over(client, mine, d.staff, counted_cash="150.56", note="短款十元")).status_code == 200
    return d, other, mine, theirs


class TestList:
    async def test_receptionist_sees_her_own_overseers_all(self, client, session):
        d, other, mine, theirs = await two_drawers(client, session)
        url = f"{API}/estates/{d.estate.id}/cashier-sessions"
        r = await client.get(url, headers=d.staff.headers)
        assert r.status_code == 200 and [s["id"] for s in r.json()["items"]] == [mine] and r.json()["total"] == 1
        for role in (Role.supervisor, Role.finance, Role.cs_director, Role.admin):
            boss = await make_staff(session, estates=[d.estate], roles=[role])
            r = await client.get(url, headers=boss.headers)
            assert r.status_code == 200 and {s["id"] for s in r.json()["items"]} == {mine, theirs}, role
        # A receptionist asking for a colleague's drawer by id or by filter sees nothing of it.
        assert (await client.get(f"{API}/cashier-sessions/{theirs}", headers=d.staff.headers)).status_code == 404
        r = await client.get(url, params={"cashier_id": str(other.id)}, headers=d.staff.headers)
        assert r.json()["total"] == 0

    async def test_filters_and_pages(self, client, session):
        d, other, mine, theirs = await two_drawers(client, session)
        boss = await make_staff(session, estates=[d.estate], roles=[Role.supervisor])
        url = f"{API}/estates/{d.estate.id}/cashier-sessions"

        async def ids(**params) -> list[str]:
            r = await client.get(url, params=params, headers=boss.headers)
            assert r.status_code == 200, r.text
            return [s["id"] for s in r.json()["items"]]

        assert await ids(status="open") == [theirs]
        assert await ids(status="handed_over") == [mine]
        assert await ids(cashier_id=str(other.id)) == [theirs]
        today = (await client.get(f"{API}/cashier-sessions/{mine}", headers=boss.headers)).json()["day"]
        assert set(await ids(day=today)) == {mine, theirs}
        assert await ids(day=(date.fromisoformat(today) - timedelta(days=1)).isoformat()) == []
        r = await client.get(url, params={"limit": 1, "sort": "-handed_over_at"}, headers=boss.headers)
        assert (r.json()["total"], len(r.json()["items"]), r.json()["limit"]) == (2, 1, 1)
        r = await client.get(url, params={"sort": "amount"}, headers=boss.headers)
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"] == "/problems/unknown-sort-key"


class TestSheet:
    async def test_the_days_sessions_with_totals(self, client, session):
        d, other, mine, theirs = await two_drawers(client, session)
        finance = await make_staff(session, estates=[d.estate], roles=[Role.finance])
        assert (await acknowledge(client, mine, finance)).status_code == 200
        r = await client.get(f"{API}/estates/{d.estate.id}/cash-handover-sheet", headers=finance.headers)
        assert r.status_code == 200, r.text
        sheet = r.json()
        assert [s["id"] for s in sheet["sessions"]] == [mine, theirs]
        assert (sheet["expected"]["cash"], sheet["expected"]["wechat"]) == ("240.56", "45.00")
        assert (sheet["counted_cash"], sheet["difference"]) == ("150.56", "-10.00")
        assert (sheet["open_count"], sheet["handed_over_count"], sheet["acknowledged_count"]) == (1, 0, 1)
        assert [(s["cashier_name"], s["note"]) for s in sheet["sessions"]] == [("李娜", "短款十元"), ("王芳", "")]

    async def test_another_day_and_the_receptionists_own_view(self, client, session):
        d, other, mine, theirs = await two_drawers(client, session)
        url = f"{API}/estates/{d.estate.id}/cash-handover-sheet"
        r = await client.get(url, params={"day": "2020-01-01"}, headers=d.staff.headers)
        assert r.status_code == 200 and r.json()["sessions"] == [] and r.json()["counted_cash"] == "0.00"
        r = await client.get(url, headers=other.headers)
        assert [s["id"] for s in r.json()["sessions"]] == [theirs] and r.json()["expected"]["cash"] == "80.00"
