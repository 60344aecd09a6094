"""A real office starts from nothing: README "Going live", step by step, on an empty database.

`propdesk init` runs as the real command against a database with no schema at all; everything
after it is the administrator's (and then the desk's) HTTP calls, with no demo data anywhere.
"""
from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from app.db import with_database
from tests import db
from tests.faults.procs import PROPDESK, ROOT, environment

API = "/api/v1"
pytestmark = pytest.mark.timeout(400)  # propdesk init is a real process: slow on a busy machine

ADMIN_PW = "Correct-Horse-Battery-42"
DESK_PW = "Staple-Orbit-Lantern-77"
INIT = ["--legal-name", "新乡市祥瑞物业服务有限公司", "--short-name", "祥瑞物業", "--address", "河南省新乡市红旗区平原路 88 号",
        "--phone", "0373-5551234", "--credit-code", "91410700MA3X4B2K1P",
        "--estate-name", "淇水春天", "--office-name", "淇水春天管理處", "--estate-code", "QS",
        "--admin-username", "admin", "--admin-full-name", "王经理", "--password-stdin"]


@pytest.fixture
async def database_url(pg_server):
    """Overrides conftest's: a database with nothing in it, not even the schema (init migrates it)."""
    name = f"pd_live_{uuid.uuid4().hex[:10]}"
    await db.admin_execute(pg_server, f'CREATE DATABASE "{name}"')
    yield with_database(pg_server, name)
    await db.drop(pg_server, name)


async def propdesk_init(database_url: str, data_dir) -> str:
    proc = await asyncio.create_subprocess_exec(
        str(PROPDESK), "init", *INIT, cwd=ROOT, env=environment(database_url, data_dir),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(f"{ADMIN_PW}\n".encode()), timeout=180)
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def sign_in(client, username: str, password: str) -> dict[str, str]:
    r = await client.post(f"{API}/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def created(response) -> dict:
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_real_office_from_nothing(client, database_url, tmp_path):
    said = await propdesk_init(database_url, tmp_path)
    assert "administrator admin" in said

    # 1. The administrator signs in; the company's details are what init was given.
    admin = await sign_in(client, "admin", ADMIN_PW)
    company = (await client.get(f"{API}/company", headers=admin)).json()
    assert (company["legal_name"], company["credit_code"]) == ("新乡市祥瑞物业服务有限公司", "91410700MA3X4B2K1P")
    r = await client.patch(f"{API}/company", json={"phone": "0373-5550000"}, headers=admin)
    assert r.status_code == 200 and r.json()["phone"] == "0373-5550000"
    [qs] = (await client.get(f"{API}/estates", headers=admin)).json()["items"]
    assert (qs["code"], qs["office_name"]) == ("QS", "淇水春天管理處")

    # 2. The other estates.
    xr = await created(await client.post(f"{API}/estates", headers=admin, json={
        "name": "祥瑞花园", "office_name": "祥瑞花园管理處", "code": "XR", "afternoon_open": "14:30"}))
    dup = await client.post(f"{API}/estates", headers=admin, json={"name": "重复", "office_name": "重复", "code": "xr"})
    assert dup.status_code == 409 and dup.json()["type"] == "/problems/estate-code-taken"

    # 3. Buildings and units (or POST /estates/{id}/roster-imports with the office's spreadsheet).
    b8 = await created(await client.post(f"{API}/estates/{qs['id']}/buildings", headers=admin, json={"name": "8号楼", "number": 8}))
    unit = await created(await client.post(f"{API}/estates/{qs['id']}/units", headers=admin, json={
        "building_id": b8["id"], "entrance": "2", "number": "301", "floor": 3, "area": "89.20"}))
    await created(await client.post(f"{API}/estates/{qs['id']}/owners", headers=admin, json={
        "full_name": "王建國", "title": "先生", "phones": ["133 5173 7459"], "units": [{"unit_id": unit["id"]}]}))

    # 4. Staff and their roles.
    await created(await client.post(f"{API}/users", headers=admin, json={
        "username": "qs.reception", "full_name": "李娜", "roles": ["receptionist"], "estate_ids": [qs["id"]],
        "password": DESK_PW}))
    await created(await client.post(f"{API}/users", headers=admin, json={
        "username": "xr.supervisor", "full_name": "张伟", "roles": ["supervisor"], "estate_ids": [xr["id"]],
        "password": DESK_PW}))

    # 5. Fee items, and the month's bills.
    month = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    await created(await client.post(f"{API}/estates/{qs['id']}/fee-items", headers=admin, json={
        "code": "mgmt", "name": "物业管理费", "kind": "per_area", "unit_label": "元/m²/月", "unit_price": "1.80",
        "effective_from": f"{month}-01"}))
    r = await client.post(f"{API}/estates/{qs['id']}/billing-runs", headers=admin, json={"month": month})
    assert r.status_code == 200 and r.json()["created"] == 1, r.text
    [charge] = (await client.get(f"{API}/units/{unit['id']}/charges", headers=admin)).json()["items"]
    assert Decimal(charge["amount"]) == Decimal("160.56")  # 89.20 m² × 1.80

    # 6. The desk takes the first payment; the receipt is numbered with the estate's code.
    desk = await sign_in(client, "qs.reception", DESK_PW)
    paid = await created(await client.post(f"{API}/units/{unit['id']}/payments", json={
        "settle": "oldest_first", "amount": "160.56", "method": "cash", "tendered": "200.00", "payer_name": "王建國"},
        headers={**desk, "Idempotency-Key": str(uuid.uuid4())}))
    assert paid["receipt"]["number"].startswith("QS"), paid
    [charge] = (await client.get(f"{API}/units/{unit['id']}/charges", headers=admin)).json()["items"]
    assert Decimal(charge["amount_paid"]) == Decimal("160.56")

    # Nothing of the demo anywhere.
    users = (await client.get(f"{API}/users", headers=admin, params={"limit": 100})).json()
    assert sorted(u["username"] for u in users["items"]) == ["admin", "qs.reception", "xr.supervisor"]

    # 7. The office's data survives a backup and a restore into another server.
    await _backup_and_restore(database_url, tmp_path, receipt=paid["receipt"]["number"])


async def _backup_and_restore(database_url: str, tmp_path, *, receipt: str) -> None:
    from app import backup
    from tests.faults.private_pg import PrivatePostgres

    archive = tmp_path / "office.tar"
    done = await asyncio.create_subprocess_exec(str(PROPDESK), "backup", str(archive), cwd=ROOT,
                                                env=environment(database_url, tmp_path), stderr=asyncio.subprocess.PIPE)
    assert await asyncio.wait_for(done.wait(), timeout=120) == 0, (await done.stderr.read()).decode()  # type: ignore[union-attr]
    other = PrivatePostgres()
    try:
        await db.admin_execute(other.url, "CREATE DATABASE office")
        target = with_database(other.url, "office")
        back = await asyncio.create_subprocess_exec(str(PROPDESK), "restore", str(archive), cwd=ROOT,
                                                    env=environment(target, tmp_path / "restored"), stderr=asyncio.subprocess.PIPE)
        assert await asyncio.wait_for(back.wait(), timeout=120) == 0, (await back.stderr.read()).decode()  # type: ignore[union-attr]
        import asyncpg

        conns = [await asyncpg.connect(db.dsn(url)) for url in (database_url, target)]
        try:
            counts = [await backup.row_counts(c) for c in conns]
            numbers = [await c.fetchval("SELECT array_agg(number ORDER BY number) FROM receipt") for c in conns]
        finally:
            for c in conns:
                await c.close()
        assert counts[0] == counts[1] and counts[0]["company"] == 1 and counts[0]["estate"] == 2
        assert numbers[0] == numbers[1] == [receipt]
    finally:
        other.close()
