"""What clients send to ask for a channel refund, and what they read of one."""
from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from app.domain.fees.channels.model import Channel
from app.domain.fees.channels.refund_model import ChannelRefundState
from app.domain.fees.payments.schemas import Amount, Reason
from app.domain.types import InputModel


class ChannelRefundCreate(InputModel):
    """A refund of the whole payment: its receipt is voided when the money has left, and a void is whole."""

    reason: Reason = Field(description="Why the money goes back; the receipt's void reason, and (80 characters) the owner's")


class ChannelRefundRead(BaseModel):
    id: uuid.UUID
    channel: Channel
    channel_payment_id: uuid.UUID
    payment_id: uuid.UUID
    receipt_id: uuid.UUID
    unit_id: uuid.UUID
    status: ChannelRefundState = Field(description="pending until the channel says the money left (succeeded), "
                                                    "refused it (failed), closed it, or could not deliver it (abnormal)")
    out_refund_no: str
    amount: Amount
    reason: str
    requested_by: uuid.UUID
    created_at: datetime
    refund_id: str | None = Field(description="The channel's refund number (微信支付退款单号)")
    channel_status: str = Field(description="The channel's last word: PROCESSING, SUCCESS, ABNORMAL, CLOSED, or its error code")
    channel_reason: str = Field(description="The channel's words on a refusal or an abnormal refund")
    user_received_account: str
    succeeded_at: datetime | None
    receipt_reversed: bool | None = Field(description="True: this refund voided the receipt; False: it was voided before; "
                                                      "null: not (yet) reversed")
