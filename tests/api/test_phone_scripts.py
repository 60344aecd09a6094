"""Phone scripts over HTTP: the four defaults, editing the wording, rendering for a real call."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.registry.model import Title
from app.domain.repairs.intake.model import ScriptTemplate
from app.domain.repairs.model import WorkOrder, WorkOrderStatus
from tests.factories import make_staff
from tests.registry_factories import count_rows, make_building, make_owner, make_unit, two_estates
from tests.repairs_factories import make_order

API = "/api/v1"


@pytest.fixture
async def call(session):
    estate, other = await two_estates(session)
    b8 = await make_building(session, estate=estate, number=8, name="8号楼")
    u301 = await make_unit(session, building=b8, entrance="2", number="301")
    wang = await make_owner(session, estate=estate, full_name="王建國", title=Title.mr, phones=["133 5173 7459"], units=[u301])
    zhao = await make_owner(session, estate=estate, full_name="趙小明", phones=["139 1111 2222"])
    return {
        "estate": estate, "other": other, "b8": b8, "u301": u301, "wang": wang, "zhao": zhao,
        "desk": await make_staff(session, estates=[estate]),
        "boss": await make_staff(session, estates=[estate], roles=[Role.supervisor]),
        "tech": await make_staff(session, estates=[estate], roles=[Role.technician], full_name="張師傅"),
    }


def scripts_url(estate, key: str | None = None, render: bool = False) -> str:
    base = f"{API}/estates/{estate.id}/phone-scripts"
    return base + (f"/{key}" if key else "") + ("/render" if render else "")


async def say(client, call, key: str, **body) -> dict:
    r = await client.post(scripts_url(call["estate"], key, render=True), json=body, headers=call["desk"].headers)
    assert r.status_code == 200, r.text
    return r.json()


class TestPermissions:
    async def test_anonymous_401(self, client, call):
        assert (await client.get(scripts_url(call["estate"]))).status_code == 401
        assert (await client.put(scripts_url(call["estate"], "greeting"), json={"text": "喂"})).status_code == 401
        assert (await client.post(scripts_url(call["estate"], "greeting", render=True), json={})).status_code == 401

    async def test_desk_reads_and_renders_but_does_not_reword(self, client, session, call):
        r = await client.put(scripts_url(call["estate"], "greeting"), json={"text": "喂"}, headers=call["desk"].headers)
        assert r.status_code == 403
        agency = await make_staff(session, estates=[call["estate"]], roles=[Role.agency])
        assert (await client.get(scripts_url(call["estate"]), headers=agency.headers)).status_code == 403
        assert (await client.post(scripts_url(call["estate"], "greeting", render=True), json={}, headers=agency.headers)).status_code == 403
        assert await count_rows(session, ScriptTemplate) == 0

    async def test_other_estate_404(self, client, session, call):
        boss = call["boss"]
        assert (await client.get(scripts_url(call["other"]), headers=boss.headers)).status_code == 404
        assert (await client.put(scripts_url(call["other"], "greeting"), json={"text": "喂"}, headers=boss.headers)).status_code == 404
        r = await client.post(scripts_url(call["other"], "greeting", render=True), json={}, headers=boss.headers)
        assert r.status_code == 404
        assert await count_rows(session, ScriptTemplate) == 0


class TestTemplates:
    async def test_four_defaults(self, client, call):
        r = await client.get(scripts_url(call["estate"]), headers=call["desk"].headers)
        assert r.status_code == 200
        scripts = {s["key"]: s for s in r.json()}
        assert list(scripts) == ["greeting", "confirmation", "closing", "technician_busy"]
        assert all(s["is_default"] for s in scripts.values())
        # The default wording shows in the estate's characters: simplified unless it chose traditional.
        assert scripts["greeting"]["text"] == "您好！{office_name}，请讲"
        assert "building" in scripts["technician_busy"]["placeholders"]

    async def test_reword_then_render(self, client, session, call):
        r = await client.put(scripts_url(call["estate"], "greeting"), json={"text": "您好！祥瑞物業／{office_name}，請講"},
                             headers=call["boss"].headers)
        assert r.status_code == 200, r.text
        assert (r.json()["is_default"], r.json()["updated_at"] is not None) == (False, True)
        assert (await say(client, call, "greeting"))["text"] == "您好！祥瑞物业／淇水春天管理处，请讲"
        r = await client.put(scripts_url(call["estate"], "greeting"), json={"text": "{office_name}，您好"}, headers=call["boss"].headers)
        assert r.status_code == 200
        listed = (await client.get(scripts_url(call["estate"]), headers=call["desk"].headers)).json()
        assert [(s["key"], s["is_default"]) for s in listed] == [
            ("greeting", False), ("confirmation", True), ("closing", True), ("technician_busy", True)]
        assert await count_rows(session, ScriptTemplate) == 1
        assert await count_rows(session, AuditEntry, AuditEntry.entity == "script_template") == 2

    @pytest.mark.parametrize("key,text,problem", [
        ("greeting", "您好{building}", "unknown-placeholder"),
        ("closing", "{owner}再見", "unknown-placeholder"),
        ("closing", "{caller再見", "malformed-template"),
        ("closing", "{caller.__class__}", "malformed-template"),
        ("closing", "{0}", "malformed-template"),
        ("closing", "", "validation-failed"),
        ("closing", "x" * 1001, "validation-failed"),
        ("closing", "再見\x00", "validation-failed"),
        ("farewell", "再見", "validation-failed"),
    ])
    async def test_bad_template_422_nothing_written(self, client, session, call, key, text, problem):
        r = await client.put(scripts_url(call["estate"], key), json={"text": text}, headers=call["boss"].headers)
        assert r.status_code == 422
        assert r.json()["type"] == f"/problems/{problem}"
        assert await count_rows(session, ScriptTemplate) == 0


class TestRender:
    async def test_greeting_names_the_office(self, client, call):
        said = await say(client, call, "greeting")
        assert (said["text"], said["missing"]) == ("您好！淇水春天管理处，请讲", [])

    @pytest.mark.parametrize("phone", ["133 5173 7459", "+86 13351737459"])
    async def test_closing_addresses_the_caller_by_phone(self, client, call, phone):
        said = await say(client, call, "closing", phone=phone)
        assert said["text"] == "我们将在约定时间内到达您家进行维修或处理。王先生，再见。"

    async def test_owner_without_title_is_called_by_full_name(self, client, call):
        assert (await say(client, call, "closing", owner_id=str(call["zhao"].id)))["text"].endswith("赵小明，再见。")

    async def test_unknown_caller_is_reported_missing(self, client, call):
        said = await say(client, call, "closing", phone="139 0000 0000")
        assert said["text"].endswith("业主，再见。") and said["missing"] == ["caller"]

    async def test_confirmation_reads_back_a_request(self, client, call):
        body = {"channel": "phone", "category": "plumbing", "description": "水龍頭漏水", "contact_phone": "13351737459",
                "window_start": "2024-11-29T08:00:00+08:00", "window_end": "2024-11-29T12:00:00+08:00"}
        made = await client.post(f"{API}/estates/{call['estate'].id}/service-requests", json=body, headers=call["desk"].headers)
        said = await say(client, call, "confirmation", request_id=made.json()["id"])
        number = made.json()["number"]
        assert said["text"] == (
            f"王先生，您报修的8号楼2单元301水龙头漏水，我们将于11月29日上午安排维修人员上门，请保持电话13351737459畅通。"
            f"报修单号{number}。")
        assert said["text"] == made.json()["read_back"]

    async def test_a_customised_confirmation_keeps_working(self, client, call):
        body = {"channel": "phone", "category": "plumbing", "description": "水龍頭漏水", "contact_phone": "13351737459"}
        url = f"{API}/estates/{call['estate'].id}/service-requests"
        # Worded before the phone was read back: it says what it always said.
        r = await client.put(scripts_url(call["estate"], "confirmation"), json={"text": "{caller}，{address}{description}，記下了"},
                             headers=call["boss"].headers)
        assert r.status_code == 200, r.text
        made = (await client.post(url, json=body, headers=call["desk"].headers)).json()
        assert made["read_back"] == "王先生，8号楼2单元301水龙头漏水，记下了"
        r = await client.put(scripts_url(call["estate"], "confirmation"), json={"text": "{caller}，電話{phone}，對嗎？"},
                             headers=call["boss"].headers)
        assert r.status_code == 200, r.text
        said = await say(client, call, "confirmation", request_id=made["id"])
        assert (said["text"], said["missing"]) == ("王先生，电话13351737459，对吗？", [])

    async def test_technician_busy_names_the_building_he_is_in(self, client, session, call):
        tech = call["tech"]
        assert (await say(client, call, "technician_busy", technician_id=str(tech.id)))["missing"] == ["caller", "building"]
        b5 = await make_building(session, estate=call["estate"], number=5, name="5号楼")
        order = await make_order(session, estate=call["estate"], unit=await make_unit(session, building=b5), technician=tech.user,
                                 status=WorkOrderStatus.dispatched)
        # Dispatched for an hour that is not now: he is not there yet.
        assert (await say(client, call, "technician_busy", technician_id=str(tech.id)))["missing"] == ["caller", "building"]
        row = await session.get(WorkOrder, order.id)
        row.scheduled_start, row.scheduled_end = utcnow() - timedelta(minutes=30), utcnow() + timedelta(minutes=30)
        await session.commit()
        said = await say(client, call, "technician_busy", technician_id=str(tech.id), phone="133 5173 7459")
        assert said["text"] == ("王先生，对不起，我们的维修师傅张师傅现正在5号楼维修，"
                                "我现在就和维修师傅联系，马上给您回复确定维修的时间好么？")
        # The job he has started wins over the one merely booked for now.
        await make_order(session, estate=call["estate"], unit=call["u301"], technician=tech.user, status=WorkOrderStatus.in_progress)
        said = await say(client, call, "technician_busy", technician_id=str(tech.id))
        assert "现正在8号楼维修" in said["text"]

    async def test_technician_busy_unnamed_says_who_is_busy_and_where(self, client, session, call):
        said = await say(client, call, "technician_busy")
        assert "现正在别处维修" in said["text"] and said["missing"] == ["caller", "technician", "building"]
        # The estate's only technician is on a job in 5号楼: the desk need not name him to say so.
        b5 = await make_building(session, estate=call["estate"], number=5, name="5号楼")
        await make_order(session, estate=call["estate"], unit=await make_unit(session, building=b5), technician=call["tech"].user,
                         status=WorkOrderStatus.in_progress)
        said = await say(client, call, "technician_busy", phone="133 5173 7459")
        assert (said["text"], said["missing"]) == (
            "王先生，对不起，我们的维修师傅张师傅现正在5号楼维修，我现在就和维修师傅联系，马上给您回复确定维修的时间好么？", [])
        # A second one booked for now in 8号楼; a third free, and another estate's busy one, are not said.
        li = await make_staff(session, estates=[call["estate"]], roles=[Role.technician], full_name="李強")
        await make_staff(session, estates=[call["estate"]], roles=[Role.technician], full_name="劉洋")
        order = await make_order(session, estate=call["estate"], unit=call["u301"], technician=li.user, status=WorkOrderStatus.dispatched)
        row = await session.get(WorkOrder, order.id)
        row.scheduled_start, row.scheduled_end = utcnow() - timedelta(minutes=10), utcnow() + timedelta(minutes=50)
        foreign = await make_staff(session, estates=[call["other"]], roles=[Role.technician], full_name="錢師傅")
        await make_order(session, estate=call["other"], technician=foreign.user, status=WorkOrderStatus.in_progress)
        await session.commit()
        said = await say(client, call, "technician_busy")
        assert "我们的维修师傅张师傅、李强现正在5号楼、8号楼维修" in said["text"] and said["missing"] == ["caller"]

    async def test_bad_references_422(self, client, session, call):
        foreign = await make_owner(session, estate=call["other"], full_name="錢七")
        foreign_tech = await make_staff(session, estates=[call["other"]], roles=[Role.technician])
        theirs = await make_order(session, estate=call["other"])
        cases = [
            ({"phone": "12"}, "unreadable-phone"),
            ({"owner_id": str(foreign.id)}, "owner-not-in-estate"),
            ({"technician_id": str(foreign_tech.id)}, "technician-not-in-estate"),
            ({"technician_id": str(call["desk"].id)}, "technician-not-in-estate"),
            ({"request_id": str(theirs.request_id)}, "request-not-in-estate"),
            ({"owner_id": "x"}, "validation-failed"),
            ({"phone": "1" * 61}, "validation-failed"),
        ]
        for body, problem in cases:
            r = await client.post(scripts_url(call["estate"], "technician_busy", render=True), json=body, headers=call["desk"].headers)
            assert r.status_code == 422, body
            assert r.json()["type"] == f"/problems/{problem}", body
        r = await client.post(scripts_url(call["estate"], "farewell", render=True), json={}, headers=call["desk"].headers)
        assert r.status_code == 422
