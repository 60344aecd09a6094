"""Payments at the desk, receipts (收据) and refunds of overpayments (§5.2, §5.4)."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.status import HTTP_201_CREATED

from app.api.deps import SessionDep, SettingsDep, page_of, require
from app.api.errors import problems
from app.api.files import PDF_CONTENT, content_disposition
from app.api.idempotency import REPLAYED, IdempotencyKey, OptionalIdempotencyKey, idempotent, idempotent_responses, run_once
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.errors import IllegalTransition
from app.domain.fees.cash.service import SessionHandedOver
from app.domain.fees.channels.refund_model import ReceiptHasChannelRefund
from app.domain.fees.payments import prints, receipts, refunds
from app.domain.fees.payments import service as payments
from app.domain.fees.payments.model import PaymentMethod, ReceiptSeries, ReceiptStatus, VoidNeedsReason
from app.domain.fees.payments.schemas import (
    PaymentCreate,
    PaymentRead,
    ReceiptPrintCreate,
    ReceiptPrintRead,
    ReceiptRead,
    ReceiptVoid,
    RefundCreate,
    RefundRead,
    UnitCredit,
)
from app.domain.idempotency.service import IdempotencyKeyReused, IdempotencyRequestInProgress
from app.domain.pagination import Page, PageRequest, UnknownSortKey
from app.domain.registry.errors import EstateNotFound, UnitNotFound
from app.domain.types import Instant

router = APIRouter(tags=["payments"])

Read = Annotated[Actor, Depends(require(Perm.fees_read))]
Take = Annotated[Actor, Depends(require(Perm.payments_take))]
Void = Annotated[Actor, Depends(require(Perm.receipts_void))]
PrintPerm = Annotated[Actor, Depends(require(Perm.receipts_print))]
RefundPerm = Annotated[Actor, Depends(require(Perm.refunds_make))]
ReceiptPage = Annotated[PageRequest, Depends(page_of(receipts.ReceiptSort))]
CREATED = HTTP_201_CREATED


@router.post("/units/{unit_id}/payments", response_model=PaymentRead, status_code=CREATED,
             responses=idempotent_responses(CREATED, UnitNotFound, payments.ReferenceRequired, payments.TenderedOnlyForCash,
                                            payments.TenderedTooLittle, payments.ChargeNotOnUnit, payments.ChargeAlreadySettled,
                                            payments.ChargeNotReached, payments.NoCashierForPayment, SessionHandedOver))
async def take_payment(unit_id: uuid.UUID, body: PaymentCreate, actor: Take, session: SessionDep, settings: SettingsDep,
                       request: Request, idempotency_key: IdempotencyKey) -> JSONResponse:
    """Take a payment for a unit in one call and issue its numbered receipt.

    Settle the `charge_ids` in the order given, or `settle: "oldest_first"`. A payment short of
    the charges pays the last one in part; money beyond them is kept on account as credit. Cash
    may give `tendered` (change = tendered - amount); other methods need the `reference`.
    The payment joins the cashier's session of the day (409 once it is handed over).

    Send an `Idempotency-Key` header (required; missing: 422). Retrying with the same key and
    body returns the first answer with `Idempotent-Replayed: true` and takes nothing again;
    the same key with another body is a 409 `idempotency-key-reused`.
    """
    return await run_once(session, actor=actor, key=idempotency_key, request=request, body=body, settings=settings,
                          status_code=CREATED,
                          run=lambda: payments.take_payment(session, actor=actor, unit_id=unit_id, data=body))


@router.get("/receipts/{receipt_id}", response_model=ReceiptRead, responses=problems(receipts.ReceiptNotFound))
async def get_receipt(receipt_id: uuid.UUID, actor: Read, session: SessionDep) -> ReceiptRead:
    """One receipt: number, amount in figures and in capital numerals, what it settled, its status."""
    return await receipts.get_receipt(session, actor=actor, receipt_id=receipt_id)


PDF = {"content": PDF_CONTENT}


def _pdf(printed: prints.Printed, *, status_code: int = 200) -> Response:
    headers = {"Content-Disposition": content_disposition("inline", filename=printed.ascii_filename, name=printed.filename)}
    if printed.record is not None:
        headers["Print-Number"] = str(printed.record.number)
    if printed.replayed:
        headers[REPLAYED] = "true"
    return Response(printed.pdf, status_code=status_code, media_type="application/pdf", headers=headers)


@router.get("/receipts/{receipt_id}/pdf", response_class=Response, responses={
    200: {**PDF, "description": "The receipt marked 预览"}, **problems(receipts.ReceiptNotFound)})
async def preview_receipt(receipt_id: uuid.UUID, actor: Read, session: SessionDep) -> Response:
    """A preview of the printable receipt (PDF, Chinese), always marked 预览 in its corner.

    Side-effect free: nothing is written, not even an audit entry, however often it is fetched
    (a range request or a browser's preview counts nothing). Because nothing records it, it is
    marked 预览 so that it can never pass for a print: to print the receipt for the payer, POST
    `/receipts/{id}/prints`, which records who printed it, when and why."""
    return _pdf(await prints.preview(session, actor=actor, receipt_id=receipt_id))


@router.post("/receipts/{receipt_id}/prints", response_class=Response, status_code=CREATED, responses={
    CREATED: {**PDF, "description": "The receipt as printed: unmarked the first time, 补打 N after",
              "headers": {"Print-Number": {"description": "This print's number (1 = first print)", "schema": {"type": "integer"}},
                          REPLAYED: {"description": "`true` when this is the print an earlier request with the same key made",
                                     "schema": {"type": "string", "enum": ["true"]}}}},
    **problems(receipts.ReceiptNotFound, prints.ReprintNeedsReason, IdempotencyKeyReused, IdempotencyRequestInProgress)})
async def print_receipt(receipt_id: uuid.UUID, actor: PrintPerm, session: SessionDep, settings: SettingsDep, request: Request,
                        idempotency_key: OptionalIdempotencyKey = None,
                        body: Annotated[ReceiptPrintCreate | None, Body()] = None) -> Response:
    """Print the receipt for the payer, recorded: who printed it, when and why (in `prints` and the audit trail).

    The first print is unmarked; every later one is a reprint, marked 补打 N in its corner, and
    needs a `reason` (422 naming `reason` without one). Prints at the same moment get distinct
    numbers. The body may be left out for a first print. Send an optional `Idempotency-Key`: a retry with the same key and body returns the
    same print again (`Idempotent-Replayed: true`) and counts nothing."""
    retry = None if idempotency_key is None else prints.Retry(
        key=idempotency_key, method=request.method, path=request.url.path,
        retention=timedelta(hours=settings.idempotency_retention_hours))
    printed = await prints.print_receipt(session, actor=actor, receipt_id=receipt_id, data=body or ReceiptPrintCreate(),
                                         retry=retry)
    return _pdf(printed, status_code=CREATED)


@router.get("/receipts/{receipt_id}/prints", response_model=list[ReceiptPrintRead], responses=problems(receipts.ReceiptNotFound))
async def list_prints(receipt_id: uuid.UUID, actor: Read, session: SessionDep) -> list[ReceiptPrintRead]:
    """The receipt's print history, the first print first: number, when, who, why."""
    return await prints.list_prints(session, actor=actor, receipt_id=receipt_id)


@router.get("/estates/{estate_id}/receipts", response_model=Page[ReceiptRead], responses=problems(EstateNotFound, UnknownSortKey))
async def list_receipts(
    estate_id: uuid.UUID, actor: Read, session: SessionDep, page: ReceiptPage,
    number: Annotated[str | None, Query(max_length=40, pattern=r"^[^\x00]*$", description="A fragment of the number")] = None,
    unit_id: uuid.UUID | None = None, cashier_id: uuid.UUID | None = None, method: PaymentMethod | None = None,
    status: ReceiptStatus | None = None, series: ReceiptSeries | None = None,
    since: Annotated[Instant | None, Query(alias="from", description="Issued at or after")] = None,
    until: Annotated[Instant | None, Query(alias="to", description="Issued before")] = None,
) -> Page[ReceiptRead]:
    """The estate's receipts and refund documents, newest first; filter by number, unit, cashier, method, status, time."""
    rows, total = await receipts.list_receipts(session, actor=actor, estate_id=estate_id, page=page, number=number,
                                               unit_id=unit_id, cashier_id=cashier_id, method=method, status=status,
                                               series=series, since=since, until=until)
    return Page(items=rows, total=total, limit=page.limit, offset=page.offset)


@router.post("/receipts/{receipt_id}/void", response_model=ReceiptRead,
             responses=problems(receipts.ReceiptNotFound, IllegalTransition, VoidNeedsReason, receipts.CreditAlreadyRefunded,
                                SessionHandedOver, ReceiptHasChannelRefund))
@idempotent(200, required=True)
async def void_receipt(receipt_id: uuid.UUID, body: ReceiptVoid, actor: Void, session: SessionDep) -> ReceiptRead:
    """Void a receipt with a reason. The number stays, marked void; its charges are open again and
    any credit is removed. If its cashier session was already handed over, the void is booked as an
    adjustment in your current session. Voiding twice is a 409 naming the current state."""
    return await receipts.void_receipt(session, actor=actor, receipt_id=receipt_id, reason=body.reason)


@router.post("/units/{unit_id}/refunds", response_model=RefundRead, status_code=CREATED,
             responses=idempotent_responses(CREATED, UnitNotFound, payments.ReferenceRequired, refunds.RefundExceedsCredit,
                                            refunds.RefundNeedsApproval, payments.NoCashierForPayment, SessionHandedOver))
async def make_refund(unit_id: uuid.UUID, body: RefundCreate, actor: RefundPerm, session: SessionDep, settings: SettingsDep,
                      request: Request, idempotency_key: IdempotencyKey) -> JSONResponse:
    """Pay back part or all of a unit's credit (free money on its prepaid account), with its own numbered document
    (QS-R-2026-000001). Above PROPDESK_REFUND_APPROVAL_ABOVE: 409 `refund-needs-approval`; ask at
    /units/{unit_id}/account/refunds instead.

    Requires an `Idempotency-Key` header, as payments do.
    """
    return await run_once(session, actor=actor, key=idempotency_key, request=request, body=body, settings=settings,
                          status_code=CREATED,
                          run=lambda: refunds.make_refund(session, actor=actor, unit_id=unit_id, data=body,
                                                          approval_above=settings.refund_approval_above))


@router.get("/units/{unit_id}/credit", response_model=UnitCredit, responses=problems(UnitNotFound))
async def unit_credit(unit_id: uuid.UUID, actor: Read, session: SessionDep) -> UnitCredit:
    """What the unit has on account: overpayments kept, refunds paid, and what may still be refunded."""
    return await refunds.unit_credit(session, actor=actor, unit_id=unit_id)
