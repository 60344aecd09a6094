"""WeChat Pay's trade bill (交易账单) as its API v3 documents the file, for the fake and for uploads.

Header, one line per transaction with every field prefixed by a backtick, then the summary's
header and its one line; UTF-8, CRLF. Refund lines have 交易状态 REFUND, the refund's numbers
and amount, and the fee given back as a negative 手续费.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

HEADER = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"
          "应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,"
          "手续费,费率,订单金额,申请退款金额,费率备注")
SUMMARY = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
RATE = Decimal("0.006")  # 0.60%, the common rate of a property-fee merchant
CENT = Decimal("0.01")


@dataclass
class BillLine:
    at: datetime
    transaction_id: str
    out_trade_no: str
    amount: Decimal
    appid: str = "wxd678efh567hg6787"
    mchid: str = "1900000109"
    status: str = "SUCCESS"
    refund_id: str = "0"
    out_refund_no: str = "0"
    refund_amount: Decimal = Decimal("0.00")
    description: str = "物业费"
    fee: Decimal | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_refund(self) -> bool:
        return self.status == "REFUND"

    @property
    def charged_fee(self) -> Decimal:
        if self.fee is not None:
            return self.fee
        base = self.refund_amount if self.is_refund else self.amount
        fee = (base * RATE).quantize(CENT)
        return -fee if self.is_refund else fee

    @property
    def settled(self) -> Decimal:
        return Decimal("0.00") if self.is_refund else self.amount

    def text(self) -> str:
        refund = self.is_refund
        values = [self.at.strftime("%Y-%m-%d %H:%M:%S"), self.appid, self.mchid, "0", "", self.transaction_id,
                  self.out_trade_no, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "NATIVE", self.status, "OTHERS", "CNY",
                  f"{self.settled:.2f}", "0.00", self.refund_id, self.out_refund_no, f"{self.refund_amount:.2f}", "0.00",
                  "ORIGINAL" if refund else "", "SUCCESS" if refund else "", self.description, "",
                  f"{self.charged_fee:.2f}", "0.60%", f"{self.amount:.2f}", f"{self.refund_amount:.2f}", ""]
        return ",".join("`" + v for v in values)


def bill_text(lines: list[BillLine]) -> str:
    settled = sum((x.settled for x in lines), Decimal("0.00"))
    refunds = sum((x.refund_amount for x in lines if x.is_refund), Decimal("0.00"))
    fees = sum((x.charged_fee for x in lines), Decimal("0.00"))
    orders = sum((x.amount for x in lines if not x.is_refund), Decimal("0.00"))
    summary = [str(len(lines)), f"{settled:.2f}", f"{refunds:.2f}", "0.00", f"{fees:.2f}", f"{orders:.2f}", f"{refunds:.2f}"]
    rows = [HEADER, *(x.text() for x in lines), SUMMARY, ",".join("`" + v for v in summary)]
    return "\r\n".join(rows) + "\r\n"
