"""Every printable document kind, made over HTTP the way a desk gets it: one maker per kind.

tests/api/test_documents.py checks each kind's fonts and draws its pages to PNG;
`scripts/render-samples.sh` writes those PNGs to docs/samples/. A new document kind registers
its maker here with `@kind("name")`; the maker builds what it needs through the API and
factories and returns the PDF's bytes.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

Maker = Callable[[httpx.AsyncClient, AsyncSession], Awaitable[bytes]]
KINDS: dict[str, Maker] = {}


def kind(name: str) -> Callable[[Maker], Maker]:
    def register(maker: Maker) -> Maker:
        assert name not in KINDS, name
        KINDS[name] = maker
        return maker
    return register


def pdf_of(response: httpx.Response) -> bytes:
    assert response.status_code in (200, 201), response.text
    assert response.headers["content-type"] == "application/pdf"
    return response.content


# --- the office's paper: task sheet, cash hand-over, arrears notices, repair log, register ---------
# Imported here, after `kind`, because the makers register themselves with it.
from tests.helpers import paper  # noqa: E402


@kind("task-sheet")
async def task_sheet(client: httpx.AsyncClient, session: AsyncSession) -> bytes:
    w = await paper.dispatched(client, session)
    return pdf_of(await client.get(f"{paper.API}/work-orders/{w.order_id}/task-sheet.pdf", headers=w.tech.headers))


@kind("cash-handover")
async def cash_handover(client: httpx.AsyncClient, session: AsyncSession) -> bytes:
    w = await paper.cashier_day(client, session, extra_payments=4)
    return pdf_of(await client.get(f"{paper.API}/cashier-sessions/{w.session_id}/handover-sheet.pdf", headers=w.finance.headers))


@kind("arrears-notice")
async def arrears_notice(client: httpx.AsyncClient, session: AsyncSession) -> bytes:
    w = await paper.owing(session)
    return pdf_of(await client.get(f"{paper.API}/units/{w.wang.id}/arrears-notice.pdf", headers=w.desk.headers))


@kind("arrears-notices-building")
async def arrears_notices_building(client: httpx.AsyncClient, session: AsyncSession) -> bytes:
    w = await paper.owing(session, months_of_wang=30)
    return pdf_of(await client.get(f"{paper.API}/estates/{w.estate.id}/arrears-notices.pdf", params={"building_id": str(w.b8.id)},
                                   headers=w.desk.headers))


@kind("repair-log")
async def repair_log(client: httpx.AsyncClient, session: AsyncSession) -> bytes:
    w = await paper.day_of_repairs(client, session, more=6)
    return pdf_of(await client.get(f"{paper.API}/estates/{w.estate.id}/repairs/daily-log", params={"format": "pdf"},
                                   headers=w.desk.headers))


@kind("saturday-register")
async def saturday_register(client: httpx.AsyncClient, session: AsyncSession) -> bytes:
    from tests.helpers.fee_reports import week48

    b = await week48(session)
    await paper.office(session, b.estate)
    return pdf_of(await client.get(f"{paper.API}/estates/{b.estate.id}/fee-reports/saturday-register",
                                   params={"week": "2026-W48", "format": "pdf"}, headers=b.reader.headers))
