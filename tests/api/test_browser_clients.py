"""A browser app on another origin can call the API (CORS), and big answers travel gzipped."""
from __future__ import annotations

import gzip
import json

import httpx
import pytest

from app.config import Settings
from app.domain.auth.roles import Role
from tests.factories import make_estate, make_staff

DESK_ORIGIN = "https://desk.qishui.example"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"cors_origins": f"{DESK_ORIGIN}/, https://finance.example"})


async def raw(app, method: str, url: str, **kwargs) -> tuple[httpx.Response, bytes]:
    """The answer and its body as it travels on the wire, not decoded."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c, c.stream(method, url, **kwargs) as r:
        return r, b"".join([chunk async for chunk in r.aiter_raw()])


class TestCors:
    async def test_a_preflight_from_a_listed_origin_is_allowed(self, client):
        r = await client.options("/api/v1/units/00000000-0000-0000-0000-000000000000/payments", headers={
            "Origin": DESK_ORIGIN, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key"})
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == DESK_ORIGIN
        assert "POST" in r.headers["access-control-allow-methods"]
        allowed = r.headers["access-control-allow-headers"].lower()
        assert {"authorization", "content-type", "idempotency-key", "if-match"} <= {h.strip() for h in allowed.split(",")}
        assert "access-control-allow-credentials" not in r.headers  # bearer tokens, never cookies

    async def test_a_preflight_from_another_origin_is_refused(self, client):
        r = await client.options("/api/v1/auth/me", headers={"Origin": "https://evil.example",
                                                             "Access-Control-Request-Method": "GET"})
        assert r.status_code == 400
        assert "access-control-allow-origin" not in r.headers

    async def test_an_answer_to_a_listed_origin_exposes_the_headers_clients_read(self, client, session):
        estate = await make_estate(session)
        staff = await make_staff(session, estates=[estate], roles=[Role.receptionist])
        r = await client.get("/api/v1/auth/me", headers={**staff.headers, "Origin": DESK_ORIGIN})
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == DESK_ORIGIN
        exposed = {h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")}
        assert {"etag", "location", "content-disposition", "retry-after", "x-request-id"} <= exposed


async def test_without_the_setting_no_origin_is_allowed(database_url, tmp_path):
    from app.main import create_app

    plain = create_app(Settings(database_url=database_url, data_dir=tmp_path, scheduler_enabled=False, log_json=False))
    async with plain.router.lifespan_context(plain):
        r, _ = await raw(plain, "OPTIONS", "/api/v1/auth/me", headers={"Origin": DESK_ORIGIN,
                                                                     "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in r.headers
    assert r.status_code == 405


class TestCompression:
    async def test_the_api_description_travels_gzipped(self, app):
        r, wire = await raw(app, "GET", "/openapi.json", headers={"Accept-Encoding": "gzip"})
        assert r.headers["content-encoding"] == "gzip"
        body = gzip.decompress(wire)
        assert json.loads(body)["openapi"].startswith("3.")
        assert len(wire) < len(body) / 4  # 790 KB of JSON comes down as well under 200 KB

    async def test_a_client_that_does_not_ask_gets_it_plain(self, app):
        r, wire = await raw(app, "GET", "/openapi.json", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in r.headers
        assert json.loads(wire)["openapi"].startswith("3.")

    async def test_small_answers_are_not_compressed(self, app):
        r, wire = await raw(app, "GET", "/healthz", headers={"Accept-Encoding": "gzip"})
        assert "content-encoding" not in r.headers
        assert json.loads(wire) == {"status": "ok"}

    async def test_the_event_stream_is_never_buffered_by_compression(self, app, session):
        # gzip would hold events back until a block fills: the stream stays plain.
        estate = await make_estate(session)
        staff = await make_staff(session, estates=[estate], roles=[Role.receptionist])
        r, wire = await raw(app, "GET", "/api/v1/stream", headers={**staff.headers, "Accept-Encoding": "gzip"})
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        assert "content-encoding" not in r.headers
