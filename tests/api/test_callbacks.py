"""Callbacks (回訪, §7.3.9): the worklist, failed attempts, every outcome path and the CS director's resolution."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.callbacks.model import Callback, CallbackAttempt, CallbackStatus
from app.domain.repairs.model import WorkOrder, WorkOrderStatus
from tests.factories import make_staff
from tests.helpers.callbacks import API, completed, desk_world, fresh
from tests.helpers.problems import assert_422
from tests.registry_factories import count_rows, make_building, make_unit


class TestPermissions:
    async def test_anonymous_401(self, client, session):
        w = await desk_world(session)
        _, cb = await completed(session, w)
        for method, path, body in [
            ("GET", f"/estates/{w.estate.id}/callbacks", None), ("GET", f"/callbacks/{cb.id}", None),
            ("POST", f"/callbacks/{cb.id}/attempts", {"result": "no_answer"}),
            ("POST", f"/callbacks/{cb.id}/outcome", {"outcome": "satisfied", "score": 5}),
            ("POST", f"/callbacks/{cb.id}/resolution", {"resolution": "x", "reopen": False}),
        ]:
            assert (await client.request(method, API + path, json=body)).status_code == 401, path

    async def test_roles_403_and_nothing_written(self, client, session):
        w = await desk_world(session)
        _, cb = await completed(session, w)
        finance = await make_staff(session, estates=[w.estate], roles=[Role.finance])
        assert (await client.get(f"{API}/estates/{w.estate.id}/callbacks", headers=finance.headers)).status_code == 403
        assert (await client.get(f"{API}/callbacks/{cb.id}", headers=finance.headers)).status_code == 403
        # Technicians see the worklist but do not ring owners back.
        assert (await client.get(f"{API}/callbacks/{cb.id}", headers=w.tech.headers)).status_code == 200
        r = await client.post(f"{API}/callbacks/{cb.id}/attempts", json={"result": "no_answer"}, headers=w.tech.headers)
        assert r.status_code == 403
        r = await client.post(f"{API}/callbacks/{cb.id}/outcome", json={"outcome": "satisfied", "score": 5}, headers=w.tech.headers)
        assert r.status_code == 403
        # The desk escalates; only the CS director resolves.
        r = await client.post(f"{API}/callbacks/{cb.id}/resolution", json={"resolution": "x", "reopen": False}, headers=w.desk.headers)
        assert r.status_code == 403
        assert (await fresh(session, Callback, cb.id)).status == CallbackStatus.open
        assert await count_rows(session, CallbackAttempt) == 0

    async def test_other_estate_404(self, client, session):
        w = await desk_world(session)
        theirs_tech = await make_staff(session, estates=[w.other], roles=[Role.technician])
        order, cb = await completed(session, w, estate=w.other, unit=None, tech=theirs_tech)
        admin = await make_staff(session, estates=[w.estate], roles=[Role.admin])
        assert (await client.get(f"{API}/estates/{w.other.id}/callbacks", headers=admin.headers)).status_code == 404
        assert (await client.get(f"{API}/callbacks/{cb.id}", headers=admin.headers)).status_code == 404
        for path, body in [("attempts", {"result": "no_answer"}), ("outcome", {"outcome": "satisfied", "score": 5}),
                           ("resolution", {"resolution": "x", "reopen": False})]:
            assert (await client.post(f"{API}/callbacks/{cb.id}/{path}", json=body, headers=admin.headers)).status_code == 404
        assert (await fresh(session, Callback, cb.id)).status == CallbackStatus.open
        assert (await fresh(session, WorkOrder, order.id)).status == WorkOrderStatus.completed


class TestWorklist:
    async def test_row_carries_whom_to_ring(self, client, session):
        w = await desk_world(session)
        order, cb = await completed(session, w)
        r = await client.get(f"{API}/estates/{w.estate.id}/callbacks", headers=w.desk.headers)
        assert r.status_code == 200, r.text
        [row] = r.json()["items"]
        assert (row["id"], row["work_order_id"], row["unit_label"]) == (str(cb.id), str(order.id), "8号楼2单元301")
        assert (row["owner_name"], row["owner_phone"], row["status"], row["attempts"]) == ("王建國", "13800138000", "open", 0)
        assert row["order_status"] == "completed" and row["technician_id"] == str(w.tech.id)
        assert datetime.fromisoformat(row["due_at"]) == cb.due_at and row["is_overdue"] is False
        assert set(row["allowed_actions"]) == {"log_attempt", "mark_overdue", "record_satisfied", "record_problem_reopen", "escalate"}

    async def test_filters_and_sort(self, client, session):
        w = await desk_world(session)
        other_unit = await make_unit(session, building=await make_building(session, estate=w.estate, number=9), number="101")
        tech2 = await make_staff(session, estates=[w.estate], roles=[Role.technician])
        now = utcnow()
        _, late = await completed(session, w, completed_at=now - timedelta(days=10))
        _, soon = await completed(session, w, completed_at=now - timedelta(days=3), unit=other_unit)
        _, fresh_cb = await completed(session, w, completed_at=now - timedelta(hours=2), tech=tech2)
        _, done = await completed(session, w, completed_at=now - timedelta(days=5))
        r = await client.post(f"{API}/callbacks/{done.id}/outcome", json={"outcome": "satisfied", "score": 5}, headers=w.desk.headers)
        assert r.status_code == 200, r.text
        await completed(session, w, estate=w.other, unit=None, tech=await make_staff(session, estates=[w.other], roles=[Role.technician]))

        async def ids(**params: Any) -> list[str]:
            r = await client.get(f"{API}/estates/{w.estate.id}/callbacks", params=params, headers=w.desk.headers)
            assert r.status_code == 200, r.text
            return [row["id"] for row in r.json()["items"]]

        assert await ids() == [str(c.id) for c in (late, done, soon, fresh_cb)]  # by due_at
        assert await ids(status="open") == [str(late.id), str(soon.id), str(fresh_cb.id)]
        assert await ids(overdue="true") == [str(late.id)]
        assert await ids(status="done") == [str(done.id)]
        assert await ids(technician_id=str(tech2.id)) == [str(fresh_cb.id)]
        assert await ids(unit_id=str(other_unit.id)) == [str(soon.id)]
        assert await ids(due_before=soon.due_at.isoformat()) == [str(late.id), str(done.id)]
        assert await ids(sort="-due_at", limit=2) == [str(fresh_cb.id), str(soon.id)]

    async def test_bad_filters_422(self, client, session):
        w = await desk_world(session)
        base = f"{API}/estates/{w.estate.id}/callbacks"
        for params in [{"status": "lost"}, {"due_before": "2026-11-01T00:00:00"}, {"sort": "owner"}]:
            r = await client.get(base, params=params, headers=w.desk.headers)
            assert r.status_code == 422, params
            assert_422(r, next(iter(params)))


class TestAttempts:
    async def test_failed_attempts_keep_it_open(self, client, session):
        w = await desk_world(session)
        _, cb = await completed(session, w)
        again = (utcnow() + timedelta(hours=3)).isoformat()
        r = await client.post(f"{API}/callbacks/{cb.id}/attempts", json={"result": "no_answer"}, headers=w.desk.headers)
        assert r.status_code == 201, r.text
        r = await client.post(
            f"{API}/callbacks/{cb.id}/attempts",
            json={"result": "owner_busy", "note": "下午三點再打", "call_again_at": again},
            headers=w.desk.headers,
        )
        body = r.json()
        assert (body["status"], body["attempts"], body["last_attempt_result"]) == ("open", 2, "owner_busy")
        assert [a["result"] for a in body["attempt_log"]] == ["no_answer", "owner_busy"]
        assert body["attempt_log"][1]["by"] == str(w.desk.id) and body["call_again_at"] is not None
        listed = (await client.get(f"{API}/estates/{w.estate.id}/callbacks", headers=w.desk.headers)).json()["items"][0]
        assert (listed["attempts"], listed["last_attempt_result"]) == (2, "owner_busy")
        assert await count_rows(session, AuditEntry, AuditEntry.action == "callback.log_attempt") == 2

    @pytest.mark.parametrize(
        "body",
        [
            {"result": "hung_up"},
            {},
            {"result": "no_answer", "call_again_at": "2026-12-01T10:00:00"},
            {"result": "no_answer", "note": "a\x00b"},
            {"result": "no_answer", "note": "x" * 4001},
        ],
    )
    async def test_bad_input_422_nothing_written(self, client, session, body):
        w = await desk_world(session)
        _, cb = await completed(session, w)
        r = await client.post(f"{API}/callbacks/{cb.id}/attempts", json=body, headers=w.desk.headers)
        assert r.status_code == 422, r.text
        assert r.json()["type"] == "/problems/validation-failed"
        assert await count_rows(session, CallbackAttempt) == 0
        assert (await fresh(session, Callback, cb.id)).attempts == 0


class TestOutcomes:
    async def test_satisfied_closes_the_orders_callback(self, client, session):
        w = await desk_world(session)
        order, cb = await completed(session, w)
        r = await client.post(
            f"{API}/callbacks/{cb.id}/outcome", json={"outcome": "satisfied", "score": 5, "note": "師傅很好"}, headers=w.desk.headers
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["status"], body["outcome"], body["score"], body["order_status"]) == ("done", "satisfied", 5, "callback_done")
        assert body["done_by"] == str(w.desk.id) and body["allowed_actions"] == []
        assert (await fresh(session, WorkOrder, order.id)).callback_done_at is not None
        actions = set((await session.execute(select(AuditEntry.action))).scalars())
        assert {"callback.record_satisfied", "work_order.close_callback"} <= actions

    @pytest.mark.parametrize("score", [0, 6, "five", None])
    async def test_score_out_of_range_422_nothing_written(self, client, session, score):
        w = await desk_world(session)
        order, cb = await completed(session, w)
        r = await client.post(f"{API}/callbacks/{cb.id}/outcome", json={"outcome": "satisfied", "score": score}, headers=w.desk.headers)
        assert r.status_code == 422, r.text
        assert_422(r, "satisfied.score")
        assert (await fresh(session, Callback, cb.id)).status == CallbackStatus.open
        assert (await fresh(session, WorkOrder, order.id)).status == WorkOrderStatus.completed
        assert await count_rows(session, AuditEntry) == 0

    @pytest.mark.parametrize(
        "body",
        [
            {"outcome": "problem", "action": "reopen"},
            {"outcome": "problem", "action": "reopen", "note": "   "},
            {"outcome": "problem", "action": "ignore", "note": "x"},
            {"outcome": "angry", "note": "x"},
        ],
    )
    async def test_problem_needs_an_action_and_a_note(self, client, session, body):
        w = await desk_world(session)
        order, cb = await completed(session, w)
        r = await client.post(f"{API}/callbacks/{cb.id}/outcome", json=body, headers=w.desk.headers)
        assert r.status_code == 422, r.text
        assert r.json()["type"] == "/problems/validation-failed"
        assert (await fresh(session, Callback, cb.id)).status == CallbackStatus.open
        assert (await fresh(session, WorkOrder, order.id)).status == WorkOrderStatus.completed

    async def test_problem_reopens_the_order(self, client, session):
        w = await desk_world(session)
        order, cb = await completed(session, w)
        r = await client.post(
            f"{API}/callbacks/{cb.id}/outcome",
            json={"outcome": "problem", "action": "reopen", "note": "水龍頭還在滴水"},
            headers=w.desk.headers,
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["status"], body["outcome"], body["note"], body["order_status"]) == ("done", "problem", "水龍頭還在滴水", "reopened")
        got = await fresh(session, WorkOrder, order.id)
        assert (got.reopen_count, got.last_reason, got.technician_id) == (1, "水龍頭還在滴水", None)
        assert await count_rows(session, AuditEntry, AuditEntry.action == "work_order.reopen") == 1

    @pytest.mark.parametrize(
        "reopen,order_status,cb_actions", [(False, "callback_done", "work_order.close_callback"), (True, "reopened", "work_order.reopen")]
    )
    async def test_escalate_then_cs_director_resolves(self, client, session, reopen, order_status, cb_actions):
        w = await desk_world(session)
        order, cb = await completed(session, w)
        director = await make_staff(session, estates=[w.estate], roles=[Role.cs_director])
        r = await client.post(
            f"{API}/callbacks/{cb.id}/outcome",
            json={"outcome": "problem", "action": "escalate", "note": "業主要投訴"},
            headers=w.desk.headers,
        )
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["order_status"], r.json()["allowed_actions"]) == ("escalated", "completed", ["resolve"])
        r = await client.post(
            f"{API}/callbacks/{cb.id}/resolution", json={"resolution": "主任致電道歉並安排複檢", "reopen": reopen}, headers=director.headers
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["status"], body["resolution_reopened"], body["resolved_by"], body["order_status"]) == (
            "resolved",
            reopen,
            str(director.id),
            order_status,
        )
        assert (await fresh(session, WorkOrder, order.id)).status == WorkOrderStatus(order_status)
        assert await count_rows(session, AuditEntry, AuditEntry.action.in_(["callback.escalate", "callback.resolve", cb_actions])) == 3

    async def test_resolution_needs_text_422(self, client, session):
        w = await desk_world(session)
        _, cb = await completed(session, w)
        director = await make_staff(session, estates=[w.estate], roles=[Role.cs_director])
        await client.post(
            f"{API}/callbacks/{cb.id}/outcome", json={"outcome": "problem", "action": "escalate", "note": "x"}, headers=w.desk.headers
        )
        named = iter(["resolution", "reopen", "reopen"])
        for body in [{"resolution": "", "reopen": True}, {"resolution": "x"}, {"resolution": "x", "reopen": "maybe"}]:
            r = await client.post(f"{API}/callbacks/{cb.id}/resolution", json=body, headers=director.headers)
            assert r.status_code == 422, body
            assert_422(r, next(named))
        assert (await fresh(session, Callback, cb.id)).status == CallbackStatus.escalated


class TestIllegal:
    async def test_second_outcome_409_with_current_state(self, client, session):
        w = await desk_world(session)
        _, cb = await completed(session, w)
        ok = {"outcome": "satisfied", "score": 4}
        assert (await client.post(f"{API}/callbacks/{cb.id}/outcome", json=ok, headers=w.desk.headers)).status_code == 200
        for path, body in [
            ("outcome", ok),
            ("outcome", {"outcome": "problem", "action": "escalate", "note": "x"}),
            ("attempts", {"result": "no_answer"}),
        ]:
            r = await client.post(f"{API}/callbacks/{cb.id}/{path}", json=body, headers=w.desk.headers)
            assert r.status_code == 409, r.text
            assert r.json()["type"] == "/problems/illegal-transition"
            assert (r.json()["current_state"], r.json()["entity"]) == ("done", "callback")

    async def test_resolution_of_an_open_callback_409(self, client, session):
        w = await desk_world(session)
        _, cb = await completed(session, w)
        director = await make_staff(session, estates=[w.estate], roles=[Role.cs_director])
        r = await client.post(f"{API}/callbacks/{cb.id}/resolution", json={"resolution": "x", "reopen": False}, headers=director.headers)
        assert r.status_code == 409 and r.json()["current_state"] == "open"
        assert r.json()["type"] == "/problems/illegal-transition"

    async def test_order_in_the_wrong_state_409_and_callback_untouched(self, client, session):
        w = await desk_world(session)
        order, cb = await completed(session, w)
        row = await fresh(session, WorkOrder, order.id)
        row.status = WorkOrderStatus.approved  # e.g. approved by another path meanwhile
        await session.commit()
        r = await client.post(f"{API}/callbacks/{cb.id}/outcome", json={"outcome": "satisfied", "score": 5}, headers=w.desk.headers)
        assert r.status_code == 409, r.text
        assert r.json()["type"] == "/problems/illegal-transition"
        assert (r.json()["entity"], r.json()["current_state"]) == ("work_order", "approved")
        assert (await fresh(session, Callback, cb.id)).status == CallbackStatus.open
        assert await count_rows(session, AuditEntry) == 0

    async def test_unknown_callback_404(self, client, session):
        w = await desk_world(session)
        r = await client.get(f"{API}/callbacks/00000000-0000-0000-0000-000000000000", headers=w.desk.headers)
        assert r.status_code == 404 and r.json()["type"] == "/problems/callback-not-found"
