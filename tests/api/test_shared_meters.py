"""Shared meters (公摊): set up, read as a draft split, approved by a second person, billed once."""
from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import select

from app.domain.audit.model import AuditEntry
from app.domain.fees.model import Charge, ChargeSource
from app.domain.fees.shared_meters.model import SharedMeter, SharedMeterReading, SharedMeterSplit
from tests.helpers.problems import assert_422, assert_invalid, assert_problem
from tests.helpers.shared_meters import API, make_meter, meter_body, own_readings, record, shared_world
from tests.registry_factories import count_rows


class TestCreateSharedMeter:
    async def test_who_may(self, client, session):
        w = await shared_world(session)
        url = f"{API}/estates/{w.estate.id}/shared-meters"
        assert (await client.post(url, json=meter_body(w))).status_code == 401
        for staff in (w.desk, w.supervisor):
            assert (await client.post(url, json=meter_body(w), headers=staff.headers)).status_code == 403
        assert (await client.post(url, json=meter_body(w), headers=w.outsider.headers)).status_code == 404
        assert (await client.get(url, headers=w.outsider.headers)).status_code == 404
        assert await count_rows(session, SharedMeter) == 0
        meter = await make_meter(client, w)
        listed = await client.get(url, headers=w.desk.headers)
        assert listed.status_code == 200 and [m["id"] for m in listed.json()["items"]] == [meter["id"]]
        assert await count_rows(session, AuditEntry, AuditEntry.action == "shared_meter.create") == 1

    async def test_bad_input_names_the_field(self, client, session):
        w = await shared_world(session)
        url = f"{API}/estates/{w.estate.id}/shared-meters"
        body = meter_body(w)
        del body["method"]
        assert_422(await client.post(url, json=body, headers=w.recorder.headers), "method")
        r = await client.post(url, json=meter_body(w, fee_item_id=str(w.building.id)), headers=w.recorder.headers)
        assert_invalid(r, "not-a-metered-item", "fee_item_id")
        shares = [{"unit_id": str(u.id), "share": s} for u, s in zip(w.units, ("0.5", "0.3", "0.1"), strict=True)]
        r = await client.post(url, json=meter_body(w, method="fixed_share", shares=shares), headers=w.recorder.headers)
        assert_invalid(r, "shares-do-not-sum-to-one", "shares")  # 0.5 + 0.3 + 0.1 = 0.9
        public = [{"unit_id": str(w.public.id), "share": "1"}]
        r = await client.post(url, json=meter_body(w, method="fixed_share", shares=public), headers=w.recorder.headers)
        assert_invalid(r, "share-unit-not-counted", "shares")
        r = await client.post(url, json=meter_body(w, shares=public), headers=w.recorder.headers)
        assert_invalid(r, "shares-only-for-fixed-share", "shares")
        assert await count_rows(session, SharedMeter) == 0


class TestReadingAndApproval:
    async def test_reading_previews_every_units_share(self, client, session):
        w = await shared_world(session)
        await own_readings(session, w, ["80", "100"])  # 180 吨 on the units' own meters
        meter = await make_meter(client, w)
        r = await record(client, w, meter)
        assert r.status_code == 201, r.text
        split = r.json()
        # 1250 − 1000 − 180 = 70 吨 × 3.20 = 224.00元 over 1204.50 m² (the public unit's 50 m² not counted)
        assert (split["status"], split["usage"], split["own_usage"], split["total"]) == ("draft", "70.00", "180.00", "224.00")
        assert Decimal(split["factor_total"]) == Decimal("1204.50")
        # 224 × 89.20/1204.50 = 16.59; × 520.30/1204.50 = 96.76; × 595.00/1204.50 = 110.65
        assert [(ln["unit_label"], ln["amount"]) for ln in split["lines"]] == [
            ("8号楼1单元101", "16.59"), ("8号楼1单元102", "96.76"), ("8号楼1单元201", "110.65")]
        assert await count_rows(session, Charge) == 0

    async def test_the_recorder_cannot_approve_their_own(self, client, session):
        w = await shared_world(session)
        split = (await record(client, w, await make_meter(client, w))).json()
        url = f"{API}/shared-meter-splits/{split['id']}"
        assert (await client.post(f"{url}/approve")).status_code == 401
        assert (await client.post(f"{url}/approve", headers=w.desk.headers)).status_code == 403
        assert (await client.post(f"{url}/approve", headers=w.outsider.headers)).status_code == 404
        assert (await client.get(url, headers=w.outsider.headers)).status_code == 404
        body = assert_problem(await client.post(f"{url}/approve", headers=w.recorder.headers), 409, "approver-is-recorder")
        assert body["field"] == "approved_by"
        assert (await client.get(url, headers=w.desk.headers)).json()["status"] == "draft"
        r = await client.post(f"{url}/approve", headers=w.supervisor.headers)
        assert r.status_code == 200 and r.json()["approved_by"] == str(w.supervisor.id)
        assert_problem(await client.post(f"{url}/approve", headers=w.approver.headers), 409, "illegal-transition")
        entries = await count_rows(session, AuditEntry, AuditEntry.action == "shared_meter_split.approve")
        assert entries == 1

    async def test_more_used_by_the_units_than_the_meter_is_refused(self, client, session):
        w = await shared_world(session)
        await own_readings(session, w, ["200", "50.01"])  # 250.01 > 1250 − 1000
        r = await record(client, w, await make_meter(client, w))
        assert_invalid(r, "usage-below-unit-meters", "current")
        assert await count_rows(session, SharedMeterReading) == 0 and await count_rows(session, SharedMeterSplit) == 0

    async def test_bad_reading_names_the_field(self, client, session):
        w = await shared_world(session)
        meter = await make_meter(client, w)
        assert_422(await record(client, w, meter, period="2026-13"), "period")
        assert_invalid(await record(client, w, meter, current="900.00"), "reading-below-previous", "current")
        assert_invalid(await record(client, w, meter, previous=None), "previous-reading-needed", "previous")
        assert (await record(client, w, meter, staff=w.supervisor)).status_code == 403
        assert (await record(client, w, meter, staff=w.outsider)).status_code == 404
        assert await count_rows(session, SharedMeterReading) == 0

    async def test_a_discarded_split_lets_the_period_be_read_again(self, client, session):
        w = await shared_world(session)
        meter = await make_meter(client, w, subtract_unit_meters=False, method="household")
        split = (await record(client, w, meter)).json()
        assert_problem(await record(client, w, meter), 409, "split-already-recorded")
        url = f"{API}/shared-meter-splits/{split['id']}/discard"
        assert_422(await client.post(url, json={"reason": ""}, headers=w.approver.headers), "reason")
        r = await client.post(url, json={"reason": "抄错表"}, headers=w.approver.headers)
        assert r.status_code == 200 and r.json()["status"] == "discarded"
        again = await record(client, w, meter, current="1031.25")
        assert again.status_code == 201, again.text
        # 31.25 × 3.20 = 100.00 over 3 households: 33.33 each = 99.99, the missing fen to the first
        assert [ln["amount"] for ln in again.json()["lines"]] == ["33.34", "33.33", "33.33"]
        # The next month's previous is this reading's current, not the discarded one's.
        nxt = await record(client, w, meter, current="1040.00", previous=None, period="2026-12")
        assert (nxt.json()["previous"], nxt.json()["usage"]) == ("1031.25", "8.75")


class TestBilling:
    async def test_approve_then_bill_makes_charges_summing_to_the_total_once(self, client, session):
        w = await shared_world(session)
        await own_readings(session, w, ["80", "100"])
        split = (await record(client, w, await make_meter(client, w))).json()
        url = f"{API}/shared-meter-splits/{split['id']}"
        assert_problem(await client.post(f"{url}/bill", headers=w.approver.headers), 409, "illegal-transition")
        assert (await client.post(f"{url}/bill", headers=w.supervisor.headers)).status_code == 403
        assert (await client.post(f"{url}/approve", headers=w.approver.headers)).status_code == 200
        r = await client.post(f"{url}/bill", headers=w.approver.headers)
        assert r.status_code == 200, r.text
        assert (r.json()["created"], r.json()["split"]["status"]) == (3, "billed")
        charges = list((await session.execute(select(Charge).where(Charge.source == ChargeSource.shared_meter.value))).scalars())
        assert sum(c.amount for c in charges) == Decimal("224.00")  # 16.59 + 96.76 + 110.65
        assert {c.source_id for c in charges} == {uuid.UUID(ln["id"]) for ln in r.json()["split"]["lines"]}
        assert {c.period for c in charges} == {"2026-11"} and {c.fee_item_id for c in charges} == {w.shared.id}
        again = await client.post(f"{url}/bill", headers=w.approver.headers)
        assert (again.status_code, again.json()["created"]) == (200, 0)
        assert await count_rows(session, Charge) == 3
        assert await count_rows(session, AuditEntry, AuditEntry.action == "shared_meter_split.bill") == 1

    async def test_the_bill_explains_the_unit_share(self, client, session):
        w = await shared_world(session)
        await own_readings(session, w, ["80", "100"])
        split = (await record(client, w, await make_meter(client, w))).json()
        url = f"{API}/shared-meter-splits/{split['id']}"
        await client.post(f"{url}/approve", headers=w.approver.headers)
        await client.post(f"{url}/bill", headers=w.approver.headers)
        bill = (await client.get(f"{API}/units/{w.units[0].id}/bill", headers=w.desk.headers)).json()
        line = next(ln for ln in bill["lines"] if ln["source"] == "shared_meter")
        # (1250 − 1000 − 180) = 70 吨 × 3.20 = 224.00; × 89.20/1204.50 = 16.588… → 16.59
        assert line["explanation"] == "公摊水费 (1,250.00 − 1,000.00 − 180.00)吨 × 3.20元/吨 × 89.20/1,204.50㎡ = 16.59元"
        shared = line["computation"]["shared"]
        assert (shared["total_usage"], shared["own_usage"], shared["split_method"], shared["factor"],
                shared["factor_total"], shared["total"]) == ("70", "180", "area", "89.2", "1204.5", "224.00")
        assert (line["amount"], line["computation"]["quantity"]) == ("16.59", "70")


class TestFixedShare:
    async def test_fixed_shares_split_and_bill(self, client, session):
        w = await shared_world(session)
        shares = [{"unit_id": str(u.id), "share": s} for u, s in zip(w.units, ("0.5", "0.3", "0.2"), strict=True)]
        meter = await make_meter(client, w, method="fixed_share", subtract_unit_meters=False, shares=shares)
        assert [s["share"] for s in meter["shares"]] == ["0.500000", "0.300000", "0.200000"]
        split = (await record(client, w, meter, current="1031.25")).json()
        # 31.25 吨 × 3.20 = 100.00; × 0.5 / 0.3 / 0.2 = 50.00 / 30.00 / 20.00
        assert [ln["amount"] for ln in split["lines"]] == ["50.00", "30.00", "20.00"]
        url = f"{API}/shared-meter-splits/{split['id']}"
        await client.post(f"{url}/approve", headers=w.approver.headers)
        assert (await client.post(f"{url}/bill", headers=w.approver.headers)).json()["created"] == 3
        bill = (await client.get(f"{API}/units/{w.units[1].id}/bill", headers=w.desk.headers)).json()
        line = next(ln for ln in bill["lines"] if ln["source"] == "shared_meter")
        assert line["explanation"] == "公摊水费 (1,031.25 − 1,000.00)吨 × 3.20元/吨 × 30%（约定份额） = 30.00元"


class TestBillingPeriods:
    async def test_a_unit_moved_out_before_the_month_shares_nothing_one_moved_in_during_it_shares_in_full(
            self, client, session):
        w = await shared_world(session)
        gone, arrived = w.units[0], w.units[1]
        for unit, body in ((gone, {"billed_to": "2026-10-31"}), (arrived, {"billed_from": "2026-11-15"})):
            r = await client.put(f"{API}/units/{unit.id}/billing-period", json=body, headers=w.recorder.headers)
            assert r.status_code == 200, r.text
        meter = await make_meter(client, w, subtract_unit_meters=False)
        split = (await record(client, w, meter)).json()
        # 250 吨 × 3.20 = 800.00 over 520.30 + 595.00 = 1115.30 m² (89.20 m² moved out in October):
        # 800 × 520.30 / 1115.30 = 373.209 → 373.21; 800 × 595.00 / 1115.30 = 426.791 → 426.79.
        assert (split["total"], split["factor_total"]) == ("800.00", "1115.30")
        assert [(ln["unit_id"], ln["amount"]) for ln in split["lines"]] == [
            (str(arrived.id), "373.21"), (str(w.units[2].id), "426.79")]
