"""Logs for people: readable lines on a terminal, JSON elsewhere; the access line says who called,
from where, and what came back."""
from __future__ import annotations

import io
import json
import logging

import pytest

from app import logging as app_logging
from app.domain.auth.roles import Role
from tests.factories import make_estate, make_staff


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_readable_on_a_terminal_json_elsewhere_unless_set() -> None:
    assert app_logging.wants_json(None, _Terminal()) is False
    assert app_logging.wants_json(None, io.StringIO()) is True
    assert app_logging.wants_json(True, _Terminal()) is True
    assert app_logging.wants_json(False, io.StringIO()) is False


@pytest.fixture
def access_records(caplog):
    caplog.set_level(logging.INFO, logger="propdesk.access")
    return lambda: [r for r in caplog.records if r.name == "propdesk.access"]


async def test_the_access_line_names_the_caller_the_address_and_the_status(client, session, access_records):
    estate = await make_estate(session)
    clerk = await make_staff(session, estates=[estate], roles=[Role.receptionist], full_name="杨娅聪")
    await session.commit()
    r = await client.get("/api/v1/auth/me", headers={**clerk.headers, "X-Request-ID": "rid-for-the-test"})
    assert r.status_code == 200
    [record] = [r for r in access_records() if r.path == "/api/v1/auth/me"]
    assert record.status == 200 and record.client == "127.0.0.1"
    assert record.caller == f"user:{str(clerk.id)[:8]} 杨娅聪"

    text = app_logging.TextFormatter().format(record)
    assert "GET /api/v1/auth/me 200" in text and f"caller=user:{str(clerk.id)[:8]} 杨娅聪" in text
    assert "client=127.0.0.1" in text
    entry = json.loads(app_logging.JsonFormatter().format(record))
    assert entry["caller"] == record.caller and entry["client"] == "127.0.0.1" and entry["status"] == 200


async def test_an_anonymous_or_refused_caller_is_logged_with_its_status(client, access_records):
    r = await client.get("/api/v1/auth/me", headers={"Authorization": "Bearer pd_not-a-token"})
    assert r.status_code == 401
    [record] = [r for r in access_records() if r.path == "/api/v1/auth/me"]
    assert record.status == 401 and getattr(record, "caller", None) is None and record.client == "127.0.0.1"
    assert "GET /api/v1/auth/me 401" in app_logging.TextFormatter().format(record)


def test_other_records_read_as_a_line_with_their_job() -> None:
    record = logging.LogRecord("propdesk.jobs", logging.WARNING, __file__, 1, "run failed: %s", ("boom",), None)
    record.job, record.period = "month_end_fee_report", "2026-11"
    line = app_logging.TextFormatter().format(record)
    assert "WARNING" in line and "run failed: boom" in line and "job=month_end_fee_report period=2026-11" in line
