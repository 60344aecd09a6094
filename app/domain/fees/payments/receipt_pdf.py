"""The printable receipt (收款收据): A5 landscape, Chinese, with the amount in capital numerals.

Chinese text uses reportlab's built-in CID font STSong-Light (the reader supplies the glyphs,
so no font file ships with the app); numbers and the receipt number use Helvetica, so they
stay searchable text in the PDF.
"""
from __future__ import annotations

from decimal import Decimal
from io import BytesIO

from reportlab.lib.pagesizes import A5, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from app.domain.calendar import estate_time
from app.domain.fees.payments.model import PaymentMethod, ReceiptSeries, ReceiptStatus
from app.domain.fees.payments.schemas import ReceiptRead

CJK = "STSong-Light"
LATIN = "Helvetica"
METHODS = {
    PaymentMethod.cash: "现金", PaymentMethod.bank_card: "银行卡", PaymentMethod.wechat: "微信支付",
    PaymentMethod.alipay: "支付宝", PaymentMethod.bank_transfer: "银行转账",
}
MAX_LINES = 8  # what fits the form; more are summed on one line

_registered = False


def _fonts() -> None:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(CJK))
        _registered = True


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _lines(receipt: ReceiptRead) -> list[tuple[str, Decimal]]:
    lines = [(a.description, a.amount) for a in receipt.allocations]
    if len(lines) > MAX_LINES:
        rest = lines[MAX_LINES - 1:]
        lines = lines[:MAX_LINES - 1] + [(f"其他 {len(rest)} 项", sum((a for _, a in rest), Decimal("0")))]
    if receipt.credit > 0:
        lines.append(("预收款（存入账户）", receipt.credit))
    if receipt.series is ReceiptSeries.refund:
        lines.append(("退还预收款", receipt.amount))
    return lines


def _header(c: Canvas, receipt: ReceiptRead, *, office_name: str, reprint: int, width: float, top: float) -> None:
    title = "退款凭证" if receipt.series is ReceiptSeries.refund else "收款收据"
    c.setFont(CJK, 16)
    c.drawCentredString(width / 2, top, f"{office_name} {title}")
    c.setFont(LATIN, 11)
    c.drawRightString(width - 15 * mm, top - 9 * mm, receipt.number)
    c.setFont(CJK, 10)
    c.drawString(width - 80 * mm, top - 9 * mm, "No.")
    if reprint:
        c.setFont(CJK, 12)
        c.drawString(15 * mm, top, f"补打 {reprint}")
    if receipt.status is ReceiptStatus.void:
        c.setFont(CJK, 28)
        c.setFillGray(0.6)
        c.drawCentredString(width / 2, top - 45 * mm, "作废")
        c.setFillGray(0)


def render(receipt: ReceiptRead, *, office_name: str, reprint: int = 0, time_zone: str = "Asia/Shanghai") -> bytes:
    """One page; `reprint` > 0 prints 补打 N in the corner."""
    _fonts()
    out = BytesIO()
    width, height = landscape(A5)
    c = Canvas(out, pagesize=(width, height), pageCompression=0, invariant=1)
    c.setTitle(f"Receipt {receipt.number}")
    c.setSubject(receipt.number)
    top = height - 18 * mm
    _header(c, receipt, office_name=office_name, reprint=reprint, width=width, top=top)
    issued = estate_time.local_time(receipt.issued_at, time_zone).strftime("%Y-%m-%d %H:%M")
    c.setFont(CJK, 10)
    y = top - 18 * mm
    c.drawString(15 * mm, y, f"房号：{receipt.unit_label}    交款人：{receipt.payer_name}    日期：{issued}")
    y -= 9 * mm
    for text, amount in _lines(receipt):
        c.setFont(CJK, 10)
        c.drawString(20 * mm, y, text)
        c.setFont(LATIN, 10)
        c.drawRightString(width - 20 * mm, y, _money(amount))
        y -= 6 * mm
    c.line(15 * mm, y + 3 * mm, width - 15 * mm, y + 3 * mm)
    y -= 4 * mm
    c.setFont(CJK, 11)
    c.drawString(15 * mm, y, f"合计（大写）：人民币{receipt.amount_in_words}")
    c.setFont(LATIN, 11)
    c.drawRightString(width - 20 * mm, y, f"RMB {_money(receipt.amount)}")
    y -= 9 * mm
    c.setFont(CJK, 10)
    pay = f"付款方式：{METHODS[receipt.method]}"
    if receipt.reference:
        pay += f"    凭证号：{receipt.reference}"
    if receipt.tendered is not None:
        pay += f"    实收：{_money(receipt.tendered)}    找零：{_money(receipt.change or Decimal('0'))}"
    c.drawString(15 * mm, y, pay)
    y -= 9 * mm
    c.drawString(15 * mm, y, f"收款人：{receipt.cashier_name}")
    if receipt.status is ReceiptStatus.void:
        c.drawString(80 * mm, y, f"作废原因：{receipt.void_reason[:40]}")
    c.showPage()
    c.save()
    return out.getvalue()
