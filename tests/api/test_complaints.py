"""Owners' complaints over HTTP: the whole life, reopening, illegal moves, deadlines, the record book."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.complaints.model import Complaint, ComplaintStep
from tests.factories import make_staff
from tests.helpers.complaints import API, SHANGHAI, post, register, world
from tests.registry_factories import count_rows


class TestLife:
    async def test_register_assign_steps_resolve_satisfied(self, client, session):
        w = await world(session)
        c = await register(client, w)
        year = utcnow().astimezone(SHANGHAI).year
        assert (c["number"], c["status"], c["owner_name"], c["unit_label"]) == (f"TS-{year}-0001", "registered", "王建國", "8号楼2单元301")
        assert c["allowed_actions"] == ["assign", "escalate", "withdraw"] and c["steps"] == []
        assert (await register(client, w))["number"] == f"TS-{year}-0002"

        c = await post(client, c["id"], "assign", {"handler_id": str(w.handler.id), "note": "請陳管理員處理"}, w.director)
        assert (c["status"], c["handler_id"], c["handler_name"]) == ("assigned", str(w.handler.id), "陳管理員")
        c = await post(client, c["id"], "steps", {"note": "上門與樓上業主溝通", "done_by": str(w.handler.id)}, w.desk, 201)
        assert c["status"] == "in_progress"
        c = await post(client, c["id"], "steps", {"note": "電話告知業主結果"}, w.desk, 201)
        c = await post(client, c["id"], "resolve", {"resolution": "樓上業主同意晚上八點後停工"}, w.director)
        assert (c["status"], c["resolution"]) == ("resolved", "樓上業主同意晚上八點後停工")
        c = await post(client, c["id"], "feedback", {"satisfied": True}, w.desk)
        assert (c["status"], c["feedback_satisfied"]) == ("closed", True) and c["closed_at"]

        kinds = [(s["kind"], s["done_by"]) for s in c["steps"]]
        assert kinds == [("assigned", str(w.director.id)), ("step", str(w.handler.id)), ("step", str(w.desk.id)),
                         ("resolved", str(w.director.id)), ("feedback", str(w.desk.id))]
        assert c["steps"][-1]["satisfied"] is True
        got = (await client.get(f"{API}/complaints/{c['id']}", headers=w.handler.headers)).json()
        assert got["steps"] == c["steps"]
        actions = (await session.execute(select(AuditEntry.action).where(AuditEntry.entity_id == c["id"])
                                         .order_by(AuditEntry.at, AuditEntry.id))).scalars().all()
        assert actions == ["complaint.register", "complaint.assign", "complaint.add_step", "complaint.add_step",
                           "complaint.resolve", "complaint.close"]

    async def test_not_satisfied_reopens_and_starts_again(self, client, session):
        w = await world(session)
        c = await register(client, w, severity="urgent")
        first_deadline = datetime.fromisoformat(c["deadline"])
        await post(client, c["id"], "assign", {"handler_id": str(w.handler.id)}, w.director)
        await post(client, c["id"], "resolve", {"resolution": "已提醒樓上"}, w.director)
        before = utcnow()
        c = await post(client, c["id"], "feedback", {"satisfied": False, "note": "還是吵"}, w.desk)
        assert (c["status"], c["reopen_count"], c["feedback_satisfied"], c["feedback_note"]) == ("reopened", 1, False, "還是吵")
        new_deadline = datetime.fromisoformat(c["deadline"])
        assert new_deadline > first_deadline and before + timedelta(hours=24) <= new_deadline <= utcnow() + timedelta(hours=24)
        # Reopened: it must be given to someone again before work goes on.
        assert (await post(client, c["id"], "steps", {"note": "x"}, w.desk, 409))["type"] == "/problems/illegal-transition"
        c = await post(client, c["id"], "assign", {"handler_id": str(w.director.id)}, w.director)
        assert c["status"] == "assigned"
        await post(client, c["id"], "resolve", {"resolution": "主任出面協調，賠償一天"}, w.director)
        c = await post(client, c["id"], "feedback", {"satisfied": True, "note": "可以"}, w.desk)
        assert c["status"] == "closed"
        assert [s["satisfied"] for s in c["steps"] if s["kind"] == "feedback"] == [False, True]

    async def test_escalate_by_hand_and_withdraw(self, client, session):
        w = await world(session)
        c = await register(client, w)
        c = await post(client, c["id"], "escalate", {"reason": "業主要求主任處理"}, w.desk)
        assert (c["status"], c["escalated_by"], c["escalation_reason"]) == ("escalated", str(w.desk.id), "業主要求主任處理")
        c = await post(client, c["id"], "assign", {"handler_id": str(w.handler.id)}, w.director)
        assert c["status"] == "escalated"  # the director keeps it until it is resolved
        c = await post(client, c["id"], "withdraw", {"reason": "業主撤回"}, w.director)
        assert (c["status"], c["withdrawal_reason"]) == ("withdrawn", "業主撤回")
        assert c["allowed_actions"] == []


class TestIllegal:
    async def test_409_named_and_nothing_changes(self, client, session):
        w = await world(session)
        c = await register(client, w)
        cases = [("steps", {"note": "x"}, w.desk), ("resolve", {"resolution": "x"}, w.director),
                 ("feedback", {"satisfied": True}, w.desk)]
        for verb, payload, who in cases:
            r = await client.post(f"{API}/complaints/{c['id']}/{verb}", json=payload, headers=who.headers)
            assert r.status_code == 409, verb
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["type"] == "/problems/illegal-transition" and r.json()["current_state"] == "registered"
        await post(client, c["id"], "escalate", {"reason": "x"}, w.desk)
        r = await client.post(f"{API}/complaints/{c['id']}/escalate", json={"reason": "again"}, headers=w.desk.headers)
        assert r.status_code == 409
        row = await session.get(Complaint, c["id"], populate_existing=True)
        assert row.status == "escalated"
        assert await count_rows(session, ComplaintStep) == 1
        assert await count_rows(session, AuditEntry, AuditEntry.entity == "complaint") == 2

    async def test_closed_and_withdrawn_are_final(self, client, session):
        w = await world(session)
        c = await register(client, w)
        await post(client, c["id"], "withdraw", {"reason": "撤回"}, w.director)
        for verb, payload in [("assign", {"handler_id": str(w.handler.id)}), ("escalate", {"reason": "x"}),
                              ("withdraw", {"reason": "x"})]:
            assert (await post(client, c["id"], verb, payload, w.director, 409))["type"] == "/problems/illegal-transition"


class TestDeadlines:
    async def test_defaults_then_estate_settings_apply_to_new_complaints(self, client, session):
        w = await world(session)
        url = f"{API}/estates/{w.estate.id}/complaint-deadlines"
        got = (await client.get(url, headers=w.desk.headers)).json()
        assert got["urgent"] == {"amount": 24, "unit": "hours", "is_default": True}
        assert [got[s]["amount"] for s in ("high", "normal", "low")] == [3, 7, 15]
        # 23:30 three days ago in Shanghai: a late complaint still counts its days from that local day.
        three_ago = (utcnow() - timedelta(days=3)).astimezone(SHANGHAI).date()
        received = datetime(three_ago.year, three_ago.month, three_ago.day, 23, 30, tzinfo=SHANGHAI).astimezone(UTC)
        c = await register(client, w, severity="high", received_at=received.isoformat())
        local_day = received.astimezone(SHANGHAI).date() + timedelta(days=3)
        assert datetime.fromisoformat(c["deadline"]) == datetime(
            local_day.year, local_day.month, local_day.day, 23, 59, 59, tzinfo=SHANGHAI
        )

        new = {
            "urgent": {"amount": 4, "unit": "hours"},
            "high": {"amount": 12, "unit": "hours"},
            "normal": {"amount": 2, "unit": "days"},
            "low": {"amount": 5, "unit": "days"},
        }
        r = await client.put(url, json=new, headers=w.director.headers)
        assert r.status_code == 200, r.text
        assert r.json()["high"] == {"amount": 12, "unit": "hours", "is_default": False}
        c2 = await register(client, w, severity="high", received_at=received.isoformat())
        assert datetime.fromisoformat(c2["deadline"]) == received + timedelta(hours=12)
        assert (await session.get(Complaint, c["id"])).deadline == datetime.fromisoformat(c["deadline"])  # old ones keep theirs
        # The other estate still has the defaults.
        admin = await make_staff(session, estates=[w.other], roles=[Role.admin])
        other = (await client.get(f"{API}/estates/{w.other.id}/complaint-deadlines", headers=admin.headers)).json()
        assert other["high"]["is_default"] is True
        assert await count_rows(session, AuditEntry, AuditEntry.action == "complaint_deadline.update") == 1

    async def test_estate_time_zone_decides_the_day(self, client, session):
        w = await world(session)
        w.estate.time_zone = "America/New_York"
        session.add(w.estate)
        await session.commit()
        received = utcnow() - timedelta(hours=1)
        c = await register(client, w, severity="low", received_at=received.isoformat())
        ny = ZoneInfo("America/New_York")
        day = received.astimezone(ny).date() + timedelta(days=15)
        assert datetime.fromisoformat(c["deadline"]) == datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=ny)

    async def test_out_of_order_refused(self, client, session):
        w = await world(session)
        new = {
            "urgent": {"amount": 4, "unit": "days"},
            "high": {"amount": 3, "unit": "days"},
            "normal": {"amount": 7, "unit": "days"},
            "low": {"amount": 15, "unit": "days"},
        }
        r = await client.put(f"{API}/estates/{w.estate.id}/complaint-deadlines", json=new, headers=w.director.headers)
        assert (r.status_code, r.json()["type"]) == (422, "/problems/deadlines-out-of-order")
        from app.domain.complaints.model import ComplaintDeadline

        assert await count_rows(session, ComplaintDeadline) == 0


class TestRecordBook:
    async def test_filters_and_pages(self, client, session):
        w = await world(session)
        now = utcnow()
        late = await register(client, w, category="fees", severity="urgent", received_at=(now - timedelta(days=3)).isoformat())
        fresh = await register(client, w, category="cleaning")
        done = await register(client, w, category="fees", received_at=(now - timedelta(days=20)).isoformat())
        await post(client, done["id"], "assign", {"handler_id": str(w.handler.id)}, w.director)
        await post(client, done["id"], "resolve", {"resolution": "解釋清楚"}, w.director)
        url = f"{API}/estates/{w.estate.id}/complaints"

        async def ids(**params: Any) -> list[str]:
            r = await client.get(url, params=params, headers=w.desk.headers)
            assert r.status_code == 200, r.text
            return [i["id"] for i in r.json()["items"]]

        assert await ids() == [fresh["id"], late["id"], done["id"]]
        assert await ids(overdue="true") == [late["id"]]
        assert await ids(overdue="false") == [fresh["id"], done["id"]]
        assert await ids(category="fees", sort="received_at") == [done["id"], late["id"]]
        assert await ids(status="resolved") == [done["id"]]
        assert await ids(handler_id=str(w.handler.id)) == [done["id"]]
        assert await ids(severity="urgent") == [late["id"]]
        today = now.astimezone(SHANGHAI).date()
        assert await ids(received_from=str(today - timedelta(days=4)), received_to=str(today - timedelta(days=1))) == [late["id"]]
        r = await client.get(url, params={"limit": 1, "offset": 1}, headers=w.desk.headers)
        assert (r.json()["total"], [i["id"] for i in r.json()["items"]]) == (3, [late["id"]])
        row = (await client.get(url, params={"overdue": "true"}, headers=w.desk.headers)).json()["items"][0]
        assert row["is_overdue"] is True
