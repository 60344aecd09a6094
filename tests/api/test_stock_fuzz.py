"""Schemathesis over the stock and stocktake operations only, aimed at real records (an item with stock,
a count open): no 5xx and every answer as documented. The shared run reaches them only with random ids."""
from __future__ import annotations

import asyncio
import traceback
from decimal import Decimal

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.python import asgi as schemathesis_asgi

from app.domain.auth.principal import system_actor
from app.domain.auth.roles import Role
from app.domain.stock import stocktake
from app.domain.stock.model import StockItem, StockMovement
from app.main import create_app
from tests.factories import make_estate, make_staff
from tests.helpers.fuzz import CHECKS
from tests.registry_factories import count_rows

MAX_EXAMPLES = 8


def _stock_path(path: str) -> bool:
    return "/stock" in path


def _run(app, headers: dict[str, str], mode: GenerationMode, ids: dict[str, str]) -> tuple[list[str], int]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = 0
    try:
        for result in schema.get_all_operations():
            operation = result.ok()
            if not _stock_path(operation.path):
                continue
            operations += 1

            @given(case=operation.as_strategy(generation_mode=mode))
            @hypothesis_settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
                                 suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
            def check(case) -> None:
                for key in list(case.path_parameters or {}):
                    if key in ids:
                        case.path_parameters[key] = ids[key]
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                check()
            except Unsatisfiable:
                continue
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001
                detail = "".join(traceback.format_exception_only(type(exc), exc))[:1500]
                failures.append(f"{operation.method.upper()} {operation.path}: {detail}")
    finally:
        schemathesis_asgi.shutdown_lifespans()
    return failures, operations


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
async def test_stock_operations_fuzzed(session, settings, mode):
    estate = await make_estate(session)
    admin = await make_staff(session, estates=[estate], roles=list(Role), username="stock.fuzz")
    item = StockItem(estate_id=estate.id, code="F-1", name="fuzz", unit="個", unit_cost=Decimal("1.50"), quantity=Decimal("50"))
    session.add(item)
    await session.flush()
    count = await stocktake.open_for(session, estate=estate, actor=system_actor(), month="2026-11")
    await session.commit()
    ids = {"estate_id": str(estate.id), "item_id": str(item.id), "stocktake_id": str(count.id)}
    app = create_app(settings)
    failures, operations = await asyncio.to_thread(_run, app, admin.headers, mode, ids)
    assert operations >= 15
    assert not failures, f"{len(failures)} operation(s) failed:\n\n" + "\n\n".join(failures)
    if mode is GenerationMode.POSITIVE:  # the calls reached the real item, not only 404s
        assert await count_rows(session, StockMovement, StockMovement.stock_item_id == item.id) > 0
