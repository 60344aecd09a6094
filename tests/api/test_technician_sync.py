"""GET /technicians/me/sync: a technician's offline copy, its deltas and tombstones, and its cursor."""
from __future__ import annotations

import base64

from sqlalchemy import text

from app.domain.auth.roles import Role
from app.domain.repairs.model import WorkOrderStatus
from tests.factories import make_staff
from tests.helpers.dispatch import local, window
from tests.helpers.problems import assert_422, assert_invalid, assert_problem
from tests.helpers.sync import API, SYNC, ids, sync, technician_round, tombstones
from tests.registry_factories import make_owner, make_unit
from tests.repairs_factories import make_order

S = WorkOrderStatus


class TestWhoSyncs:
    async def test_anonymous_is_401(self, client):
        assert (await client.get(SYNC)).status_code == 401

    async def test_only_technicians(self, client, session):
        w = await technician_round(session)
        assert_problem(await client.get(SYNC, headers=w.desk.headers), 403, "forbidden")
        supervisor = await make_staff(session, estates=[w.estate], roles=[Role.supervisor])
        assert (await client.get(SYNC, headers=supervisor.headers)).status_code == 403

    async def test_another_estates_records_never_come(self, client, session):
        w = await technician_round(session)
        theirs = await make_order(session, estate=w.other, technician=w.tech.user, status=S.dispatched)
        a = await sync(client, w.tech)
        assert str(theirs.id) not in ids(a["orders"])
        assert {c["estate_id"] for c in a["categories"]} == {str(w.estate.id)}
        assert {s["estate_id"] for s in a["stock_items"]} == {str(w.estate.id)}


class TestSnapshot:
    async def test_his_open_orders_their_units_and_owners_categories_stock(self, client, session):
        w = await technician_round(session)
        a = await sync(client, w.tech)
        assert a["full"] is True and a["more"] is False and a["tombstones"] == []
        # Not the rival's order, not his completed one.
        assert ids(a["orders"]) == {str(o.id) for o in w.orders}
        assert ids(a["units"]) == {str(u.id) for u in w.units[:3]}
        assert ids(a["owners"]) == {str(o.id) for o in w.owners[:3]}
        owner = next(o for o in a["owners"] if o["id"] == str(w.owners[0].id))
        assert owner["full_name"] == "王建國" and owner["phones"] == ["13800138000"]
        unit = next(u for u in a["units"] if u["id"] == str(w.units[0].id))
        assert unit["label"] == "8号楼2单元301" and unit["owner_ids"] == [str(w.owners[0].id)]
        order = next(o for o in a["orders"] if o["id"] == str(w.orders[0].id))
        assert order["unit_id"] == str(w.units[0].id) and "start" in order["allowed_actions"]
        assert [c["code"] for c in a["categories"]] == ["plumbing", "electric"]
        assert {s["name"] for s in a["stock_items"]} == {"閥芯0", "閥芯1", "閥芯2"}

    async def test_stock_comes_in_pages(self, client, session):
        w = await technician_round(session)
        first = await sync(client, w.tech, limit=2)
        assert first["full"] is True and first["more"] is True and len(first["stock_items"]) == 2
        assert len(first["orders"]) == 3
        second = await sync(client, w.tech, first["cursor"], limit=2)
        assert second["full"] is False and second["more"] is False and second["orders"] == []
        assert ids(first["stock_items"]) | ids(second["stock_items"]) == {str(s.id) for s in w.stock}
        assert not ids(first["stock_items"]) & ids(second["stock_items"])
        # The last page's cursor is the sync's: a change since the first page comes next.
        await session.execute(text("UPDATE stock_item SET quantity = 4 WHERE id = :id"), {"id": w.stock[0].id})
        await session.commit()
        third = await sync(client, w.tech, second["cursor"], limit=2)
        assert str(w.stock[0].id) in ids(third["stock_items"])


class TestDelta:
    async def test_what_changed_and_what_left(self, client, session):
        w = await technician_round(session)
        morning = await sync(client, w.tech)
        # The desk edits an owner's phone, hands an order to the rival, cancels another,
        # and gives him a new job in a unit he had not visited; a category goes out of use.
        r = await client.post(f"{API}/owners/{w.owners[2].id}/phones", json={"phone": "13811112222"}, headers=w.desk.headers)
        assert r.status_code == 201, r.text
        r = await client.post(f"{API}/work-orders/{w.orders[0].id}/reassign", headers=w.desk.headers,
                              json=window(local(9), local(10), technician_id=str(w.rival.id)))
        assert r.status_code == 200, r.text
        r = await client.post(f"{API}/work-orders/{w.orders[1].id}/cancel", json={"reason": "業主自行修好"}, headers=w.desk.headers)
        assert r.status_code == 200, r.text
        new_unit = await make_unit(session, building=w.building, number="601")
        newcomer = await make_owner(session, estate=w.estate, full_name="周倩", units=[new_unit])
        new_order = await make_order(session, estate=w.estate, unit=new_unit, technician=w.tech.user, status=S.dispatched)
        category = (await session.execute(text("SELECT id FROM repair_category WHERE code = 'electric' AND estate_id = :e"),
                                          {"e": w.estate.id})).scalar_one()
        await session.execute(text("UPDATE repair_category SET active = false WHERE id = :id"), {"id": category})
        await session.commit()

        noon = await sync(client, w.tech, morning["cursor"])
        assert noon["full"] is False
        assert str(new_order.id) in ids(noon["orders"]) and str(w.orders[0].id) not in ids(noon["orders"])
        assert tombstones(noon, "work_order") == {str(w.orders[0].id): "reassigned", str(w.orders[1].id): "cancelled"}
        assert tombstones(noon, "unit") == {str(w.units[0].id): "not_on_your_orders", str(w.units[1].id): "not_on_your_orders"}
        assert tombstones(noon, "owner") == {str(w.owners[0].id): "not_on_your_orders", str(w.owners[1].id): "not_on_your_orders"}
        assert str(new_unit.id) in ids(noon["units"]) and str(newcomer.id) in ids(noon["owners"])
        phoned = next(o for o in noon["owners"] if o["id"] == str(w.owners[2].id))
        assert phoned["phones"] == ["13700137000", "13811112222"]
        assert tombstones(noon, "category") == {str(category): "inactive"}
        # The rival's copy gains the order; his own shows nothing of the first technician.
        rivals = await sync(client, w.rival)
        assert str(w.orders[0].id) in ids(rivals["orders"])

    async def test_a_removed_phone_and_an_unlinked_owner_come_too(self, client, session):
        w = await technician_round(session)
        morning = await sync(client, w.tech)
        phone_id = (await session.execute(text("SELECT id FROM owner_phone WHERE owner_id = :o"), {"o": w.owners[0].id})).scalar_one()
        assert (await client.delete(f"{API}/owners/{w.owners[0].id}/phones/{phone_id}", headers=w.desk.headers)).status_code == 200
        r = await client.delete(f"{API}/owners/{w.owners[1].id}/units/{w.units[1].id}", headers=w.desk.headers)
        assert r.status_code == 200, r.text
        noon = await sync(client, w.tech, morning["cursor"])
        assert next(o for o in noon["owners"] if o["id"] == str(w.owners[0].id))["phones"] == []
        assert next(u for u in noon["units"] if u["id"] == str(w.units[1].id))["owner_ids"] == []
        assert tombstones(noon, "owner") == {str(w.owners[1].id): "not_on_your_orders"}

    async def test_a_change_committed_while_a_sync_is_read_comes_next_time(self, client, session, app):
        """The desk's transaction began before the sync and commits after it: a timestamp or a
        sequence number taken at write time would place it before the cursor and skip it forever."""
        w = await technician_round(session)
        morning = await sync(client, w.tech)
        async with app.state.sessionmaker() as desk:
            await desk.execute(text("UPDATE service_request SET contact_phone = '13900000000' WHERE id = :id"),
                               {"id": w.orders[2].request_id})
            during = await sync(client, w.tech, morning["cursor"])  # reads while the desk's change is open
            assert "13900000000" not in {o["contact_phone"] for o in during["orders"]}
            await desk.commit()
        after = await sync(client, w.tech, during["cursor"])
        assert next(o for o in after["orders"] if o["id"] == str(w.orders[2].id))["contact_phone"] == "13900000000"

    async def test_an_estate_he_leaves_takes_its_orders_along(self, client, session):
        w = await technician_round(session)
        both = await make_staff(session, estates=[w.estate, w.other], roles=[Role.technician])
        theirs = await make_order(session, estate=w.other, technician=both.user, status=S.dispatched)
        morning = await sync(client, both)
        assert ids(morning["orders"]) == {str(theirs.id)}
        await session.execute(text("DELETE FROM user_estate WHERE user_id = :u AND estate_id = :e"),
                              {"u": both.id, "e": w.other.id})
        await session.commit()
        noon = await sync(client, both, morning["cursor"])
        assert tombstones(noon, "work_order") == {str(theirs.id): "no_longer_visible"}

    async def test_stock_taken_out_of_use_is_a_tombstone(self, client, session):
        w = await technician_round(session)
        morning = await sync(client, w.tech)
        await session.execute(text("UPDATE stock_item SET active = false WHERE id = :id"), {"id": w.stock[1].id})
        await session.commit()
        noon = await sync(client, w.tech, morning["cursor"])
        assert tombstones(noon, "stock_item") == {str(w.stock[1].id): "inactive"}


class TestBadCursor:
    async def test_refused_naming_since_and_nothing_else_read(self, client, session):
        w = await technician_round(session)
        good = (await sync(client, w.tech))["cursor"]
        raw = bytearray(base64.urlsafe_b64decode(good + "=" * (-len(good) % 4)))
        raw[20] ^= 1
        tampered = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
        for since in ("nonsense", "AAAA", tampered, good[:-4], "bad cursor!", "x" * 20001):
            r = await client.get(SYNC, params={"since": since}, headers=w.tech.headers)
            assert_422(r, "since")

    async def test_another_technicians_cursor_is_refused(self, client, session):
        w = await technician_round(session)
        rivals = (await sync(client, w.rival))["cursor"]
        assert_invalid(await client.get(SYNC, params={"since": rivals}, headers=w.tech.headers), "bad-sync-cursor", "since")

    async def test_bad_limit(self, client, session):
        w = await technician_round(session)
        for limit in ("0", "201", "2.0", "abc", "+5"):
            assert_422(await client.get(SYNC, params={"limit": limit}, headers=w.tech.headers), "limit")
