"""Idempotency-Key on every POST that creates something or moves state, as payments have it.

A technician's phone that loses its connection mid-upload retries with the same key and gets
one voucher; a double-tapped "register" makes one request; a retried transition answers
what the first one did instead of a 409 about the state it left behind.
"""
from __future__ import annotations

import asyncio
import json
import uuid

from sqlalchemy import select

from app.domain.auth.roles import Role
from app.domain.idempotency.model import IdempotencyRecord
from app.domain.repairs.model import ServiceRequest, WorkOrder, WorkOrderStatus
from app.domain.repairs.vouchers.model import Voucher, VoucherFile
from tests.factories import make_staff
from tests.helpers.problems import assert_problem
from tests.helpers.vouchers import body as voucher_body
from tests.helpers.vouchers import scene, stored_files
from tests.images import JPEG, PNG
from tests.registry_factories import count_rows
from tests.repairs_factories import make_order

API = "/api/v1"
S = WorkOrderStatus
MORNING = ("2024-11-29T08:00:00+08:00", "2024-11-29T12:00:00+08:00")
# Not documented as idempotent: they hand out secrets (which a stored answer would keep) or
# change nothing.
NOT_IDEMPOTENT = {"login", "logout", "change_password", "reset_password", "create_api_key", "issue_owner_code",
                  "create_webhook", "rotate_secret", "render_phone_script", "preview_billing_run", "run_job",
                  "issue_stream_ticket",
                  # A channel's notification is idempotent by its own order and transaction ids
                  # (the channel sends no Idempotency-Key, and retries until it hears SUCCESS).
                  "wechat_notify", "alipay_notify", "wechat_refund_notify"}


def repair(**kw) -> dict:
    return {"channel": "phone", "category": "plumbing", "description": "水龍頭漏水", "contact_phone": "133 5173 7459",
            "window_start": MORNING[0], "window_end": MORNING[1], **kw}


def key() -> str:
    return str(uuid.uuid4())


async def register(client, sc, data: dict, idem: str | None):
    headers = {**sc.desk.headers, **({"Idempotency-Key": idem} if idem else {})}
    return await client.post(f"{API}/estates/{sc.estate.id}/service-requests", json=data, headers=headers)


class TestServiceRequests:
    async def test_a_double_tap_registers_one_request(self, client, session):
        sc = await scene(session)
        same = key()
        first = await register(client, sc, repair(unit_id=str(sc.unit.id)), same)
        again = await register(client, sc, repair(unit_id=str(sc.unit.id)), same)
        assert first.status_code == again.status_code == 201, again.text
        assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
        assert again.json() == first.json()
        assert await count_rows(session, ServiceRequest, ServiceRequest.estate_id == sc.estate.id) == 1

    async def test_the_same_key_with_another_body_is_refused_and_writes_nothing(self, client, session):
        sc = await scene(session)
        same = key()
        assert (await register(client, sc, repair(unit_id=str(sc.unit.id)), same)).status_code == 201
        other = await register(client, sc, repair(unit_id=str(sc.unit.id), description="燈不亮"), same)
        assert_problem(other, 409, "idempotency-key-reused")
        assert await count_rows(session, ServiceRequest, ServiceRequest.estate_id == sc.estate.id) == 1

    async def test_without_a_key_each_post_is_its_own_request(self, client, session):
        sc = await scene(session)
        for _ in range(2):
            assert (await register(client, sc, repair(unit_id=str(sc.unit.id)), None)).status_code == 201
        assert await count_rows(session, ServiceRequest, ServiceRequest.estate_id == sc.estate.id) == 2
        assert await count_rows(session, IdempotencyRecord) == 0

    async def test_two_desks_racing_with_one_key_make_one_request(self, client, session):
        sc = await scene(session)
        same = key()
        answers = await asyncio.gather(*[register(client, sc, repair(unit_id=str(sc.unit.id)), same) for _ in range(4)])
        ok = [a for a in answers if a.status_code == 201]
        assert ok and all(a.status_code in (201, 409) for a in answers), [a.text for a in answers]
        assert len({a.json()["id"] for a in ok}) == 1
        for refused in (a for a in answers if a.status_code == 409):  # still in progress: retry shortly
            assert_problem(refused, 409, "idempotency-request-in-progress")
        assert await count_rows(session, ServiceRequest, ServiceRequest.estate_id == sc.estate.id) == 1

    async def test_a_key_is_the_callers_own(self, client, session):
        # Another user's identical key is another request: keys are never shared between callers.
        sc = await scene(session)
        colleague = await make_staff(session, estates=[sc.estate], roles=[Role.receptionist])
        same = key()
        await register(client, sc, repair(unit_id=str(sc.unit.id)), same)
        r = await client.post(f"{API}/estates/{sc.estate.id}/service-requests", json=repair(unit_id=str(sc.unit.id)),
                              headers={**colleague.headers, "Idempotency-Key": same})
        assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers
        assert await count_rows(session, ServiceRequest, ServiceRequest.estate_id == sc.estate.id) == 2


class TestVouchersWithPhotos:
    async def post(self, client, sc, order, idem: str, *, photo: bytes = JPEG):
        files = [("signature", ("sig.png", PNG, "image/png")), ("photos", ("after.jpg", photo, "image/jpeg"))]
        return await client.post(f"{API}/work-orders/{order.id}/voucher",
                                 data={"voucher": json.dumps(voucher_body(owner_confirmation={"name": "王建國"}))},
                                 files=files, headers={**sc.tech.headers, "Idempotency-Key": idem})

    async def test_a_retried_upload_gives_one_voucher_and_one_set_of_files(self, client, session, settings):
        sc = await scene(session)
        order = await make_order(session, estate=sc.estate, unit=sc.unit, technician=sc.tech.user, status=S.in_progress)
        same = key()
        first = await self.post(client, sc, order, same)
        assert first.status_code == 201, first.text
        # httpx picks a new multipart boundary for the retry: the same request all the same.
        again = await self.post(client, sc, order, same)
        assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["id"] == first.json()["id"]
        assert await count_rows(session, Voucher, Voucher.work_order_id == order.id) == 1
        assert await count_rows(session, VoucherFile, VoucherFile.voucher_id == uuid.UUID(first.json()["id"])) == 2
        assert len(stored_files(settings)) == 2

    async def test_another_photo_under_the_same_key_is_another_request(self, client, session):
        sc = await scene(session)
        order = await make_order(session, estate=sc.estate, unit=sc.unit, technician=sc.tech.user, status=S.in_progress)
        same = key()
        assert (await self.post(client, sc, order, same)).status_code == 201
        assert_problem(await self.post(client, sc, order, same, photo=JPEG + b"other"), 409, "idempotency-key-reused")


class TestTransitions:
    async def test_a_retried_start_answers_the_first_start_not_a_409(self, client, session):
        sc = await scene(session)
        order = await make_order(session, estate=sc.estate, unit=sc.unit, technician=sc.tech.user, status=S.dispatched)
        same = key()
        url = f"{API}/work-orders/{order.id}/start"
        first = await client.post(url, json={}, headers={**sc.tech.headers, "Idempotency-Key": same})
        assert first.status_code == 200, first.text
        again = await client.post(url, json={}, headers={**sc.tech.headers, "Idempotency-Key": same})
        assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        # Without the key, the same retry is what it always was: the order is no longer dispatched.
        plain = await client.post(url, json={}, headers=sc.tech.headers)
        assert_problem(plain, 409, "illegal-transition")
        assert (await session.execute(select(WorkOrder.status).where(WorkOrder.id == order.id))).scalar_one() == S.in_progress


def test_every_post_that_writes_takes_an_idempotency_key(app):
    schema = app.openapi()
    missing, documented = [], []
    for path, ops in schema["paths"].items():
        op = ops.get("post")
        if op is None or not path.startswith("/api/v1/"):
            continue
        takes = any(p["in"] == "header" and p["name"] == "Idempotency-Key" for p in op.get("parameters", []))
        if op["operationId"] not in NOT_IDEMPOTENT and not takes:
            missing.append(op["operationId"])
        if takes:
            documented.append("409" in op["responses"] and "IdempotencyKeyReused" in op["responses"]["409"]["description"])
    assert not missing, missing
    assert documented and all(documented)
