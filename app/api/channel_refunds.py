"""Refunds of channel payments (退款), paid back through the channel, and the channel's refund notifications (issue 18)."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.status import HTTP_201_CREATED

from app.api.deps import SessionDep, SettingsDep, require
from app.api.errors import problems
from app.api.idempotency import idempotent, idempotent_responses
from app.api.payment_channels import NotifyAnswer
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.fees.channels import credentials, wechat
from app.domain.fees.channels import refunds as channel_refunds
from app.domain.fees.channels import service as channels
from app.domain.fees.channels.refund_schemas import ChannelRefundCreate, ChannelRefundRead
from app.domain.fees.payments.receipts import CreditAlreadyRefunded

router = APIRouter(tags=["payment channels"])

# A refund reverses a receipt: the supervisor, who alone voids one, and who may also pay money back.
Reverse = Annotated[Actor, Depends(require(Perm.receipts_void))]
Take = Annotated[Actor, Depends(require(Perm.payments_take))]
CREATED = HTTP_201_CREATED


@router.post("/channel-payments/{payment_id}/refunds", response_model=ChannelRefundRead, status_code=CREATED,
             responses=idempotent_responses(CREATED, channels.ChannelPaymentNotFound, channel_refunds.ChannelPaymentNotPaid,
                                            channel_refunds.ChannelRefundExists, CreditAlreadyRefunded,
                                            credentials.ChannelNotConfigured, credentials.CredentialsUnreadable))
@idempotent(CREATED, required=True)
async def refund_channel_payment(payment_id: uuid.UUID, body: ChannelRefundCreate, actor: Reverse, session: SessionDep,
                                 settings: SettingsDep) -> ChannelRefundRead:
    """Pay a channel payment back, whole, through the channel (WeChat Pay 申请退款), with a reason.

    The answer is the refund as the channel left it: `succeeded` when the money has left (the
    receipt is then voided as a supervisor's void would: the number kept, the charges open again),
    `failed` with the channel's reason when it refused (e.g. `NOT_ENOUGH`: the merchant balance is
    short; the receipt stays valid and another refund may be asked), or `pending` while the channel
    works on it (the receipt stays valid until the channel's notification or a query says
    SUCCESS; meanwhile the receipt cannot be voided at the desk). Send an `Idempotency-Key`
    (required): a retry returns the same refund and asks nothing again."""
    return await channel_refunds.request_refund(session, actor=actor, channel_payment_id=payment_id, data=body,
                                                settings=settings)


@router.get("/channel-refunds/{refund_id}", response_model=ChannelRefundRead,
            responses=problems(channel_refunds.ChannelRefundNotFound))
async def get_channel_refund(refund_id: uuid.UUID, actor: Take, session: SessionDep) -> ChannelRefundRead:
    """A channel refund as it stands (as last told by the channel; POST …/query asks it now)."""
    return await channel_refunds.get_refund(session, actor=actor, refund_id=refund_id)


@router.post("/channel-refunds/{refund_id}/query", response_model=ChannelRefundRead,
             responses=problems(channel_refunds.ChannelRefundNotFound, credentials.ChannelNotConfigured,
                                credentials.CredentialsUnreadable, wechat.ChannelUnavailable))
@idempotent(200)
async def query_channel_refund(refund_id: uuid.UUID, actor: Take, session: SessionDep, settings: SettingsDep) -> ChannelRefundRead:
    """Ask the channel where a pending or abnormal refund stands (查询单笔退款) and apply its answer,
    as its notification would: SUCCESS voids the receipt once. A refund the channel never received
    becomes `failed`. A finished refund is returned as it is, without asking."""
    return await channel_refunds.query(session, actor=actor, refund_id=refund_id, settings=settings)


@router.post("/payment-channels/wechat/refund-notify/{estate_id}", response_model=NotifyAnswer,
             responses={400: {"model": NotifyAnswer, "description": "Not a refund notification"},
                        401: {"model": NotifyAnswer, "description": "Not signed by WeChat Pay, or too old: nothing applied"},
                        404: {"model": NotifyAnswer, "description": "No WeChat Pay merchant for this estate"},
                        503: {"model": NotifyAnswer, "description": "The estate's credentials cannot be opened: the channel retries"}})
async def wechat_refund_notify(estate_id: uuid.UUID, request: Request, session: SessionDep, settings: SettingsDep) -> JSONResponse:
    """WeChat Pay's refund notification (退款结果通知: REFUND.SUCCESS, REFUND.ABNORMAL, REFUND.CLOSED), called
    by the channel, not by staff: no sign-in. Each refund asks for it here (its `notify_url`).

    Verified exactly as a payment notification (signature, serial, five-minute window, AES-GCM
    resource), then checked against the refund asked (merchant, order, amounts) or put before
    finance as an alert. SUCCESS voids the receipt once however often it is told; ABNORMAL
    leaves the receipt valid and alerts finance."""
    answer = await channel_refunds.handle_notification(session, estate_id=estate_id, headers=dict(request.headers),
                                                       body=await request.body(), settings=settings)
    return JSONResponse(answer.body(), status_code=answer.status)
