"""Schemathesis over the whole OpenAPI schema, as an admin: no 5xx, responses match the schema.

Schemathesis drives the ASGI app from its own event-loop thread and starts the app's
lifespan there, so it gets its own app instance (the pytest loop's engine cannot be
shared across loops); the database is this test's, seeded through the `session` fixture.
"""
from __future__ import annotations

import asyncio
import traceback

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance, status_code_conformance
from schemathesis.python import asgi as schemathesis_asgi

from app.domain.auth.roles import Role
from app.main import create_app
from tests.factories import make_estate, make_staff
from tests.helpers.fuzz import CHECKS

MAX_EXAMPLES = 6
# The operations are split into shards so that test workers share the run.
SHARDS = 4
# Malformed input must be refused with a documented problem, never a 5xx.
NEGATIVE_CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
# Signing out would revoke the token the rest of the run uses; /readyz is 503 on purpose
# here (the test database is built with create_all, not migrated: see test_migrations.py).
SKIP = {("POST", "/api/v1/auth/logout"), ("GET", "/readyz")}


def _run(app, headers: dict[str, str], mode: GenerationMode, shard: int) -> tuple[list[str], int]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = 0
    try:
        for index, result in enumerate(schema.get_all_operations()):
            operation = result.ok()
            if (operation.method.upper(), operation.path) in SKIP or index % SHARDS != shard:
                continue
            operations += 1

            @given(case=operation.as_strategy(generation_mode=mode))
            @hypothesis_settings(
                max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate],
            )
            def check(case) -> None:
                case.call_and_validate(headers=headers, checks=CHECKS if mode is GenerationMode.POSITIVE else NEGATIVE_CHECKS)

            try:
                check()
            except Unsatisfiable:
                continue  # nothing to make malformed (e.g. no parameters, no body)
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect every operation's failure
                detail = "".join(traceback.format_exception_only(type(exc), exc))[:1500]
                failures.append(f"{operation.method.upper()} {operation.path}: {detail}")
    finally:
        schemathesis_asgi.shutdown_lifespans()
    return failures, operations


@pytest.mark.parametrize("shard", range(SHARDS))
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
async def test_schemathesis_finds_no_server_errors_or_schema_violations(session, settings, mode, shard):
    estate = await make_estate(session)
    # Every role, so that every operation is reached past its permission check.
    admin = await make_staff(session, estates=[estate], roles=list(Role), username="schemathesis.admin")
    app = create_app(settings)
    failures, operations = await asyncio.to_thread(_run, app, admin.headers, mode, shard)
    assert operations > 5
    assert not failures, f"{len(failures)} operation(s) failed:\n\n" + "\n\n".join(failures)
