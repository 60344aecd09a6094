"""Service requests (服務登記): intake from four channels, owner linking, read-back, list, close."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.registry.model import Title
from app.domain.repairs.model import ServiceRequest, WorkOrder, WorkOrderStatus
from tests.factories import make_staff
from tests.helpers.problems import assert_422
from tests.registry_factories import count_rows, make_building, make_owner, make_unit, two_estates
from tests.repairs_factories import make_order

API = "/api/v1"
# 29 November, 08:00-12:00 in Shanghai.
MORNING = ("2024-11-29T08:00:00+08:00", "2024-11-29T12:00:00+08:00")


@pytest.fixture
async def desk(session):
    """8号楼 2單元 301 owned by 王建國 (先生, 133 5173 7459); 9号楼 101; a receptionist; another estate."""
    estate, other = await two_estates(session)
    b8 = await make_building(session, estate=estate, number=8, name="8号楼")
    u301 = await make_unit(session, building=b8, entrance="2", number="301")
    u101 = await make_unit(session, building=await make_building(session, estate=estate, number=9, name="9号楼"), entrance="", number="101")
    wang = await make_owner(session, estate=estate, full_name="王建國", title=Title.mr, phones=["133 5173 7459"], units=[u301])
    foreign_unit = await make_unit(session, building=await make_building(session, estate=other, number=8))
    staff = await make_staff(session, estates=[estate])
    return {"estate": estate, "other": other, "b8": b8, "u301": u301, "u101": u101, "wang": wang,
            "foreign_unit": foreign_unit, "staff": staff}


def repair(**kw) -> dict:
    return {"channel": "phone", "category": "plumbing", "description": "水龍頭漏水", "contact_phone": "133 5173 7459",
            "window_start": MORNING[0], "window_end": MORNING[1], **kw}


async def post(client, desk, body, staff=None):
    staff = staff or desk["staff"]
    return await client.post(f"{API}/estates/{desk['estate'].id}/service-requests", json=body, headers=staff.headers)


class TestPermissions:
    async def test_anonymous_401(self, client, session, desk):
        order = await make_order_for(session, desk)
        url = f"{API}/estates/{desk['estate'].id}/service-requests"
        assert (await client.post(url, json=repair())).status_code == 401
        assert (await client.get(url)).status_code == 401
        assert (await client.get(f"{API}/service-requests/{order.request_id}")).status_code == 401
        assert (await client.post(f"{API}/service-requests/{order.request_id}/close", json={"note": "x"})).status_code == 401

    async def test_roles_without_the_permission_403(self, client, session, desk):
        order = await make_order_for(session, desk)
        finance = await make_staff(session, estates=[desk["estate"]], roles=[Role.finance])
        clerk = await make_staff(session, estates=[desk["estate"]], roles=[Role.records_clerk])
        assert (await client.get(f"{API}/estates/{desk['estate'].id}/service-requests", headers=finance.headers)).status_code == 403
        assert (await client.get(f"{API}/service-requests/{order.request_id}", headers=finance.headers)).status_code == 403
        assert (await post(client, desk, repair(), staff=clerk)).status_code == 403
        r = await client.post(f"{API}/service-requests/{order.request_id}/close", json={"note": "x"}, headers=clerk.headers)
        assert r.status_code == 403
        assert (await client.get(f"{API}/service-requests/{order.request_id}", headers=clerk.headers)).status_code == 200
        assert await count_rows(session, ServiceRequest) == 1
        assert await count_rows(session, WorkOrder, WorkOrder.status == WorkOrderStatus.pending_dispatch.value) == 1

    async def test_other_estates_records_404(self, client, session, desk):
        theirs = await make_order(session, estate=desk["other"], unit=desk["foreign_unit"])
        r = await client.post(f"{API}/estates/{desk['other'].id}/service-requests", json=repair(), headers=desk["staff"].headers)
        assert r.status_code == 404
        assert (await client.get(f"{API}/estates/{desk['other'].id}/service-requests", headers=desk["staff"].headers)).status_code == 404
        assert (await client.get(f"{API}/service-requests/{theirs.request_id}", headers=desk["staff"].headers)).status_code == 404
        r = await client.post(f"{API}/service-requests/{theirs.request_id}/close", json={"note": "x"}, headers=desk["staff"].headers)
        assert r.status_code == 404
        assert await count_rows(session, ServiceRequest) == 1
        assert (await session.get(WorkOrder, theirs.id)).status == WorkOrderStatus.pending_dispatch.value


async def make_order_for(session, desk, **kw):
    return await make_order(session, estate=desk["estate"], unit=desk["u301"], **kw)


class TestIntake:
    @pytest.mark.parametrize("typed", ["133 5173 7459", "+86 133-5173-7459", "13351737459"])
    async def test_phone_links_owner_and_only_unit_and_orders_the_repair(self, client, session, desk, typed):
        r = await post(client, desk, repair(contact_phone=typed))
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["owner_id"], body["unit_id"]) == (str(desk["wang"].id), str(desk["u301"].id))
        assert (body["contact_phone"], body["contact_name"], body["status"]) == ("13351737459", "王建國", "ordered")
        assert (body["reporter_id"], body["registered_by"]) == (None, str(desk["staff"].id))
        assert body["is_public_area"] is False and body["work_order_status"] == "pending_dispatch"
        assert body["read_back"] == (
            f"王先生，您报修的8号楼2单元301水龙头漏水，我们将于11月29日上午安排维修人员上门，请保持电话13351737459畅通。"
            f"报修单号{body['number']}。")
        order = await session.get(WorkOrder, body["work_order_id"])
        assert (order.status, order.category, order.unit_id, order.building_id) == (
            "pending_dispatch", "plumbing", desk["u301"].id, desk["b8"].id)
        actions = (await session.execute(select(AuditEntry.entity, AuditEntry.action).order_by(AuditEntry.at))).all()
        assert sorted(actions) == [("service_request", "create"), ("work_order", "create")]
        got = await client.get(f"{API}/service-requests/{body['id']}", headers=desk["staff"].headers)
        assert got.status_code == 200 and got.json() == body

    async def test_named_unit_wins_over_the_owners_unit(self, client, desk):
        r = await post(client, desk, repair(unit_id=str(desk["u101"].id), window_start=None, window_end=None, urgency="urgent"))
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["owner_id"], body["unit_id"], body["urgency"]) == (str(desk["wang"].id), str(desk["u101"].id), "urgent")
        assert body["read_back"] == (
            f"王先生，您报修的9号楼101水龙头漏水，我们将于约定时间安排维修人员上门，请保持电话13351737459畅通。"
            f"报修单号{body['number']}。")

    async def test_unknown_number_links_nobody(self, client, desk):
        r = await post(client, desk, repair(contact_phone="139 0000 0000", contact_name="張三", unit_id=str(desk["u101"].id)))
        assert r.status_code == 201, r.text
        assert (r.json()["owner_id"], r.json()["contact_phone"]) == (None, "13900000000")
        assert r.json()["read_back"].startswith("张三，您报修的9号楼101")

    async def test_public_location(self, client, session, desk):
        r = await post(client, desk, repair(location="3号楼电梯厅", category="public_area", description="燈不亮"))
        assert r.status_code == 201, r.text
        body = r.json()
        # The caller is still the owner; the place is not their home.
        assert (body["owner_id"], body["unit_id"], body["is_public_area"]) == (str(desk["wang"].id), None, True)
        assert "您报修的3号楼电梯厅灯不亮" in body["read_back"]
        order = await session.get(WorkOrder, body["work_order_id"])
        assert (order.is_public_area, order.building_id) == (True, None)

    @pytest.mark.parametrize("channel,role", [("technician_patrol", Role.technician), ("manager_patrol", Role.manager)])
    async def test_patrol_reporter_is_the_staff_member(self, client, session, desk, channel, role):
        patrol = await make_staff(session, estates=[desk["estate"]], roles=[role])
        r = await post(client, desk, repair(channel=channel), staff=patrol)
        assert r.status_code == 201, r.text
        assert (r.json()["reporter_id"], r.json()["registered_by"]) == (str(patrol.id), str(patrol.id))
        assert r.json()["owner_id"] == str(desk["wang"].id)

    async def test_walk_in_enquiry_has_no_order(self, client, session, desk):
        r = await post(
            client, desk, {"channel": "walk_in", "kind": "enquiry", "description": "物業費怎麼算", "unit_id": str(desk["u301"].id)}
        )
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["status"], body["work_order_id"], body["category"], body["reporter_id"]) == ("open", None, "", None)
        assert await count_rows(session, WorkOrder) == 0

    async def test_bad_input_422_nothing_written(self, client, session, desk):
        await client.put(
            f"{API}/estates/{desk['estate'].id}/repair-categories/gas",
            json={"name": "燃氣", "active": False},
            headers=(await make_staff(session, estates=[desk["estate"]], roles=[Role.supervisor])).headers,
        )
        naive = ("2024-11-29T08:00:00", "2024-11-29T12:00:00")
        cases = [
            (repair(category="gas"), "unknown-repair-category"),
            (repair(category="heating"), "unknown-repair-category"),
            ({k: v for k, v in repair().items() if k != "category"}, "category-required"),
            (repair(unit_id=str(desk["foreign_unit"].id)), "unit-not-in-estate"),
            (repair(contact_phone="12"), "unreadable-phone"),
            (repair(contact_phone="139 0000 0000"), "need-unit-or-location"),
            (repair(window_start=naive[0], window_end=naive[1]), "validation-failed"),
            (repair(window_start=MORNING[1], window_end=MORNING[0]), "validation-failed"),
            (repair(window_end=None), "validation-failed"),
            (repair(channel="email"), "validation-failed"),
            (repair(kind="complaint"), "validation-failed"),
            (repair(description=""), "validation-failed"),
            (repair(description="x" * 4001), "validation-failed"),
            (repair(description="漏水\x00"), "validation-failed"),
            (repair(location="x" * 201), "validation-failed"),
            (repair(unit_id="301"), "validation-failed"),
        ]
        for body, problem in cases:
            r = await post(client, desk, body)
            assert r.status_code == 422, (body, r.text)
            assert r.json()["type"] == f"/problems/{problem}", (body, r.text)
        assert await count_rows(session, ServiceRequest) == 0
        assert await count_rows(session, WorkOrder) == 0
        assert await count_rows(session, AuditEntry, AuditEntry.entity.in_(["service_request", "work_order"])) == 0


class TestClose:
    async def test_enquiry_closed_once(self, client, session, desk):
        made = await post(client, desk, {"channel": "phone", "kind": "enquiry", "description": "停水通知", "location": "全小區"})
        url = f"{API}/service-requests/{made.json()['id']}/close"
        r = await client.post(url, json={"note": "已告知明天恢復供水"}, headers=desk["staff"].headers)
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["closed_note"]) == ("closed_at_desk", "已告知明天恢復供水")
        assert r.json()["closed_at"] is not None
        again = await client.post(url, json={"note": "again"}, headers=desk["staff"].headers)
        assert again.status_code == 409
        assert again.json()["type"] == "/problems/request-already-closed"
        assert again.json()["current_state"] == "closed_at_desk"
        assert await count_rows(session, AuditEntry, AuditEntry.action == "close") == 1

    async def test_repair_waiting_for_dispatch_cancels_its_order(self, client, session, desk):
        made = (await post(client, desk, repair())).json()
        r = await client.post(f"{API}/service-requests/{made['id']}/close", json={"note": "業主已自行修好"}, headers=desk["staff"].headers)
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["work_order_status"]) == ("closed_at_desk", "cancelled")
        session.expire_all()
        order = await session.get(WorkOrder, made["work_order_id"])
        assert (order.status, order.cancel_reason) == ("cancelled", "業主已自行修好")
        assert await count_rows(session, AuditEntry, AuditEntry.action == "work_order.cancel") == 1

    async def test_repair_already_dispatched_409(self, client, session, desk):
        tech = await make_staff(session, estates=[desk["estate"]], roles=[Role.technician])
        order = await make_order_for(session, desk, technician=tech.user, status=WorkOrderStatus.dispatched)
        r = await client.post(f"{API}/service-requests/{order.request_id}/close", json={"note": "x"}, headers=desk["staff"].headers)
        assert r.status_code == 409
        assert (r.json()["type"], r.json()["current_state"]) == ("/problems/order-already-underway", "dispatched")
        request_id = order.request_id
        session.expire_all()
        assert (await session.get(ServiceRequest, request_id)).status == "ordered"

    async def test_bad_note_422(self, client, session, desk):
        order = await make_order_for(session, desk)
        for body in ({}, {"note": ""}, {"note": "  "}, {"note": "x" * 501}, {"note": "\x00"}):
            r = await client.post(f"{API}/service-requests/{order.request_id}/close", json=body, headers=desk["staff"].headers)
            assert r.status_code == 422, body
            assert_422(r, "note")
        order_id = order.id
        session.expire_all()
        assert (await session.get(WorkOrder, order_id)).status == "pending_dispatch"


class TestList:
    async def test_filters_sort_page(self, client, session, desk):
        a = (await post(client, desk, repair(description="水龍頭漏水"))).json()
        b = (
            await post(
                client,
                desk,
                repair(
                    description="跳閘",
                    category="electrical",
                    contact_phone="139 0000 0000",
                    unit_id=str(desk["u101"].id),
                    channel="walk_in",
                ),
            )
        ).json()
        c = (await post(client, desk, {"channel": "phone", "kind": "enquiry", "description": "物業費", "location": "前臺"})).json()
        tech = await make_staff(session, estates=[desk["estate"]], roles=[Role.technician])
        d = (await post(client, desk, repair(channel="technician_patrol", description="樓道漏水"), staff=tech)).json()

        async def ids(**params) -> list[str]:
            r = await client.get(f"{API}/estates/{desk['estate'].id}/service-requests", params=params, headers=desk["staff"].headers)
            assert r.status_code == 200, r.text
            return [x["id"] for x in r.json()["items"]]

        assert await ids() == [d["id"], c["id"], b["id"], a["id"]]
        assert await ids(status="open") == [c["id"]]
        assert await ids(kind="repair", sort="created_at") == [a["id"], b["id"], d["id"]]
        assert await ids(channel="walk_in") == [b["id"]]
        assert await ids(category="electrical") == [b["id"]]
        assert await ids(unit_id=str(desk["u101"].id)) == [b["id"]]
        assert await ids(owner_id=str(desk["wang"].id)) == [d["id"], a["id"]]
        assert await ids(q="漏水") == [d["id"], a["id"]]
        assert await ids(created_from=c["created_at"]) == [d["id"], c["id"]]
        assert await ids(created_to=b["created_at"]) == [a["id"]]
        assert await ids(limit=1, offset=1) == [c["id"]]
        r = await client.get(f"{API}/estates/{desk['estate'].id}/service-requests", params={"limit": 2}, headers=desk["staff"].headers)
        assert r.json()["total"] == 4 and r.json()["items"][0]["read_back"].startswith("王先生")

    async def test_technician_sees_own_reports_and_orders(self, client, session, desk):
        tech = await make_staff(session, estates=[desk["estate"]], roles=[Role.technician])
        mine = (await post(client, desk, repair(channel="technician_patrol"), staff=tech)).json()
        assigned = await make_order_for(session, desk, technician=tech.user, status=WorkOrderStatus.dispatched)
        other = (await post(client, desk, repair())).json()
        r = await client.get(f"{API}/estates/{desk['estate'].id}/service-requests", headers=tech.headers)
        assert sorted(x["id"] for x in r.json()["items"]) == sorted([mine["id"], str(assigned.request_id)])
        assert (await client.get(f"{API}/service-requests/{other['id']}", headers=tech.headers)).status_code == 404

    @pytest.mark.parametrize(
        "params",
        [
            {"status": "done"},
            {"channel": "fax"},
            {"unit_id": "x"},
            {"created_from": "2024-11-29T08:00:00"},
            {"q": "a\x00"},
            {"q": "x" * 101},
            {"sort": "owner"},
            {"limit": 0},
        ],
    )
    async def test_bad_query_422(self, client, desk, params):
        r = await client.get(f"{API}/estates/{desk['estate'].id}/service-requests", params=params, headers=desk["staff"].headers)
        assert r.status_code == 422, params
        assert_422(r, next(iter(params)))
