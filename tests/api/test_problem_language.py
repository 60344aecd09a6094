"""Problems in the language the client accepts: Chinese for zh, English by default.

The `type`, the member names and the field names stay the same in every language: clients
match on them, people read the title and the field messages.
"""
from __future__ import annotations

import uuid

import pytest

from app.api.language import Language, negotiate
from app.domain.auth.roles import Role
from tests.factories import make_estate, make_staff
from tests.helpers.bad_input import user_body
from tests.helpers.problems import assert_problem

# Small, so that a body over it is cheap to send; the same cap as tests/api/test_errors.py (one app for both).
BODY_CAP = 2048 + 64 * 1024


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"max_request_bytes": BODY_CAP})


@pytest.fixture
async def desk(session):
    estate = await make_estate(session)
    admin = await make_staff(session, estates=[estate], roles=list(Role), username="admin.lang")
    return estate, admin


@pytest.mark.parametrize(("header", "expected"), [
    (None, Language.english),
    ("", Language.english),
    ("en", Language.english),
    ("en-US,en;q=0.9", Language.english),
    ("*", Language.english),
    ("zh-CN", Language.simplified),
    ("zh", Language.simplified),
    ("zh-Hans-CN", Language.simplified),
    ("ZH-cn", Language.simplified),
    ("zh-TW", Language.traditional),
    ("zh-Hant", Language.traditional),
    ("zh-HK;q=1", Language.traditional),
    ("en;q=0.5, zh-CN;q=0.9", Language.simplified),
    ("zh-CN;q=0.4, en;q=0.8", Language.english),
    ("fr, de;q=0.9, zh;q=0.1", Language.simplified),
    ("fr, de", Language.english),
    ("zh;q=0, en;q=0.1", Language.english),
    ("zh;q=abc, en", Language.english),
    ("zh-CN;q=0.8, zh-TW;q=0.8", Language.simplified),  # a tie goes to the first sent
    (";;,,", Language.english),
])
def test_negotiation_follows_q_values(header, expected):
    assert negotiate(header) is expected


class TestDomainError:
    async def test_chinese_english_and_default(self, client, desk):
        _, admin = desk
        url = f"/api/v1/users/{uuid.uuid4()}"
        default = assert_problem(await client.get(url, headers=admin.headers), 404, "user-not-found")
        english = await client.get(url, headers={**admin.headers, "Accept-Language": "en-GB, zh;q=0.5"})
        chinese = await client.get(url, headers={**admin.headers, "Accept-Language": "en;q=0.3, zh-CN"})
        assert default["title"] == default["detail"] == "User not found"
        assert english.json() == default
        body = assert_problem(chinese, 404, "user-not-found")
        # The detail was only the title again: it is Chinese too.
        assert body["title"] == body["detail"] == "未找到该用户"
        assert {k: v for k, v in body.items() if k not in ("title", "detail")} == \
            {k: v for k, v in default.items() if k not in ("title", "detail")}

    async def test_headers_say_the_language(self, client, desk):
        _, admin = desk
        url = f"/api/v1/users/{uuid.uuid4()}"
        r = await client.get(url, headers=admin.headers)
        assert r.headers["content-language"] == "en"
        assert "accept-language" in r.headers["vary"].lower()
        r = await client.get(url, headers={**admin.headers, "Accept-Language": "zh-CN"})
        assert r.headers["content-language"] == "zh-CN"
        assert "accept-language" in r.headers["vary"].lower()

    async def test_traditional_for_zh_tw(self, client, desk):
        _, admin = desk
        r = await client.get(f"/api/v1/users/{uuid.uuid4()}", headers={**admin.headers, "Accept-Language": "zh-TW"})
        body = assert_problem(r, 404, "user-not-found")
        assert body["title"] == "未找到該用戶"
        assert r.headers["content-language"] == "zh-TW"

    async def test_409_keeps_its_type_and_members(self, client, desk):
        estate, admin = desk
        body = user_body(username="admin.lang", estate_ids=[str(estate.id)])
        headers = {**admin.headers, "Accept-Language": "zh-CN", "Idempotency-Key": str(uuid.uuid4())}
        problem = assert_problem(await client.post("/api/v1/users", json=body, headers=headers), 409, "username-taken")
        assert problem["title"] == "该用户名已被使用"
        assert problem["field"] == "username"


class TestHttpErrors:
    async def test_body_over_the_cap(self, client, desk):
        _, admin = desk
        big = b"x" * (BODY_CAP + 1)
        r = await client.post("/api/v1/users", content=big, headers={**admin.headers, "content-type": "application/json",
                                                                      "Accept-Language": "zh-CN"})
        body = assert_problem(r, 413, "too-large")
        assert body["title"] == "请求内容过大"
        assert body["detail"] == f"最多 {BODY_CAP} 字节"
        assert r.headers["content-language"] == "zh-CN"

    async def test_unknown_route(self, client):
        english = assert_problem(await client.get("/api/v1/nowhere"), 404, "not-found")
        chinese = assert_problem(await client.get("/api/v1/nowhere", headers={"Accept-Language": "zh"}), 404, "not-found")
        assert english["title"] == "Not Found"
        assert chinese["title"] == chinese["detail"] == "未找到"

    async def test_no_credential(self, client):
        r = await client.get("/api/v1/users", headers={"Accept-Language": "zh-CN"})
        body = assert_problem(r, 401, "invalid-token")
        assert body["title"] == "凭证缺失、已过期或已被吊销"
        assert r.headers["www-authenticate"] == "Bearer"


class TestValidation:
    async def test_field_messages_in_chinese(self, client, desk):
        _, admin = desk
        body = {**user_body(full_name="名" * 101, estate_ids=["not-a-uuid"], roles=["janitor"], surprise=1)}
        del body["password"]
        headers = {**admin.headers, "Idempotency-Key": str(uuid.uuid4())}
        english = assert_problem(await client.post("/api/v1/users", json=body, headers=headers), 422, "validation-failed")
        headers["Accept-Language"] = "zh-CN,zh;q=0.9,en;q=0.8"
        chinese = assert_problem(await client.post("/api/v1/users", json=body, headers=headers), 422, "validation-failed")
        assert english["title"] == "The request is not valid"
        assert chinese["title"] == "请求内容无效"
        assert chinese["detail"].startswith("请检查：")
        # The same fields, named the same way, in the same order.
        assert [(e["field"], e["location"]) for e in chinese["errors"]] == [(e["field"], e["location"]) for e in english["errors"]]
        messages = {e["field"]: e["problem"] for e in chinese["errors"]}
        assert messages["full_name"] == "最多 100 个字符"
        assert messages["password"] == "必填项，不能缺少"
        assert messages["estate_ids.0"] == "应为有效的 UUID"
        assert messages["roles.0"].startswith("应为以下之一：")
        assert messages["surprise"] == "不接受此字段"

    async def test_query_numbers_and_dates(self, client, desk):
        _, admin = desk
        headers = {**admin.headers, "Accept-Language": "zh"}
        r = await client.get("/api/v1/users", params={"limit": "many"}, headers=headers)
        body = assert_problem(r, 422, "validation-failed")
        assert {e["field"]: e["problem"] for e in body["errors"]} == {"limit": "应为用半角数字书写的整数"}
        r = await client.get("/api/v1/audit", params={"since": "2024-13-45", "until": "31/12/2024"}, headers=headers)
        body = assert_problem(r, 422, "validation-failed")
        messages = {e["field"]: e["problem"] for e in body["errors"]}
        instant = "应为带时区偏移的 ISO 8601 日期时间，如 2026-12-03T09:30:00+08:00"
        assert messages == {"since": instant, "until": instant}

    async def test_bounds_name_their_number(self, client, desk):
        _, admin = desk
        headers = {**admin.headers, "Accept-Language": "zh"}
        r = await client.get("/api/v1/users", params={"limit": "0"}, headers=headers)
        body = assert_problem(r, 422, "validation-failed")
        assert body["errors"][0]["problem"] == "应大于或等于 1"
