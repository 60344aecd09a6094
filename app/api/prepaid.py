"""Prepaid accounts (预存款): deposits, the balance, the statement, refunds of the balance."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.status import HTTP_201_CREATED

from app.api.deps import SessionDep, SettingsDep, require
from app.api.errors import problems
from app.api.files import Encoding, download
from app.api.idempotency import IdempotencyKey, idempotent, idempotent_responses, run_once
from app.domain import spreadsheet
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.calendar import estate_time
from app.domain.errors import IllegalTransition
from app.domain.fees.cash.service import SessionHandedOver
from app.domain.fees.payments import service as payments
from app.domain.fees.prepaid import deposits, refunds
from app.domain.fees.prepaid import statement as account_statement
from app.domain.fees.prepaid.model import BalanceTooLow, DecisionNeedsReason, OwnRefundApproved
from app.domain.fees.prepaid.schemas import (
    AccountRead,
    AccountRefundCreate,
    AccountRefundRead,
    AccountStatement,
    DepositCreate,
    DepositRead,
    RefundDecision,
)
from app.domain.fees.reports.schemas import ReportFormat
from app.domain.registry.errors import UnitNotFound
from app.domain.types import EXACT_DAY

router = APIRouter(tags=["prepaid accounts"])

Read = Annotated[Actor, Depends(require(Perm.fees_read))]
Take = Annotated[Actor, Depends(require(Perm.payments_take))]
RefundPerm = Annotated[Actor, Depends(require(Perm.refunds_make))]
Approve = Annotated[Actor, Depends(require(Perm.refunds_approve))]
CREATED = HTTP_201_CREATED
FILES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}},
                      spreadsheet.XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
          "description": "The statement as JSON, or with format=csv / format=xlsx as a file with Chinese headers"},
}


@router.post("/units/{unit_id}/deposits", response_model=DepositRead, status_code=CREATED,
             responses=idempotent_responses(CREATED, UnitNotFound, payments.ReferenceRequired, payments.TenderedOnlyForCash,
                                            payments.TenderedTooLittle, payments.NoCashierForPayment,
                                            deposits.EarmarkNotInEstate, SessionHandedOver))
async def take_deposit(unit_id: uuid.UUID, body: DepositCreate, actor: Take, session: SessionDep, settings: SettingsDep,
                       request: Request, idempotency_key: IdempotencyKey) -> JSONResponse:
    """Pay money into the unit's prepaid account, with a numbered receipt in the deposit series (QS-D-2026-000001).

    `earmarks` set parts aside for fee items (only 物业费, only water); the rest settles any charge.
    The deposit joins the cashier's session of the day for its method. The account settles the
    unit's open charges, oldest first, when the deduction job runs (06:30 and after each billing run).
    Requires an `Idempotency-Key` header, as payments do."""
    return await run_once(session, actor=actor, key=idempotency_key, request=request, body=body, settings=settings,
                          status_code=CREATED,
                          run=lambda: deposits.take_deposit(session, actor=actor, unit_id=unit_id, data=body))


@router.get("/units/{unit_id}/account", response_model=AccountRead, responses=problems(UnitNotFound))
async def get_account(unit_id: uuid.UUID, actor: Read, session: SessionDep) -> AccountRead:
    """The unit's prepaid balance, in all and by earmark (free money first)."""
    return await deposits.get_account(session, actor=actor, unit_id=unit_id)


@router.get("/units/{unit_id}/account/statement", response_model=AccountStatement, response_class=Response, responses={
    **FILES, **problems(UnitNotFound, account_statement.DaysOutOfOrder)})
async def get_statement(
    unit_id: uuid.UUID, actor: Read, session: SessionDep,
    from_date: Annotated[date | None, Query(alias="from", description="First day (estate-local); default the 1st of this month"),
                         EXACT_DAY] = None,
    to_date: Annotated[date | None, Query(alias="to", description="Last day, included; default today"), EXACT_DAY] = None,
    format: ReportFormat = "json", encoding: Encoding = "utf-8",
) -> Response:
    """The account's statement for the days given: opening balance, each deposit, deduction and refund
    with its document, closing balance (opening + deposits - deductions - refunds)."""
    estate, s = await account_statement.statement(session, actor=actor, unit_id=unit_id, from_date=from_date, to_date=to_date)
    if format == "json":
        return Response(s.model_dump_json(), media_type="application/json")
    sheets, tz = account_statement.sheets(s), estate_time.estate_zone(estate)
    name = f"account-{s.from_date:%Y%m%d}-{s.to_date:%Y%m%d}"
    if format == "csv":
        return download(spreadsheet.to_csv(sheets, tz=tz, encoding=encoding), media_type=spreadsheet.csv_media_type(encoding),
                        filename=f"{name}.csv")
    return download(spreadsheet.to_xlsx(sheets, tz=tz), media_type=spreadsheet.XLSX_MEDIA_TYPE, filename=f"{name}.xlsx")


@router.post("/units/{unit_id}/account/refunds", response_model=AccountRefundRead, status_code=CREATED,
             responses=idempotent_responses(CREATED, UnitNotFound, payments.ReferenceRequired, BalanceTooLow,
                                            payments.NoCashierForPayment, SessionHandedOver))
async def request_refund(unit_id: uuid.UUID, body: AccountRefundCreate, actor: RefundPerm, session: SessionDep,
                         settings: SettingsDep, request: Request, idempotency_key: IdempotencyKey) -> JSONResponse:
    """Pay back part of the account's balance (free money, or one earmark's with `fee_item_id`).

    At or below PROPDESK_REFUND_APPROVAL_ABOVE the refund is paid at once (state `approved`, with
    its QS-R document); above it the request waits (`requested`) for another person's approval.
    Requires an `Idempotency-Key` header."""
    return await run_once(session, actor=actor, key=idempotency_key, request=request, body=body, settings=settings,
                          status_code=CREATED,
                          run=lambda: refunds.request_refund(session, actor=actor, unit_id=unit_id, data=body,
                                                             approval_above=settings.refund_approval_above))


DECIDE = problems(refunds.AccountRefundNotFound, IllegalTransition, OwnRefundApproved, DecisionNeedsReason, BalanceTooLow,
                  payments.NoCashierForPayment, SessionHandedOver)


@router.post("/account-refunds/{refund_id}/approve", response_model=AccountRefundRead, responses=DECIDE)
@idempotent(200)
async def approve_refund(refund_id: uuid.UUID, body: RefundDecision, actor: Approve, session: SessionDep) -> AccountRefundRead:
    """Approve a waiting refund, with a reason: the money is paid back now, from your drawer. Never your own request (403)."""
    return await refunds.decide(session, actor=actor, refund_id=refund_id, approve=True, reason=body.reason)


@router.post("/account-refunds/{refund_id}/reject", response_model=AccountRefundRead, responses=DECIDE)
@idempotent(200)
async def reject_refund(refund_id: uuid.UUID, body: RefundDecision, actor: Approve, session: SessionDep) -> AccountRefundRead:
    """Reject a waiting refund, with a reason; nothing moves. Never your own request (403)."""
    return await refunds.decide(session, actor=actor, refund_id=refund_id, approve=False, reason=body.reason)
