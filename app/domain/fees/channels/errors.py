"""What a money channel's answer can mean for the desk, whichever channel it is."""
from __future__ import annotations

from app.domain.errors import Conflict, DomainError, ErrorKind


class ChannelUnavailable(DomainError):
    kind = ErrorKind.unavailable
    title = "The payment channel did not answer, or its answer was not signed by it; try again shortly"
    title_zh = "支付渠道未应答，或其应答签名无效，请稍后重试"


class ChannelRefused(Conflict):
    title = "The payment channel refused the order"
    title_zh = "支付渠道拒绝了该订单"
