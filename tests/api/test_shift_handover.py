"""Shift hand-over (交接班, §7.2): the outgoing staff member hands over, the incoming one takes over
once every item needing follow-up is assigned or made a service request; any shift change works."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.desk.model import ShiftHandover, ShiftLogEntry, ShiftStatus
from app.domain.registry.model import Estate
from app.domain.repairs.model import RequestChannel, ServiceRequest, WorkOrder
from tests.factories import Staff, make_staff
from tests.registry_factories import count_rows, two_estates

API = "/api/v1"


@dataclass
class World:
    estate: Estate
    other: Estate
    night: Staff
    desk: Staff
    tech: Staff


async def world(session) -> World:
    estate, other = await two_estates(session)
    night = await make_staff(session, estates=[estate], roles=[Role.night_duty], full_name="夜班老張")
    desk = await make_staff(session, estates=[estate], roles=[Role.receptionist], full_name="前台小李")
    tech = await make_staff(session, estates=[estate], roles=[Role.technician], full_name="張師傅")
    return World(estate, other, night, desk, tech)


async def handed_over_night(client, w: World, *, items: int = 2, quiet: int = 1) -> tuple[dict, list[dict]]:
    """A night shift with `items` entries needing follow-up and `quiet` that do not, handed over."""
    shift = (await client.post(f"{API}/estates/{w.estate.id}/shifts", json={"shift": "night"}, headers=w.night.headers)).json()
    entries = []
    for i in range(items):
        body = {"place": f"{i + 1}号楼", "what": f"问题{i + 1}", "needs_follow_up": True}
        entries.append((await client.post(f"{API}/estates/{w.estate.id}/shift-log", json=body, headers=w.night.headers)).json())
    for _ in range(quiet):
        await client.post(f"{API}/estates/{w.estate.id}/shift-log", json={"what": "巡查正常"}, headers=w.night.headers)
    r = await client.post(f"{API}/shifts/{shift['id']}/hand-over", json={"note": "车库的事要跟"}, headers=w.night.headers)
    assert r.status_code == 200, r.text
    return r.json(), entries


def as_request(**extra) -> dict:
    return {"channel": "phone", "category": "public_area", "description": "地下车库排水沟堵塞", "location": "地下车库", **extra}


async def fresh_shift(session, shift_id) -> ShiftHandover:
    return await session.get(ShiftHandover, shift_id, populate_existing=True)


class TestPermissions:
    async def test_anonymous_401(self, client, session):
        w = await world(session)
        shift, [entry, _] = await handed_over_night(client, w)
        for path, body in [(f"/shifts/{shift['id']}/hand-over", {}), (f"/shifts/{shift['id']}/accept", {}),
                           (f"/shift-log/{entry['id']}/follow-up", {"assign_to": str(w.tech.id)})]:
            assert (await client.post(API + path, json=body)).status_code == 401, path
        assert (await fresh_shift(session, shift["id"])).status == ShiftStatus.handed_over

    async def test_wrong_role_403_and_nothing_written(self, client, session):
        w = await world(session)
        admin = await make_staff(session, estates=[w.estate], roles=[Role.admin])
        shift, [entry, _] = await handed_over_night(client, w)
        # The administrator keeps accounts, not shifts; technicians work no desk shift.
        for who in (admin, w.tech):
            assert (await client.post(f"{API}/shifts/{shift['id']}/accept", json={}, headers=who.headers)).status_code == 403
            r = await client.post(f"{API}/shift-log/{entry['id']}/follow-up", json={"assign_to": str(w.tech.id)}, headers=who.headers)
            assert r.status_code == 403
        opened = (await client.post(f"{API}/estates/{w.estate.id}/shifts", json={"shift": "morning"}, headers=admin.headers)).json()
        assert (await client.post(f"{API}/shifts/{opened['id']}/hand-over", json={}, headers=admin.headers)).status_code == 403
        assert (await fresh_shift(session, shift["id"])).status == ShiftStatus.handed_over
        assert (await fresh_shift(session, opened["id"])).status == ShiftStatus.open
        assert await count_rows(session, ShiftLogEntry, ShiftLogEntry.follow_up_assignee_id.is_not(None)) == 0

    async def test_other_estate_404(self, client, session):
        w = await world(session)
        shift, [entry, _] = await handed_over_night(client, w)
        theirs = await make_staff(session, estates=[w.other], roles=[Role.receptionist])
        for path, body in [(f"/shifts/{shift['id']}/hand-over", {}), (f"/shifts/{shift['id']}/accept", {}),
                           (f"/shift-log/{entry['id']}/follow-up", {"assign_to": str(theirs.id)})]:
            assert (await client.post(API + path, json=body, headers=theirs.headers)).status_code == 404, path
        assert (await fresh_shift(session, shift["id"])).status == ShiftStatus.handed_over


class TestHandOverAndAccept:
    async def test_night_to_morning_with_dispositions_in_one_call(self, client, session):
        w = await world(session)
        shift, [first, second] = await handed_over_night(client, w)
        assert (shift["status"], shift["next_shift"], shift["handed_over_by_name"], shift["hand_over_note"]) == \
            ("handed_over", "morning", "夜班老張", "车库的事要跟")
        assert shift["allowed_actions"] == ["accept", "dispose_follow_up"] and shift["unhandled_count"] == 2
        body = {"note": "已接班", "follow_ups": [
            {"entry_id": first["id"], "assign_to": str(w.tech.id), "note": "上午去看"},
            {"entry_id": second["id"], "request": as_request()},
        ]}
        r = await client.post(f"{API}/shifts/{shift['id']}/accept", json=body, headers=w.desk.headers)
        assert r.status_code == 200, r.text
        done = r.json()
        assert (done["status"], done["accepted_by"], done["accepted_by_name"], done["accept_note"]) == \
            ("accepted", str(w.desk.id), "前台小李", "已接班")
        assert done["accepted_at"] is not None and done["handed_over_at"] <= done["accepted_at"] and done["unhandled_count"] == 0
        by_id = {e["id"]: e for e in done["entries"]}
        assert (by_id[first["id"]]["follow_up_assignee_id"], by_id[first["id"]]["follow_up_assignee_name"]) == (str(w.tech.id), "張師傅")
        request_id = by_id[second["id"]]["follow_up_request_id"]
        request = await session.get(ServiceRequest, request_id)
        assert (request.estate_id, request.channel, request.location, request.registered_by) == (
            w.estate.id,
            RequestChannel.phone,
            "地下车库",
            w.desk.id,
        )
        assert await count_rows(session, WorkOrder, WorkOrder.request_id == request.id) == 1
        actions = (await session.execute(select(AuditEntry.action).where(AuditEntry.estate_id == w.estate.id))).scalars().all()
        for action in ("shift.open", "shift.hand_over", "shift.accept", "shift_log_entry.assign", "shift_log_entry.make_request"):
            assert actions.count(action) == 1, action
        assert "create" in actions  # the intake service audited the request it registered

    async def test_unhandled_items_409_naming_them_nothing_written(self, client, session):
        w = await world(session)
        shift, [first, second] = await handed_over_night(client, w)
        body = {"follow_ups": [{"entry_id": first["id"], "request": as_request()}]}
        r = await client.post(f"{API}/shifts/{shift['id']}/accept", json=body, headers=w.desk.headers)
        assert r.status_code == 409 and r.json()["type"] == "/problems/follow-ups-unhandled"
        assert r.json()["unhandled"] == [{"entry_id": second["id"], "what": "问题2"}]
        # The request made for the first item went with the refused transaction.
        assert await count_rows(session, ServiceRequest) == 0
        assert (await fresh_shift(session, shift["id"])).status == ShiftStatus.handed_over
        assert await count_rows(session, ShiftLogEntry, ShiftLogEntry.follow_up_request_id.is_not(None)) == 0

    async def test_item_by_item_then_accept(self, client, session):
        w = await world(session)
        shift, [first, second] = await handed_over_night(client, w)
        r = await client.post(f"{API}/shift-log/{first['id']}/follow-up", json={"assign_to": str(w.tech.id)}, headers=w.desk.headers)
        assert r.status_code == 200 and r.json()["is_unhandled"] is False, r.text
        again = await client.post(f"{API}/shift-log/{first['id']}/follow-up", json={"assign_to": str(w.desk.id)}, headers=w.desk.headers)
        assert again.status_code == 409 and again.json()["type"] == "/problems/follow-up-already-handled"
        r = await client.post(f"{API}/shift-log/{second['id']}/follow-up", json={"request": as_request()}, headers=w.desk.headers)
        assert r.status_code == 200 and r.json()["follow_up_request_id"] is not None
        r = await client.post(f"{API}/shifts/{shift['id']}/accept", json={}, headers=w.desk.headers)
        assert r.status_code == 200 and r.json()["status"] == "accepted"

    async def test_shift_without_follow_ups_accepted_at_once_and_any_change_works(self, client, session):
        w = await world(session)
        morning = (await client.post(f"{API}/estates/{w.estate.id}/shifts", json={"shift": "morning"}, headers=w.desk.headers)).json()
        await client.post(f"{API}/estates/{w.estate.id}/shift-log", json={"what": "业主来电咨询"}, headers=w.desk.headers)
        handed = (await client.post(f"{API}/shifts/{morning['id']}/hand-over", json={}, headers=w.desk.headers)).json()
        assert handed["next_shift"] == "afternoon"
        afternoon = await make_staff(session, estates=[w.estate], roles=[Role.receptionist])
        r = await client.post(f"{API}/shifts/{morning['id']}/accept", json={}, headers=afternoon.headers)
        assert r.status_code == 200 and r.json()["accepted_by"] == str(afternoon.id)
        # A named incoming shift: afternoon straight to the supervisor's night cover.
        aft = (await client.post(f"{API}/estates/{w.estate.id}/shifts", json={"shift": "afternoon"}, headers=afternoon.headers)).json()
        r = await client.post(f"{API}/shifts/{aft['id']}/hand-over", json={"next_shift": "night"}, headers=afternoon.headers)
        assert r.json()["next_shift"] == "night"


class TestIllegal:
    async def test_transitions_409(self, client, session):
        w = await world(session)
        shift = (await client.post(f"{API}/estates/{w.estate.id}/shifts", json={"shift": "night"}, headers=w.night.headers)).json()
        r = await client.post(f"{API}/shifts/{shift['id']}/accept", json={}, headers=w.desk.headers)
        assert r.status_code == 409 and r.json()["type"] == "/problems/illegal-transition"
        await client.post(f"{API}/shifts/{shift['id']}/hand-over", json={}, headers=w.night.headers)
        r = await client.post(f"{API}/shifts/{shift['id']}/hand-over", json={}, headers=w.night.headers)
        assert r.status_code == 409 and r.json()["current_state"] == "handed_over"
        # The one who handed over does not take over from themselves.
        r = await client.post(f"{API}/shifts/{shift['id']}/accept", json={}, headers=w.night.headers)
        assert r.status_code == 409 and r.json()["type"] == "/problems/take-over-from-yourself"
        assert (await client.post(f"{API}/shifts/{shift['id']}/accept", json={}, headers=w.desk.headers)).status_code == 200
        r = await client.post(f"{API}/shifts/{shift['id']}/accept", json={}, headers=w.desk.headers)
        assert r.status_code == 409 and r.json()["current_state"] == "accepted"
        assert (await fresh_shift(session, shift["id"])).accepted_by == w.desk.id

    async def test_follow_up_only_once_handed_over(self, client, session):
        w = await world(session)
        await client.post(f"{API}/estates/{w.estate.id}/shifts", json={"shift": "night"}, headers=w.night.headers)
        entry = (
            await client.post(
                f"{API}/estates/{w.estate.id}/shift-log", json={"what": "x", "needs_follow_up": True}, headers=w.night.headers
            )
        ).json()
        r = await client.post(f"{API}/shift-log/{entry['id']}/follow-up", json={"assign_to": str(w.tech.id)}, headers=w.desk.headers)
        assert r.status_code == 409 and r.json()["type"] == "/problems/illegal-transition"
        assert await count_rows(session, ShiftLogEntry, ShiftLogEntry.follow_up_assignee_id.is_not(None)) == 0


class TestBadInput:
    async def test_dispositions_refused_and_nothing_written(self, client, session):
        w = await world(session)
        shift, [first, second] = await handed_over_night(client, w, items=2, quiet=0)
        outsider = await make_staff(session, estates=[w.other], roles=[Role.technician])
        gone = await make_staff(session, estates=[w.estate], roles=[Role.technician], is_active=False)
        cases = [
            (
                {
                    "follow_ups": [
                        {"entry_id": first["id"], "assign_to": str(outsider.id)},
                        {"entry_id": second["id"], "request": as_request()},
                    ]
                },
                422,
                "staff-not-in-estate",
            ),
            (
                {
                    "follow_ups": [
                        {"entry_id": first["id"], "request": as_request()},
                        {"entry_id": second["id"], "assign_to": str(outsider.id)},
                    ]
                },
                422,
                "staff-not-in-estate",
            ),
            (
                {
                    "follow_ups": [
                        {"entry_id": first["id"], "request": as_request(category="rocket")},
                        {"entry_id": second["id"], "assign_to": str(w.tech.id)},
                    ]
                },
                422,
                "unknown-repair-category",
            ),
            (
                {
                    "follow_ups": [
                        {"entry_id": first["id"], "assign_to": str(gone.id)},
                        {"entry_id": second["id"], "assign_to": str(w.tech.id)},
                    ]
                },
                422,
                "staff-not-in-estate",
            ),
            ({"follow_ups": [{"entry_id": str(w.tech.id), "assign_to": str(w.tech.id)}]}, 422, "entry-not-in-shift"),
        ]
        for body, code, kind in cases:
            r = await client.post(f"{API}/shifts/{shift['id']}/accept", json=body, headers=w.desk.headers)
            assert (r.status_code, r.json()["type"]) == (code, f"/problems/{kind}"), r.text
        malformed = [
            {"follow_ups": [{"entry_id": first["id"]}]},
            {"follow_ups": [{"entry_id": first["id"], "assign_to": str(w.tech.id), "request": as_request()}]},
            {
                "follow_ups": [
                    {"entry_id": first["id"], "assign_to": str(w.tech.id)},
                    {"entry_id": first["id"], "assign_to": str(w.tech.id)},
                ]
            },
            {"follow_ups": [{"entry_id": first["id"], "request": as_request(description="")}]},
            {"note": "x" * 2001},
            {"colour": "red"},
            {"follow_ups": [{"entry_id": "nope", "assign_to": str(w.tech.id)}]},
        ]
        for body in malformed:
            r = await client.post(f"{API}/shifts/{shift['id']}/accept", json=body, headers=w.desk.headers)
            assert r.status_code == 422, (body, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
        assert await count_rows(session, ServiceRequest) == 0
        assert await count_rows(session, ShiftLogEntry, ShiftLogEntry.follow_up_by.is_not(None)) == 0
        assert (await fresh_shift(session, shift["id"])).status == ShiftStatus.handed_over

    async def test_no_follow_up_needed_422(self, client, session):
        w = await world(session)
        shift, _ = await handed_over_night(client, w, items=0, quiet=1)
        quiet = (await client.get(f"{API}/shifts/{shift['id']}", headers=w.desk.headers)).json()["entries"][0]
        r = await client.post(f"{API}/shift-log/{quiet['id']}/follow-up", json={"assign_to": str(w.tech.id)}, headers=w.desk.headers)
        assert r.status_code == 422 and r.json()["type"] == "/problems/no-follow-up-needed"
        r = await client.post(f"{API}/shift-log/{w.tech.id}/follow-up", json={"assign_to": str(w.tech.id)}, headers=w.desk.headers)
        assert r.status_code == 404
        for body in ({}, {"assign_to": str(w.tech.id), "note": "a\x00"}, {"assign_to": "x"}):
            r = await client.post(f"{API}/shift-log/{quiet['id']}/follow-up", json=body, headers=w.desk.headers)
            assert r.status_code == 422, body
        assert await count_rows(session, ShiftLogEntry, ShiftLogEntry.follow_up_by.is_not(None)) == 0
