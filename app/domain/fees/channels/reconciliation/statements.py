"""A channel's statement of one day, read from the channel's own file format.

Each channel's parser turns its bytes into the same `Statement`: the lines (a payment or a
refund, with the channel's and our numbers, amount, fee) and the summary the file states.
PARSERS maps a channel to its parser; Alipay's (its 业务明细 CSV) joins it when that channel lands.

WeChat Pay's trade bill (交易账单, bill_type=ALL), as its API v3 documents it: a header line,
one line per transaction with every field prefixed by a backtick (so a spreadsheet keeps
"0012" and long numbers as text), then the summary's header and its one line. Refund lines
carry 交易状态 REFUND and the refund's numbers; their amount is 退款金额, their fee negative.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from app.domain.errors import Invalid
from app.domain.fees.channels.model import Channel

ZERO = Decimal("0.00")


class StatementUnreadable(Invalid):
    title = "The statement file is not in the channel's format"
    title_zh = "对账单文件不符合支付渠道的格式"


class LineKind(StrEnum):
    payment = "payment"
    refund = "refund"


@dataclass(frozen=True)
class Line:
    """One transaction of the statement, as the channel states it."""

    number: int  # the file's line number (1 = its header)
    kind: LineKind
    at: datetime  # 交易时间, in the channel's zone
    channel_ref: str  # 微信订单号 (a payment) or 微信退款单号 (a refund): unique in the channel
    out_no: str  # 商户订单号 (a payment) or 商户退款单号 (a refund): ours
    out_trade_no: str  # 商户订单号: the payment this line is of (a refund's too)
    status: str  # 交易状态: SUCCESS, REFUND, REVOKED ...
    amount: Decimal  # 订单金额 of a payment; 退款金额 of a refund
    settled: Decimal  # 应结订单金额 of a payment (less vouchers); the refund's amount, of a refund
    fee: Decimal  # 手续费, negative on a refund (the fee given back)
    mchid: str
    detail: dict[str, str]


@dataclass(frozen=True)
class Summary:
    count: int
    settled_total: Decimal  # 应结订单总金额
    refund_total: Decimal  # 退款总金额
    fee_total: Decimal  # 手续费总金额
    order_total: Decimal  # 订单总金额


@dataclass(frozen=True)
class Statement:
    lines: list[Line]
    summary: Summary

    @property
    def net(self) -> Decimal:
        """What the channel settles to the merchant's account for the day."""
        return self.summary.settled_total - self.summary.refund_total - self.summary.fee_total


# --- WeChat Pay -----------------------------------------------------------------------------

WECHAT_HEADER = [
    "交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号",
    "用户标识", "交易类型", "交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额",
    "微信退款单号", "商户退款单号", "退款金额", "充值券退款金额", "退款类型", "退款状态", "商品名称",
    "商户数据包", "手续费", "费率", "订单金额", "申请退款金额", "费率备注",
]
WECHAT_SUMMARY = ["总交易单数", "应结订单总金额", "退款总金额", "充值券退款总金额", "手续费总金额", "订单总金额", "申请退款总金额"]


def _decode(data: bytes) -> str:
    # The API serves UTF-8; a file saved from the merchant platform on a Chinese PC may be GB18030.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise StatementUnreadable("the file is neither UTF-8 nor GB18030 text", field="file", line=1)


def _fields(text: str, number: int, width: int) -> list[str]:
    """A data line's fields: each starts with a backtick, so split on ",`" (a comma in 商品名称 stays)."""
    if not text.startswith("`"):
        raise StatementUnreadable(f"line {number}: fields must start with a backtick (`)", field="file", line=number)
    fields = text[1:].split(",`")
    if len(fields) != width:
        raise StatementUnreadable(f"line {number}: {len(fields)} fields, the channel's format has {width}",
                                  field="file", line=number)
    return [f.strip() for f in fields]


def _money(value: str, number: int, column: str) -> Decimal:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise StatementUnreadable(f"line {number}: {column} {value!r} is not an amount", field="file", line=number,
                                  column=column) from None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise StatementUnreadable(f"line {number}: {column} {value!r} is not an amount in yuan", field="file",
                                  line=number, column=column)
    return amount.quantize(Decimal("0.01"))


def _wechat_line(text: str, number: int) -> Line:
    f = dict(zip(WECHAT_HEADER, _fields(text, number, len(WECHAT_HEADER)), strict=True))
    try:
        at = datetime.strptime(f["交易时间"], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise StatementUnreadable(f"line {number}: 交易时间 {f['交易时间']!r} is not a time", field="file", line=number,
                                  column="交易时间") from None
    refund = f["交易状态"] == "REFUND"
    if not f["微信订单号"] or not f["商户订单号"] or (refund and not f["微信退款单号"]):
        raise StatementUnreadable(f"line {number}: the channel's or the merchant's number is missing", field="file",
                                  line=number)
    money = {c: _money(f[c], number, c) for c in ("应结订单金额", "退款金额", "手续费", "订单金额")}
    return Line(number=number, kind=LineKind.refund if refund else LineKind.payment, at=at,
                channel_ref=f["微信退款单号"] if refund else f["微信订单号"],
                out_no=f["商户退款单号"] if refund else f["商户订单号"], out_trade_no=f["商户订单号"], status=f["交易状态"],
                amount=money["退款金额"] if refund else money["订单金额"],
                settled=money["退款金额"] if refund else money["应结订单金额"], fee=money["手续费"], mchid=f["商户号"],
                detail={k: v for k, v in f.items() if v and k in ("交易类型", "付款银行", "商品名称", "费率", "退款状态", "微信订单号")})


def _wechat_summary(text: str, number: int) -> Summary:
    f = dict(zip(WECHAT_SUMMARY, _fields(text, number, len(WECHAT_SUMMARY)), strict=True))
    if not f["总交易单数"].isascii() or not f["总交易单数"].isdigit():
        raise StatementUnreadable(f"line {number}: 总交易单数 {f['总交易单数']!r} is not a count", field="file", line=number,
                                  column="总交易单数")
    m = {c: _money(f[c], number, c) for c in WECHAT_SUMMARY[1:]}
    return Summary(count=int(f["总交易单数"]), settled_total=m["应结订单总金额"], refund_total=m["退款总金额"],
                   fee_total=m["手续费总金额"], order_total=m["订单总金额"])


def _check_adds_up(lines: list[Line], summary: Summary, number: int) -> None:
    """The summary must state what the lines add up to: a cut or edited file is refused."""
    payments = [x for x in lines if x.kind is LineKind.payment]
    sums = (len(lines), sum((x.settled for x in payments), ZERO), sum((x.amount for x in lines if x.kind is LineKind.refund), ZERO),
            sum((x.fee for x in lines), ZERO))
    stated = (summary.count, summary.settled_total, summary.refund_total, summary.fee_total)
    if sums != stated:
        raise StatementUnreadable(f"line {number}: the summary states {stated[0]} lines, {stated[1]} settled, {stated[2]} "
                                  f"refunded, {stated[3]} fees; the lines add up to {sums[0]}, {sums[1]}, {sums[2]}, {sums[3]}",
                                  field="file", line=number)


def parse_wechat(data: bytes) -> Statement:
    rows = [(n, t.strip()) for n, t in enumerate(_decode(data).splitlines(), start=1)]
    rows = [(n, t) for n, t in rows if t]
    if not rows or rows[0][1].lstrip("`").split(",") != WECHAT_HEADER:
        raise StatementUnreadable("line 1: not the header of a WeChat Pay trade bill (交易时间,公众账号ID,...)",
                                  field="file", line=rows[0][0] if rows else 1)
    at_summary = next((i for i, (_, t) in enumerate(rows) if t.lstrip("`").split(",") == WECHAT_SUMMARY), None)
    if at_summary is None or at_summary + 2 != len(rows):
        last = rows[-1][0]
        raise StatementUnreadable(f"line {last}: the file must end with the summary (总交易单数,...) and its one line",
                                  field="file", line=last)
    lines = [_wechat_line(t, n) for n, t in rows[1:at_summary]]
    number, text = rows[at_summary + 1]
    summary = _wechat_summary(text, number)
    _check_adds_up(lines, summary, number)
    seen: set[tuple[LineKind, str]] = set()
    for x in lines:
        if (x.kind, x.channel_ref) in seen:
            raise StatementUnreadable(f"line {x.number}: {x.channel_ref} is stated twice", field="file", line=x.number)
        seen.add((x.kind, x.channel_ref))
    return Statement(lines=lines, summary=summary)


PARSERS: dict[Channel, Callable[[bytes], Statement]] = {Channel.wechat: parse_wechat}


def parse(channel: Channel, data: bytes) -> Statement:
    return PARSERS[channel](data)


def lines_of_day(statement: Statement, day: date) -> list[Line]:
    """Lines of another day are refused: an upload for the wrong day would mismatch everything."""
    for x in statement.lines:
        if x.at.date() != day:
            raise StatementUnreadable(f"line {x.number}: {x.at:%Y-%m-%d} is not the statement's day {day}",
                                      field="file", line=x.number)
    return statement.lines
