"""Resource caps over HTTP: the request body, one uploaded file, and a page of a list.

(The per-user rate limits are in test_rate_limit.py.) Each cap is shown from both sides: at the
cap the request goes through, one byte or one row over it is refused with a problem and
nothing is written.
"""
from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import func, select

from app.config import Settings
from app.domain.auth.model import User
from app.domain.auth.roles import Role
from app.domain.pagination import MAX_PAGE_SIZE
from app.domain.rentals.model import RentalPhoto
from tests.factories import make_estate, make_staff
from tests.helpers.problems import assert_422
from tests.helpers.rentals import create, world
from tests.images import JPEG
from tests.registry_factories import count_rows

API = "/api/v1"
PROBLEM = "application/problem+json"
BODY_CAP = 8 * 1024


@pytest.fixture
def settings(database_url: str, tmp_path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path, scheduler_enabled=False, log_json=False,
                    max_request_bytes=BODY_CAP)


@pytest.fixture
async def admin(session):
    estate = await make_estate(session)
    staff = await make_staff(session, estates=[estate], roles=list(Role), username="admin.limits")
    staff.estate = estate
    return staff


async def users(app) -> int:
    async with app.state.sessionmaker() as s:
        return (await s.execute(select(func.count()).select_from(User))).scalar_one()


def user_json(size: int) -> bytes:
    """A valid new-user body padded with spaces to exactly `size` bytes."""
    body = (b'{"username": "u%s", "password": "a-long-password", "full_name": "Wang", "roles": ["receptionist"], '
            b'"estate_ids": []}' % uuid.uuid4().hex[:8].encode())
    return body + b" " * (size - len(body))


async def chunked(data: bytes, size: int = 1024):
    for i in range(0, len(data), size):
        yield data[i:i + size]


def assert_413(r: httpx.Response) -> None:
    assert r.status_code == 413, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["type"] == "/problems/too-large" and body["status"] == 413 and str(BODY_CAP) in body["detail"]


class TestRequestBodyCap:
    @pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
    async def test_one_byte_over_the_cap_is_413_and_writes_nothing(self, app, client, admin, streamed):
        before = await users(app)
        data = user_json(BODY_CAP + 1)
        content = chunked(data) if streamed else data
        r = await client.post(f"{API}/users", content=content, headers={**admin.headers, "content-type": "application/json"})
        assert_413(r)
        assert await users(app) == before

    @pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
    async def test_a_body_at_the_cap_is_read(self, app, client, admin, streamed):
        data = user_json(BODY_CAP)
        content = chunked(data) if streamed else data
        r = await client.post(f"{API}/users", content=content, headers={**admin.headers, "content-type": "application/json"})
        # Read and parsed: refused by the rules (no estate), not by the cap.
        assert r.status_code == 422, r.text
        assert_422(r, "estate_ids")

    async def test_an_upload_over_the_request_cap_is_413_and_stores_nothing(self, app, client, session, settings):
        w = await world(session)
        eid = (await create(client, w)).json()["id"]
        photo = JPEG + b"\x00" * BODY_CAP
        r = await client.post(f"{API}/rental-entrustments/{eid}/photos", files={"photos": ("big.jpg", photo)}, headers=w.agency.headers)
        assert_413(r)
        assert await count_rows(session, RentalPhoto) == 0
        assert not [p for p in settings.upload_dir.rglob("*") if p.is_file()]


class TestUploadCap:
    async def test_a_file_over_the_upload_cap_is_refused_and_nothing_is_stored(self, client, session, settings):
        w = await world(session)
        eid = (await create(client, w)).json()["id"]
        settings.max_upload_bytes = 1000  # the app reads its settings per request
        url = f"{API}/rental-entrustments/{eid}/photos"
        over = JPEG + b"\x00" * (1001 - len(JPEG))
        r = await client.post(url, files=[("photos", ("ok.jpg", JPEG)), ("photos", ("big.jpg", over))], headers=w.agency.headers)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith(PROBLEM)
        assert r.json()["type"] == "/problems/file-too-large" and r.json()["field"] == "photos.1"
        assert await count_rows(session, RentalPhoto) == 0
        assert not [p for p in settings.upload_dir.rglob("*") if p.is_file()]
        at_cap = over[:1000]
        r = await client.post(url, files={"photos": ("ok.jpg", at_cap)}, headers=w.agency.headers)
        assert r.status_code == 201, r.text
        # Accepted at the cap; stored re-encoded, so the padding after the picture is not kept.
        [stored] = [p for p in settings.upload_dir.rglob("*") if p.is_file()]
        assert stored.stat().st_size == r.json()["photos"][0]["size_bytes"] < 1000


def paged_operations(schema: dict) -> list[tuple[str, dict]]:
    return [(path, op["parameters"]) for path, ops in schema["paths"].items() for method, op in ops.items()
            if method == "get" and any(p["name"] == "limit" and p["in"] == "query" for p in op.get("parameters", []))]


def fill(path: str, params: list[dict], estate_id: uuid.UUID) -> str:
    for p in params:
        if p["in"] == "path":
            value = estate_id if p["name"] == "estate_id" else uuid.uuid4()
            path = path.replace("{" + p["name"] + "}", str(value))
    return path


class TestPageCap:
    async def test_every_list_declares_the_cap(self, app, settings):
        operations = paged_operations(app.openapi())
        assert len(operations) > 30
        for path, params in operations:
            limit = next(p for p in params if p["name"] == "limit")
            assert limit["schema"]["maximum"] == MAX_PAGE_SIZE, path

    async def test_every_list_refuses_a_page_over_the_cap_and_serves_one_at_it(self, app, client, admin, settings):
        for path, params in paged_operations(app.openapi()):
            required = [p["name"] for p in params if p["in"] == "query" and p.get("required")]
            if required:  # none today; a list with required filters would need values here
                pytest.fail(f"{path} has required query parameters {required}")
            url = fill(path, params, admin.estate.id)
            r = await client.get(url, params={"limit": MAX_PAGE_SIZE + 1}, headers=admin.headers)
            assert r.status_code == 422, (url, r.text)
            assert r.headers["content-type"].startswith(PROBLEM)
            assert [e["field"] for e in r.json()["errors"]] == ["limit"], (url, r.text)
            r = await client.get(url, params={"limit": MAX_PAGE_SIZE}, headers=admin.headers)
            assert r.status_code in (200, 404), (url, r.status_code, r.text[:300])
            if r.status_code == 200 and "items" in r.json():
                assert r.json()["limit"] == MAX_PAGE_SIZE, url
