"""Alipay at the counter and in the poll: alipay.py's trade.pay (bar_code), query, close and cancel
answered as Verdicts (verdict.py), so resolve.py settles an Alipay order as it settles a WeChat
Pay one, and books a paid one through booking.settle, the notification's own locked path.

Alipay's answers in the office's words:
- trade.pay: 10000 paid; 10003 the owner is confirming (waiting: query again); 20000, or
  ACQ.SYSTEM_ERROR, or no verified answer: unknown (query; cancel if it stays so); any other
  40004 failed with its sub_code (ACQ.PAYMENT_AUTH_CODE_INVALID...: nothing was taken). An
  unsigned refusal of the request itself (a wrong app key) took nothing either: failed.
- trade.query: TRADE_SUCCESS / TRADE_FINISHED paid, WAIT_BUYER_PAY waiting, TRADE_CLOSED
  closed; ACQ.TRADE_NOT_EXIST is a QR nobody has scanned yet: waiting.
- trade.close: 10000 closed; ACQ.TRADE_NOT_EXIST closed too (never scanned; the poll closes only
  past expires_at, the order's own time_expire); anything else (paid meanwhile) unknown.
- trade.cancel (撤销, a payment code): 10000 closed, the money back to the owner if it was paid.
A payment code's trade names no notify_url: the desk has Alipay's answer, and the counter's row
is not committed while it waits, so a notification would find no order and raise a false alert
(the poll is the backup; one sent to an app-level address books once all the same).
A query's answer names neither app nor seller: it is the gateway's signed answer to the estate's
own app, so its Word names the estate's merchant; booking.settle checks the order and the amount.
"""
from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from app.domain.fees.channels import alipay
from app.domain.fees.channels.booking import TradeState, Word
from app.domain.fees.channels.credentials import AlipayCredentials
from app.domain.fees.channels.errors import ChannelRefused, ChannelUnavailable
from app.domain.fees.channels.model import Channel, ChannelPayment
from app.domain.fees.channels.verdict import Outcome, Verdict

TRADE_STATES = {"TRADE_SUCCESS": Outcome.paid, "TRADE_FINISHED": Outcome.paid, "WAIT_BUYER_PAY": Outcome.waiting,
                "TRADE_CLOSED": Outcome.closed}
STATE_WORDS = {"WAIT_BUYER_PAY": "waiting for the owner to pay", "TRADE_CLOSED": "closed at Alipay"}
# Business failures after which the trade's fate is not known: Alipay's advice is to query it.
UNSETTLED_CODES = {"ACQ.SYSTEM_ERROR", "aop.ACQ.SYSTEM_ERROR", "ACQ.TRADE_HAS_SUCCESS"}
NOT_EXIST = "ACQ.TRADE_NOT_EXIST"


def _words(trade: alipay.Trade) -> str:
    return f"{trade.sub_code or trade.code}: {trade.message}".strip(" :")[:200]


async def _asked(call: Awaitable[alipay.Trade]) -> alipay.Trade | Verdict:
    """The channel's verified answer, or the unknown / refused Verdict standing for none."""
    try:
        return await call
    except ChannelUnavailable as exc:
        return Verdict(outcome=Outcome.unknown, reason=f"no verified answer from Alipay ({exc.extra.get('reason', '')})"[:200])
    except ChannelRefused as exc:  # an unsigned refusal of the request (another app id, a bad sign)
        return Verdict(outcome=Outcome.failed, reason=exc.detail[:200])


@dataclass(frozen=True)
class AlipayLink:
    creds: AlipayCredentials
    gateway: str

    @property
    def merchant(self) -> dict[str, Any]:
        return alipay.merchant_of(self.creds)

    def _paid(self, trade: alipay.Trade, row: ChannelPayment) -> Verdict:
        word = Word(channel=Channel.alipay, notification_id=f"query:{row.out_trade_no}",
                    out_trade_no=trade.out_trade_no or row.out_trade_no, transaction_id=trade.trade_no,
                    state=TradeState.paid, merchant=self.merchant, amount=trade.total_amount, currency="CNY",
                    amount_detail={"total_amount": None if trade.total_amount is None else str(trade.total_amount)},
                    paid_at=trade.paid_at)
        return Verdict(outcome=Outcome.paid, word=word)

    async def submit_code(self, row: ChannelPayment, *, auth_code: str, description: str, store_id: str) -> Verdict:
        trade = await _asked(alipay.barcode_pay(
            self.creds, gateway=self.gateway, notify_url="", out_trade_no=row.out_trade_no,
            auth_code=auth_code, subject=description, total_amount=row.amount, time_expire=row.expires_at))
        if isinstance(trade, Verdict):
            return trade
        if trade.ok:
            return self._paid(trade, row)
        if trade.code == alipay.PAYING:
            return Verdict(outcome=Outcome.waiting, reason=_words(trade) or "10003: the owner is confirming")
        if trade.code != "40004" or trade.sub_code in UNSETTLED_CODES:
            return Verdict(outcome=Outcome.unknown, reason=_words(trade))
        return Verdict(outcome=Outcome.failed, reason=_words(trade))

    async def query(self, row: ChannelPayment) -> Verdict:
        trade = await _asked(alipay.query(self.creds, gateway=self.gateway, out_trade_no=row.out_trade_no))
        if isinstance(trade, Verdict):
            return trade if trade.outcome is Outcome.unknown else Verdict(outcome=Outcome.unknown, reason=trade.reason)
        if trade.sub_code == NOT_EXIST:
            return Verdict(outcome=Outcome.waiting, reason=_words(trade))
        if not trade.ok:
            return Verdict(outcome=Outcome.unknown, reason=_words(trade))
        outcome = TRADE_STATES.get(trade.trade_status, Outcome.unknown)
        if outcome is Outcome.paid:
            return self._paid(trade, row)
        return Verdict(outcome=outcome, reason=f"{trade.trade_status}: {STATE_WORDS.get(trade.trade_status, 'unknown state')}")

    async def close(self, row: ChannelPayment) -> Verdict:
        trade = await _asked(alipay.close(self.creds, gateway=self.gateway, out_trade_no=row.out_trade_no))
        if isinstance(trade, Verdict):
            return Verdict(outcome=Outcome.unknown, reason=trade.reason)
        if trade.ok or trade.sub_code == NOT_EXIST:
            return Verdict(outcome=Outcome.closed, reason="TRADE_CLOSED: closed at Alipay")
        return Verdict(outcome=Outcome.unknown, reason=_words(trade))  # ACQ.TRADE_STATUS_ERROR (paid): query again

    async def reverse(self, row: ChannelPayment) -> Verdict:
        trade = await _asked(alipay.cancel(self.creds, gateway=self.gateway, out_trade_no=row.out_trade_no))
        if isinstance(trade, Verdict):
            return Verdict(outcome=Outcome.unknown, reason=trade.reason)
        if trade.ok:
            back = "; the money went back to the owner" if trade.action == "refund" else ""
            return Verdict(outcome=Outcome.closed, reason=f"TRADE_CLOSED: cancelled at Alipay{back}")
        return Verdict(outcome=Outcome.unknown, reason=_words(trade))
