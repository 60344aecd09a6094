"""The estate's characters over HTTP: the setting, and every label, script and message written in it."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.base import utcnow
from app.domain.notifications.model import OwnerNotification
from app.domain.registry.model import Estate, Title
from app.domain.repairs.intake.model import ScriptKey
from app.domain.repairs.model import WorkOrderStatus
from tests.factories import make_staff
from tests.helpers.characters import assert_one_script
from tests.helpers.payments import desk, pay
from tests.helpers.problems import assert_invalid, assert_problem
from tests.registry_factories import count_rows, make_building, make_owner, make_unit, two_estates
from tests.repairs_factories import make_order

API = "/api/v1"


async def script_in_db(session, estate) -> str:
    stmt = select(Estate.script).where(Estate.id == estate.id).execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one()


async def switch(client, estate, admin, script: str = "traditional") -> None:
    r = await client.patch(f"{API}/estates/{estate.id}", json={"script": script}, headers=admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["script"] == script


class TestSetting:
    async def test_anonymous_401(self, client, session):
        estate, _ = await two_estates(session)
        assert (await client.patch(f"{API}/estates/{estate.id}", json={"script": "traditional"})).status_code == 401

    @pytest.mark.parametrize("role", [Role.receptionist, Role.supervisor, Role.finance])
    async def test_only_an_administrator_changes_it(self, client, session, role):
        estate, _ = await two_estates(session)
        staff = await make_staff(session, estates=[estate], roles=[role])
        r = await client.patch(f"{API}/estates/{estate.id}", json={"script": "traditional"}, headers=staff.headers)
        assert_problem(r, 403, "forbidden")
        assert await script_in_db(session, estate) == "simplified"
        assert await count_rows(session, AuditEntry) == 0

    async def test_other_estate_404(self, client, session):
        mine, other = await two_estates(session)
        admin = await make_staff(session, estates=[mine], roles=[Role.admin])
        r = await client.patch(f"{API}/estates/{other.id}", json={"script": "traditional"}, headers=admin.headers)
        assert_problem(r, 404, "estate-not-found")
        assert await script_in_db(session, other) == "simplified"
        assert await count_rows(session, AuditEntry) == 0

    @pytest.mark.parametrize("bad", ["cantonese", "Traditional", "", None, 1, ["traditional"]])
    async def test_bad_value_422_names_the_field_nothing_written(self, client, session, bad):
        estate, _ = await two_estates(session)
        admin = await make_staff(session, estates=[estate], roles=[Role.admin])
        r = await client.patch(f"{API}/estates/{estate.id}", json={"script": bad}, headers=admin.headers)
        assert_invalid(r, "validation-failed", "script")
        assert await script_in_db(session, estate) == "simplified"
        assert await count_rows(session, AuditEntry) == 0

    async def test_simplified_by_default_switched_and_audited(self, client, session):
        estate, _ = await two_estates(session)
        admin = await make_staff(session, estates=[estate], roles=[Role.admin])
        assert (await client.get(f"{API}/estates/{estate.id}", headers=admin.headers)).json()["script"] == "simplified"
        await switch(client, estate, admin)
        assert (await client.get(f"{API}/estates/{estate.id}", headers=admin.headers)).json()["script"] == "traditional"
        entry = (await session.execute(select(AuditEntry).where(AuditEntry.entity == "estate"))).scalar_one()
        assert (entry.before["script"], entry.after["script"]) == ("simplified", "traditional")

    async def test_chosen_when_the_estate_is_set_up(self, client, session):
        estate, _ = await two_estates(session)
        admin = await make_staff(session, estates=[estate], roles=[Role.admin])
        body = {"name": "祥瑞花園", "office_name": "祥瑞花園管理處", "code": "XR"}
        made = await client.post(f"{API}/estates", json=body, headers=admin.headers)
        assert made.status_code == 201 and made.json()["script"] == "simplified"
        made = await client.post(f"{API}/estates", json={**body, "code": "XR2", "script": "traditional"}, headers=admin.headers)
        assert made.status_code == 201 and made.json()["script"] == "traditional"
        bad = await client.post(f"{API}/estates", json={**body, "code": "XR3", "script": "kanji"}, headers=admin.headers)
        assert_invalid(bad, "validation-failed", "script")
        assert await count_rows(session, Estate, Estate.code == "XR3") == 0


@pytest.fixture
async def o(session):
    """8号楼, its entrance typed 「2单元」 (once written 「2单元单元301」), an owner, a desk and an admin."""
    estate, _ = await two_estates(session)
    estate.office_name = "淇水春天管理處"
    session.add(estate)
    await session.commit()
    unit = await make_unit(session, building=await make_building(session, estate=estate, number=8, name="8号楼"),
                           entrance="2单元", number="301")
    await make_owner(session, estate=estate, full_name="王建國", title=Title.mr, phones=["133 5173 7459"], units=[unit])
    tech = await make_staff(session, estates=[estate], roles=[Role.technician], full_name="张师傅")
    order = await make_order(session, estate=estate, unit=unit, technician=tech.user, status=WorkOrderStatus.in_progress)
    return {"estate": estate, "unit": unit, "order": order, "tech": tech,
            "desk": await make_staff(session, estates=[estate]),
            "admin": await make_staff(session, estates=[estate], roles=[Role.admin])}


async def labels_everywhere(client, o) -> set[str]:
    """The unit's label as the unit, the order, the task sheet, the order list and the daily log write it."""
    h, e = o["desk"].headers, o["estate"]
    unit = (await client.get(f"{API}/units/{o['unit'].id}", headers=h)).json()
    order = (await client.get(f"{API}/work-orders/{o['order'].id}", headers=h)).json()
    sheet = (await client.get(f"{API}/work-orders/{o['order'].id}/task-sheet", headers=h)).json()
    listed = (await client.get(f"{API}/estates/{e.id}/work-orders", headers=h)).json()["items"]
    log = (await client.get(f"{API}/estates/{e.id}/repairs/daily-log", headers=h)).json()["rows"]
    return {unit["label"], order["unit_label"], sheet["unit_label"], *(x["unit_label"] for x in listed), *(x["place"] for x in log)}


async def say(client, o, key: ScriptKey, **body) -> str:
    r = await client.post(f"{API}/estates/{o['estate'].id}/phone-scripts/{key.value}/render", json=body, headers=o["desk"].headers)
    assert r.status_code == 200, r.text
    return r.json()["text"]


class TestWrittenInTheEstatesCharacters:
    async def test_one_label_everywhere_simplified_then_traditional(self, client, o):
        assert await labels_everywhere(client, o) == {"8号楼2单元301"}
        await switch(client, o["estate"], o["admin"])
        assert await labels_everywhere(client, o) == {"8號樓2單元301"}

    async def test_scripts_simplified_by_default_traditional_after_the_switch(self, client, session, o):
        greeting = await say(client, o, ScriptKey.greeting)
        assert greeting == "您好！淇水春天管理处，请讲"
        busy = await say(client, o, ScriptKey.technician_busy, technician_id=str(o["tech"].id), phone="13351737459")
        assert busy.startswith("王先生，对不起") and "8号楼" in busy
        await switch(client, o["estate"], o["admin"])
        assert await say(client, o, ScriptKey.greeting) == "您好！淇水春天管理處，請講"
        busy = await say(client, o, ScriptKey.technician_busy, technician_id=str(o["tech"].id), phone="13351737459")
        assert busy.startswith("王先生，對不起") and "8號樓" in busy

    @pytest.mark.parametrize("script", ["simplified", "traditional"])
    async def test_every_script_and_read_back_is_wholly_in_one_script(self, client, o, script):
        if script == "traditional":
            await switch(client, o["estate"], o["admin"])
        start = utcnow() + timedelta(days=1)
        body = {"channel": "phone", "category": "plumbing", "description": "卫生間水龍頭漏水", "contact_phone": "13351737459",
                "window_start": start.isoformat(), "window_end": (start + timedelta(hours=1)).isoformat()}
        made = await client.post(f"{API}/estates/{o['estate'].id}/service-requests", json=body, headers=o["desk"].headers)
        assert made.status_code == 201, made.text
        assert_one_script(made.json()["read_back"], script)
        for key in ScriptKey:
            said = await say(client, o, key, request_id=made.json()["id"], technician_id=str(o["tech"].id))
            assert_one_script(said, script)
        listed = (await client.get(f"{API}/estates/{o['estate'].id}/phone-scripts", headers=o["desk"].headers)).json()
        for template in listed:
            assert_one_script(template["text"], script)

    async def test_repair_categories_are_named_in_its_characters(self, client, o):
        await switch(client, o["estate"], o["admin"])
        r = await client.get(f"{API}/estates/{o['estate'].id}/repair-categories", headers=o["desk"].headers)
        assert r.status_code == 200, r.text
        assert [c["name"] for c in r.json()["items"]] == ["水暖", "電氣", "門窗", "公共區域", "其他"]

    async def test_notifications_follow_the_switch(self, client, session):
        d = await desk(session)
        d.estate.office_name = "淇水春天管理處"
        session.add(d.estate)
        await session.commit()
        await make_owner(session, estate=d.estate, full_name="王建國", title=Title.mr, phones=["138 0013 8000"], units=[d.unit])
        admin = await make_staff(session, estates=[d.estate], roles=[Role.admin])
        assert (await pay(client, d, amount="160.56")).status_code == 201
        await switch(client, d.estate, admin)
        assert (await pay(client, d, amount="45.00")).status_code == 201
        stmt = select(OwnerNotification.text).order_by(OwnerNotification.created_at)
        first, second = (await session.execute(stmt)).scalars().all()
        assert "8号楼2单元301" in first and first.endswith("淇水春天管理处")
        assert "8號樓2單元301" in second and second.endswith("淇水春天管理處")
        assert_one_script(first, "simplified")
        assert_one_script(second, "traditional")
