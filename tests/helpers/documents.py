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

from tests.helpers.payments import keyed

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


# --- receipts (收款收据) and refund documents (退款凭证) ------------------------------------------

@kind("receipt")
async def _receipt(client: httpx.AsyncClient, session: AsyncSession) -> bytes:
    """A receipt printed the first time, as the estate prints it by default: all three copies."""
    from tests.helpers.payments import long_desk, pay, print_receipt, set_receipt_paper

    d = await long_desk(session, months=2)
    await set_receipt_paper(session, d.estate, note="此收据不作报销凭证，如需发票请凭此联到管理处开具。")
    paid = await pay(client, d, amount="600.00", tendered="700.00", payer_name="王建国")
    return pdf_of(await print_receipt(client, d.staff, paid.json()["receipt"]["id"]))


@kind("receipt-17-lines")
async def _receipt_17_lines(client: httpx.AsyncClient, session: AsyncSession) -> bytes:
    """A payment settling 17 charges, the payer's copy only: every line printed, over two pages."""
    from tests.helpers.payments import long_desk, pay, print_receipt, set_receipt_paper

    d = await long_desk(session, months=14)
    await set_receipt_paper(session, d.estate, copies=["交款人联"], note="此收据不作报销凭证")
    paid = await pay(client, d, amount="2504.84", method="wechat", reference="4200001234202612031234567890", payer_name="王建国")
    return pdf_of(await print_receipt(client, d.staff, paid.json()["receipt"]["id"]))


@kind("receipt-void")
async def _receipt_void(client: httpx.AsyncClient, session: AsyncSession) -> bytes:
    """A receipt voided by the supervisor, printed again for the file: 作废 across it, 补打 1."""
    from app.domain.auth.roles import Role
    from tests.factories import make_staff
    from tests.helpers.payments import long_desk, pay, print_receipt, set_receipt_paper

    d = await long_desk(session, months=1)
    await set_receipt_paper(session, d.estate, copies=["记账联"])
    rid = (await pay(client, d, amount="160.56", payer_name="王建国")).json()["receipt"]["id"]
    assert (await print_receipt(client, d.staff, rid)).status_code == 201
    boss = await make_staff(session, estates=[d.estate], roles=[Role.supervisor], full_name="张主管")
    r = await client.post(f"/api/v1/receipts/{rid}/void", json={"reason": "收错户，应为8号楼2单元302"}, headers=keyed(boss.headers))
    assert r.status_code == 200, r.text
    return pdf_of(await print_receipt(client, boss, rid, reason="作废后留底"))


@kind("refund")
async def _refund(client: httpx.AsyncClient, session: AsyncSession) -> bytes:
    """A refund of an overpayment (退款凭证), payer's copy and the stub."""

    from app.domain.auth.roles import Role
    from tests.factories import make_staff
    from tests.helpers.payments import long_desk, pay, print_receipt, set_receipt_paper

    d = await long_desk(session, months=1)
    await set_receipt_paper(session, d.estate, copies=["存根联", "交款人联"])
    assert (await pay(client, d, amount="457.56", payer_name="王建国")).status_code == 201
    finance = await make_staff(session, estates=[d.estate], roles=[Role.finance], full_name="赵会计")
    r = await client.post(f"/api/v1/units/{d.unit.id}/refunds", json={"amount": "40.00", "method": "cash", "reason": "多交退回"},
                          headers=keyed(finance.headers))
    assert r.status_code == 201, r.text
    return pdf_of(await print_receipt(client, finance, r.json()["receipt"]["id"]))
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
