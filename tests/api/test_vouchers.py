"""Completion vouchers: posting one completes the order and schedules its callback."""
from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.auth.roles import Role
from app.domain.callbacks.model import Callback
from app.domain.repairs.model import WorkOrder
from app.domain.repairs.vouchers.model import Voucher
from tests import images
from tests.factories import make_staff
from tests.helpers.problems import assert_422, assert_problem
from tests.helpers.vouchers import API, S, body, issue_code, nothing_written, post, posted, scene, stored_files
from tests.registry_factories import count_rows, make_building, make_unit
from tests.repairs_factories import make_order

# Real pictures: an upload must decode as the image it claims to be.
JPEG, PNG = images.JPEG, images.PNG


class TestPostVoucherPermissions:
    async def test_anonymous_401_desk_403(self, client, session, settings):
        sc = await scene(session)
        order = await make_order(session, estate=sc.estate, unit=sc.unit, technician=sc.tech.user, status=S.dispatched)
        r = await client.post(f"{API}/work-orders/{order.id}/voucher", data={"voucher": json.dumps(body())})
        assert r.status_code == 401
        assert (await post(client, order, sc.desk, body())).status_code == 403
        await nothing_written(session, order.id, settings, status=S.dispatched)

    async def test_another_technicians_order_404(self, client, session, settings):
        sc = await scene(session)
        order = await make_order(session, estate=sc.estate, unit=sc.unit, technician=sc.tech.user, status=S.in_progress)
        someone = await make_staff(session, estates=[sc.estate], roles=[Role.technician])
        outsider = await make_staff(session, estates=[sc.other], roles=[Role.technician])
        code = await issue_code(client, order, sc.desk)
        for staff in (someone, outsider):
            r = await post(client, order, staff, body(owner_confirmation={"name": "王建國", "code": code}), {"photos": ("a.jpg", JPEG)})
            assert r.status_code == 404, r.text
        await nothing_written(session, order.id, settings, status=S.in_progress)


class TestPostVoucher:
    async def test_dispatched_order_with_code_is_started_completed_and_called_back(self, client, session, settings):
        sc = await scene(session)
        order = await make_order(session, estate=sc.estate, unit=sc.unit, technician=sc.tech.user, status=S.dispatched)
        code = await issue_code(client, order, sc.desk)
        materials = [{"item": "閥芯", "quantity": "1", "unit": "個"}, {"item": "生料帶", "quantity": "0.5", "unit": "卷"}]
        r = await post(client, order, sc.tech, body(materials=materials, chargeable=True, amount="35.00",
                                                   owner_confirmation={"name": "王建國", "code": code}))
        assert r.status_code == 201, r.text
        v = r.json()
        assert (v["order_status"], v["round"], v["owner_confirmed_by"], v["owner_confirmed_name"]) == ("completed", 1, "code", "王建國")
        assert (v["amount"], v["chargeable"], v["is_public_area"], v["technician_id"]) == ("35.00", True, False, str(sc.tech.id))
        assert [(m["line_no"], m["item"], m["quantity"], m["unit"]) for m in v["materials"]] == [
            (1, "閥芯", "1.00", "個"), (2, "生料帶", "0.50", "卷")]
        assert v["files"] == []
        done = (await session.execute(select(WorkOrder).where(WorkOrder.id == order.id)
                                      .execution_options(populate_existing=True))).scalar_one()
        assert done.status == S.completed and done.started_at == done.completed_at
        # The trail shows both moves: started, then completed.
        actions = (await session.execute(select(AuditEntry.action).where(AuditEntry.entity_id == str(order.id))
                                         .order_by(AuditEntry.id))).scalars().all()
        assert actions == ["work_order.start", "work_order.complete"]
        callback = (await session.execute(select(Callback).where(Callback.work_order_id == order.id))).scalar_one()
        assert str(callback.id) == v["callback_id"] and callback.round == 1 and callback.technician_id == sc.tech.id
        local = done.completed_at.astimezone(ZoneInfo("Asia/Shanghai"))
        due = callback.due_at.astimezone(ZoneInfo("Asia/Shanghai"))
        assert due.date() == (local + timedelta(days=7)).date() and (due.hour, due.minute, due.second) == (23, 59, 59)
        assert await count_rows(session, AuditEntry, AuditEntry.entity.in_(["voucher", "callback"])) == 2

    async def test_signature_instead_of_code_with_photos(self, client, session, settings):
        sc = await scene(session)
        order = await make_order(session, estate=sc.estate, unit=sc.unit, technician=sc.tech.user, status=S.in_progress)
        files = [("signature", ("sig.png", PNG, "image/png")), ("photos", ("before.jpg", JPEG, "image/jpeg")),
                 ("photos", ("after.jpg", JPEG + b"x", "image/jpeg"))]
        r = await post(client, order, sc.tech, body(owner_confirmation={"name": "王建國"}), files)
        assert r.status_code == 201, r.text
        v = r.json()
        assert v["owner_confirmed_by"] == "signature"
        assert [(f["kind"], f["content_type"], f["original_filename"]) for f in v["files"]] == [
            ("signature", "image/png", "sig.png"), ("photo", "image/jpeg", "before.jpg"), ("photo", "image/jpeg", "after.jpg")]
        on_disk = stored_files(settings)
        assert len(on_disk) == 3
        now = datetime.now(ZoneInfo("Asia/Shanghai"))
        for path in on_disk:
            rel = path.relative_to(settings.upload_dir).parts
            assert rel[0] == str(sc.estate.id) and rel[1] in (f"{now:%Y}", f"{now - timedelta(days=1):%Y}") and len(rel) == 4
        # Stored re-encoded (without metadata): the same pictures, and the hashes are of what is on disk.
        assert sorted(p.suffix for p in on_disk) == [".jpg", ".jpg", ".png"]
        assert all(images.same_picture(p.read_bytes(), PNG if p.suffix == ".png" else JPEG) for p in on_disk)
        assert sorted(f["sha256"] for f in v["files"]) == sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in on_disk)

    async def test_wrong_code_422_nothing_written(self, client, session, settings):
        sc = await scene(session)
        order = await make_order(session, estate=sc.estate, unit=sc.unit, technician=sc.tech.user, status=S.dispatched)
        wrong = f"{(int(await issue_code(client, order, sc.desk)) + 1) % 1_000_000:06d}"
        r = await post(client, order, sc.tech, body(owner_confirmation={"name": "王建國", "code": wrong}), {"photos": ("a.jpg", JPEG)})
        assert r.status_code == 422 and r.json()["type"] == "/problems/wrong-owner-code", r.text
        await nothing_written(session, order.id, settings, status=S.dispatched)

    async def test_in_unit_needs_confirmation(self, client, session, settings):
        sc = await scene(session)
        order = await make_order(session, estate=sc.estate, unit=sc.unit, technician=sc.tech.user, status=S.in_progress)
        for data, files in [(body(), None), (body(owner_confirmation={"name": "王建國"}), {"photos": ("a.jpg", JPEG)}),
                            (body(), {"signature": ("s.png", PNG)})]:
            r = await post(client, order, sc.tech, data, files)
            assert r.status_code == 422 and r.json()["type"] == "/problems/owner-confirmation-required", r.text
        await nothing_written(session, order.id, settings, status=S.in_progress)

    async def test_public_area_needs_no_confirmation(self, client, session, settings):
        sc = await scene(session)
        order = await make_order(session, estate=sc.estate, technician=sc.tech.user, status=S.in_progress, is_public_area=True)
        r = await post(client, order, sc.tech, body(work_done="更換樓道燈"))
        assert r.status_code == 201, r.text
        assert (r.json()["is_public_area"], r.json()["owner_confirmed_by"]) == (True, "none")

    async def test_second_voucher_on_completed_order_409(self, client, session, settings):
        sc = await scene(session)
        order = await make_order(session, estate=sc.estate, technician=sc.tech.user, status=S.in_progress, is_public_area=True)
        assert (await post(client, order, sc.tech, body())).status_code == 201
        r = await post(client, order, sc.tech, body(), {"photos": ("a.jpg", JPEG)})
        assert r.status_code == 409 and r.json()["current_state"] == "completed", r.text
        assert r.json()["type"] == "/problems/illegal-transition"
        assert await count_rows(session, Voucher) == 1 and await count_rows(session, Callback) == 1
        assert stored_files(settings) == []

    async def test_reopened_order_gets_round_two(self, client, session, settings):
        sc = await scene(session)
        order = await make_order(session, estate=sc.estate, technician=sc.tech.user, status=S.in_progress, is_public_area=True)
        order.reopen_count = 1
        await session.commit()
        r = await post(client, order, sc.tech, body())
        assert r.status_code == 201, r.text
        assert r.json()["round"] == 2
        assert (await session.execute(select(Callback.round))).scalar_one() == 2

    async def test_bad_input_422_nothing_written(self, client, session, settings):
        sc = await scene(session)
        order = await make_order(session, estate=sc.estate, unit=sc.unit, technician=sc.tech.user, status=S.dispatched)
        ok = {"name": "王建國", "code": await issue_code(client, order, sc.desk)}
        bad = [
            body(minutes_spent=1441), body(minutes_spent=-1), body(amount="-1"), body(amount="1.005"), body(amount="NaN"),
            body(chargeable=True, amount="0"), body(chargeable=False, amount="5"), body(work_done=""), body(work_done="x\x00"),
            body(materials=[{"item": "閥芯", "quantity": "0"}]), body(materials=[{"item": "", "quantity": "1"}]),
            body(materials=[{"item": "x", "quantity": "1", "unit": "u" * 21}]), body(status="completed"),
            body(owner_confirmation={"name": "王", "code": "12345"}), body(owner_confirmation={"code": "123456"}),
            {"work_done": "x"},
        ]
        for data in bad:
            data.setdefault("owner_confirmation", ok)
            r = await post(client, order, sc.tech, data, {"photos": ("a.jpg", JPEG)})
            assert r.status_code == 422, (data, r.text)
        for raw in ("not json", "[]", "", "{\"work_done\": 1}"):
            r = await post(client, order, sc.tech, raw, {"photos": ("a.jpg", JPEG)})
            assert r.status_code == 422, (raw, r.text)
        r = await post(client, order, sc.tech, body(owner_confirmation=ok), [("photos", (f"{i}.jpg", JPEG)) for i in range(11)])
        assert r.status_code == 422 and r.json()["type"] == "/problems/too-many-photos"
        await nothing_written(session, order.id, settings, status=S.dispatched)


class TestReadVouchers:
    async def test_get_one_scoped(self, client, session):
        sc = await scene(session)
        _, v = await posted(client, session, sc)
        url = f"{API}/vouchers/{v['id']}"
        assert (await client.get(url)).status_code == 401
        finance = await make_staff(session, estates=[sc.estate], roles=[Role.finance])
        assert (await client.get(url, headers=finance.headers)).status_code == 403
        outsider = await make_staff(session, estates=[sc.other], roles=[Role.supervisor])
        assert (await client.get(url, headers=outsider.headers)).status_code == 404
        another_tech = await make_staff(session, estates=[sc.estate], roles=[Role.technician])
        assert (await client.get(url, headers=another_tech.headers)).status_code == 404
        for staff in (sc.desk, sc.tech):
            r = await client.get(url, headers=staff.headers)
            assert r.status_code == 200 and r.json()["materials"][0]["item"] == "閥芯" and len(r.json()["files"]) == 1
        assert (await client.get(f"{API}/vouchers/{uuid.uuid4()}", headers=sc.desk.headers)).status_code == 404

    async def test_order_vouchers(self, client, session):
        sc = await scene(session)
        order, v = await posted(client, session, sc)
        url = f"{API}/work-orders/{order.id}/vouchers"
        assert (await client.get(url)).status_code == 401
        r = await client.get(url, headers=sc.desk.headers)
        assert r.status_code == 200 and [x["id"] for x in r.json()["items"]] == [v["id"]] and r.json()["total"] == 1
        outsider = await make_staff(session, estates=[sc.other])
        assert (await client.get(url, headers=outsider.headers)).status_code == 404
        assert_problem(await client.get(url, params={"sort": "amount"}, headers=sc.desk.headers), 422, "unknown-sort-key")

    async def test_estate_list_filters_and_sort(self, client, session):
        sc = await scene(session)
        b9 = await make_building(session, estate=sc.estate, number=9)
        u9 = await make_unit(session, building=b9, number="101")
        tech2 = await make_staff(session, estates=[sc.estate], roles=[Role.technician])
        _, a = await posted(client, session, sc, chargeable=True, amount="80", minutes_spent=30)
        _, b = await posted(client, session, sc, unit=u9, tech=tech2, as_tech=tech2, minutes_spent=90)
        _, c = await posted(client, session, sc, unit=None, public=True, minutes_spent=10)
        url = f"{API}/estates/{sc.estate.id}/vouchers"

        async def ids(staff=sc.desk, **params) -> list[str]:
            r = await client.get(url, params=params, headers=staff.headers)
            assert r.status_code == 200, r.text
            return [x["id"] for x in r.json()["items"]]

        assert await ids() == [c["id"], b["id"], a["id"]]
        assert await ids(chargeable="true") == [a["id"]]
        assert await ids(is_public_area="true") == [c["id"]]
        assert await ids(technician_id=str(tech2.id)) == [b["id"]]
        assert await ids(building_id=str(b9.id)) == [b["id"]]
        assert await ids(sort="minutes_spent") == [c["id"], a["id"], b["id"]]
        assert await ids(sort="-amount", limit=1) == [a["id"]]
        assert await ids(posted_from=a["posted_at"], posted_to=c["posted_at"]) == [b["id"], a["id"]]
        assert await ids(staff=tech2) == [b["id"]]  # a technician sees his own
        assert (await client.get(url)).status_code == 401
        outsider = await make_staff(session, estates=[sc.other])
        assert (await client.get(url, headers=outsider.headers)).status_code == 404
        for params in ({"posted_from": "2026-01-01T00:00:00"}, {"chargeable": "maybe"}, {"sort": "work_done"},
                       {"technician_id": "x"}):
            assert_422(await client.get(url, params=params, headers=sc.desk.headers), next(iter(params)))
