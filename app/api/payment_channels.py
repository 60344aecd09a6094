"""Money channels: an estate's WeChat Pay merchant account and Alipay app, a QR code for a unit's
charges, and the channels' payment notifications (issue 18)."""
from __future__ import annotations

import uuid
from typing import Annotated, Literal
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel
from starlette.status import HTTP_201_CREATED

from app.api.deps import SessionDep, SettingsDep, require
from app.api.errors import PROBLEM, problems
from app.api.etags import ExpectedVersion, edit_responses, read_responses, tagged
from app.api.idempotency import idempotent, idempotent_responses
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.fees.cash.service import SessionHandedOver
from app.domain.fees.channels import counter, credentials, wechat
from app.domain.fees.channels import service as channels
from app.domain.fees.channels.schemas import (
    AlipayCredentialRead,
    AlipayCredentialWrite,
    ChannelPaymentCreate,
    ChannelPaymentRead,
    CounterPaymentCreate,
    WechatCredentialRead,
    WechatCredentialWrite,
)
from app.domain.fees.payments import service as payments
from app.domain.registry.errors import EstateNotFound, UnitNotFound

router = APIRouter(tags=["payment channels"])

# Who sets up the fees sets up where their money comes in: finance (and the administrator).
Configure = Annotated[Actor, Depends(require(Perm.fees_configure))]
Take = Annotated[Actor, Depends(require(Perm.payments_take))]
CREATED = HTTP_201_CREATED


@router.put("/estates/{estate_id}/payment-channels/wechat", response_model=WechatCredentialRead,
            responses=edit_responses(EstateNotFound))
async def put_wechat(estate_id: uuid.UUID, body: WechatCredentialWrite, actor: Configure, session: SessionDep,
                     settings: SettingsDep, expected: ExpectedVersion, response: Response) -> WechatCredentialRead:
    """Set the estate's WeChat Pay merchant account, or replace it (rotation: send it all again).

    The merchant private key, the APIv3 key and the platform public key are stored encrypted
    with the app secret and never returned; the answer says which are set. On the merchant
    platform, set the payment notification URL to
    `{PROPDESK_CHANNEL_NOTIFY_BASE_URL}/api/v1/payment-channels/wechat/notify/{estate_id}`."""
    return tagged(response, await credentials.put_wechat(session, actor=actor, estate_id=estate_id, data=body,
                                                         secret=settings.signing_secret, expected_version=expected))


@router.get("/estates/{estate_id}/payment-channels/wechat", response_model=WechatCredentialRead,
            responses=read_responses(EstateNotFound, credentials.CredentialsNotSet))
async def get_wechat(estate_id: uuid.UUID, actor: Configure, session: SessionDep, response: Response) -> WechatCredentialRead:
    """The estate's WeChat Pay merchant account without its secrets: ids, which secrets are set, when it changed."""
    return tagged(response, await credentials.get_wechat(session, actor=actor, estate_id=estate_id))


@router.put("/estates/{estate_id}/payment-channels/alipay", response_model=AlipayCredentialRead,
            responses=edit_responses(EstateNotFound))
async def put_alipay(estate_id: uuid.UUID, body: AlipayCredentialWrite, actor: Configure, session: SessionDep,
                     settings: SettingsDep, expected: ExpectedVersion, response: Response) -> AlipayCredentialRead:
    """Set the estate's Alipay app (public-key mode, RSA2), or replace it (rotation: send it all again).

    The app private key and the Alipay public key are stored encrypted with the app secret and
    never returned; the answer says which are set. On the Alipay open platform, sign with RSA2
    in public-key mode (upload the app public key, copy the Alipay public key here) and set the
    notification URL (应用网关/授权回调) to
    `{PROPDESK_CHANNEL_NOTIFY_BASE_URL}/api/v1/payment-channels/alipay/notify/{estate_id}`."""
    return tagged(response, await credentials.put_alipay(session, actor=actor, estate_id=estate_id, data=body,
                                                         secret=settings.signing_secret, expected_version=expected))


@router.get("/estates/{estate_id}/payment-channels/alipay", response_model=AlipayCredentialRead,
            responses=read_responses(EstateNotFound, credentials.CredentialsNotSet))
async def get_alipay(estate_id: uuid.UUID, actor: Configure, session: SessionDep, response: Response) -> AlipayCredentialRead:
    """The estate's Alipay app without its secrets: app id, seller id, which secrets are set, when it changed."""
    return tagged(response, await credentials.get_alipay(session, actor=actor, estate_id=estate_id))


@router.post("/units/{unit_id}/channel-payments", response_model=ChannelPaymentRead, status_code=CREATED,
             responses=idempotent_responses(CREATED, UnitNotFound, payments.ChargeNotOnUnit, payments.ChargeAlreadySettled,
                                            payments.NoCashierForPayment, credentials.ChannelNotConfigured,
                                            credentials.CredentialsUnreadable, wechat.ChannelRefused, wechat.ChannelUnavailable))
@idempotent(CREATED, required=True)
async def create_channel_payment(unit_id: uuid.UUID, body: ChannelPaymentCreate, actor: Take, session: SessionDep,
                                 settings: SettingsDep) -> ChannelPaymentRead:
    """A QR code (扫码支付: WeChat Pay Native, or Alipay precreate) for exactly what the `charge_ids` owe now.

    Show or print `code_url` as a QR code; it is valid until `expires_at`. When the owner pays,
    the channel's notification settles the charges and issues a receipt in the online series
    (QS-W-2026-000001), counted in no cashier's drawer. Send an `Idempotency-Key` (required): a
    retry returns the same QR code and orders nothing again."""
    return await channels.create_native(session, actor=actor, unit_id=unit_id, data=body, settings=settings)


@router.post("/units/{unit_id}/channel-payments/counter", response_model=ChannelPaymentRead, status_code=CREATED,
             responses=idempotent_responses(CREATED, UnitNotFound, payments.ChargeNotOnUnit, payments.ChargeAlreadySettled,
                                            payments.NoCashierForPayment, SessionHandedOver, credentials.ChannelNotConfigured,
                                            credentials.CredentialsUnreadable))
@idempotent(CREATED, required=True)
async def take_counter_payment(unit_id: uuid.UUID, body: CounterPaymentCreate, actor: Take, session: SessionDep,
                               settings: SettingsDep) -> ChannelPaymentRead:
    """Charge the owner's payment code (付款码支付) for exactly what the `charge_ids` owe now.

    Scan the code from the owner's phone into `auth_code` (WeChat Pay: 18 digits beginning 10-15;
    Alipay: 16 to 24 digits beginning 25-30) with `channel` wechat or alipay. The answer comes
    when the channel has decided, within about 30 seconds while the owner confirms on the phone:
    `paid` (the charges settled, a receipt in the desk's series, credited to your cashier session
    under method wechat or alipay, not counted as cash), `failed` with the channel's `reason`
    (AUTH_CODE_INVALID, NOT_ENOUGH, ACQ.BUYER_BALANCE_NOT_ENOUGH...: nothing was taken; scan a
    fresh code with a new key), or `closed` when it could not be confirmed in time and was
    reversed (Alipay: cancelled) at the channel (any money goes back to the owner). Send an `Idempotency-Key` (required): a retry
    returns the same answer and charges nothing again."""
    return await counter.take(session, actor=actor, unit_id=unit_id, data=body, settings=settings)


@router.get("/channel-payments/{payment_id}", response_model=ChannelPaymentRead,
            responses=problems(channels.ChannelPaymentNotFound))
async def get_channel_payment(payment_id: uuid.UUID, actor: Take, session: SessionDep) -> ChannelPaymentRead:
    """A channel payment as it stands: a QR `pending` until the owner pays, then `paid` with its
    receipt; a counter payment `paid`, `failed` or `closed` with the channel's `reason`."""
    return await channels.get_payment(session, actor=actor, payment_id=payment_id)


class NotifyAnswer(BaseModel):
    """The answer WeChat Pay v3 expects: SUCCESS, or FAIL with a message (the channel retries a FAIL)."""

    code: Literal["SUCCESS", "FAIL"]
    message: str | None = None


@router.post("/payment-channels/wechat/notify/{estate_id}", response_model=NotifyAnswer,
             responses={401: {"model": NotifyAnswer, "description": "Not signed by WeChat Pay, or too old: nothing booked"},
                        404: {"model": NotifyAnswer, "description": "No WeChat Pay merchant for this estate"},
                        503: {"model": NotifyAnswer, "description": "The estate's credentials cannot be opened: the channel retries"}})
async def wechat_notify(estate_id: uuid.UUID, request: Request, session: SessionDep, settings: SettingsDep) -> JSONResponse:
    """WeChat Pay's payment notification (支付通知), called by the channel, not by staff: no sign-in.

    Believed only when its Wechatpay-Signature verifies with the estate's platform public key, the
    serial names that key and the timestamp is within five minutes; the resource is decrypted
    with the APIv3 key and must name our merchant, app, order, amount and CNY, or it becomes an
    alert for finance and books nothing. The same notification again answers the same, and books once."""
    answer = await channels.handle_notification(session, estate_id=estate_id, headers=dict(request.headers),
                                                body=await request.body(), settings=settings)
    return JSONResponse(answer.body(), status_code=answer.status)


ALIPAY_ANSWERS = {401: "Not signed by Alipay (or not a UTF-8 form): nothing booked", 404: "No Alipay app for this estate",
                  503: "The estate's credentials cannot be opened: the channel retries"}
# The route answers in text; the problems any route may give (a role refused, a malformed
# request) stay problem+json, declared without a model so that no text/plain joins them.
PROBLEM_ONLY = {"content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


@router.post("/payment-channels/alipay/notify/{estate_id}", response_class=PlainTextResponse,
             responses={200: {"content": {"text/plain": {"example": "success"}},
                              "description": "`success`: received (booked, or put before finance as an alert)"},
                        **{status: {"content": {"text/plain": {"example": "failure"}}, "description": text}
                           for status, text in ALIPAY_ANSWERS.items()},
                        403: {**PROBLEM_ONLY, "description": "The caller's role may not do this"},
                        422: {**PROBLEM_ONLY, "description": "The request is not valid: errors[] names each field"}})
async def alipay_notify(estate_id: uuid.UUID, request: Request, session: SessionDep, settings: SettingsDep) -> PlainTextResponse:
    """Alipay's asynchronous notification (异步通知), called by the channel, not by staff: no sign-in.

    A form (application/x-www-form-urlencoded, UTF-8), believed only when its RSA2 `sign`
    verifies with the estate's Alipay public key; it must name our app_id, seller_id, order and
    amount, or it becomes an alert for finance and books nothing. TRADE_SUCCESS / TRADE_FINISHED
    settle the charges once, however often it comes. Answered `success` (Alipay stops) or
    `failure` (Alipay posts it again)."""
    try:
        form = dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        return PlainTextResponse("failure", status_code=401)
    answer = await channels.handle_alipay_notification(session, estate_id=estate_id, form=form, settings=settings)
    return PlainTextResponse("success" if answer.status == 200 else "failure", status_code=answer.status)
