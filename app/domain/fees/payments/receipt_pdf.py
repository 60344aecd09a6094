"""The printable receipt (收款收据) and refund document (退款凭证), A5 landscape, on the documents module.

Every charge the payment settled is a line of the table, however many (the table runs onto more
pages with its header repeated); one PDF holds the copies the estate prints (存根联 / 交款人联 /
记账联), each numbered from page 1. A voided receipt carries 作废 across every page, with when,
by whom and why.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Table

from app.domain.documents import page, parts
from app.domain.documents.page import Copy, Diagonal, Layout
from app.domain.fees.payments.model import METHOD_NAMES, ReceiptSeries, ReceiptStatus
from app.domain.fees.payments.schemas import ReceiptRead

WIDTH = page.A5_LANDSCAPE[0] - 2 * page.MARGIN
# 序号, 收费项目, 所属期间, 单价×数量/面积, 金额
COLUMNS = (11 * mm, 52 * mm, 24 * mm, WIDTH - 123 * mm, 36 * mm)
STAMP = 24 * mm
TIGHT = [("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5)]
HEADER = ("序号", "收费项目", "所属期间", "单价×数量/面积", "金额（元）")


@dataclass(frozen=True, kw_only=True)
class Line:
    """One row of the table: what was settled, how its amount was reckoned (blank if not known), how much."""

    item: str
    period: str = ""
    pricing: str = ""
    amount: Decimal


@dataclass(frozen=True, kw_only=True)
class Paper:
    """Everything a receipt prints beyond its letterhead, read by prints.py."""

    receipt: ReceiptRead
    lines: Sequence[Line]
    copies: Sequence[str]
    note: str
    time_zone: str
    voided_by_name: str = ""
    refund_reason: str = ""




def _table(paper: Paper) -> Table:
    r = paper.receipt
    rows = [[str(n), ln.item, ln.period, ln.pricing, parts.money(ln.amount)] for n, ln in enumerate(paper.lines, 1)]
    if r.credit > 0:
        rows.append([str(len(rows) + 1), "预收款（存入账户）", "", "", parts.money(r.credit)])
    total = ["", "合计", "", f"共 {len(rows)} 项", parts.money(r.amount)]
    table = parts.grid(HEADER, rows, widths=COLUMNS, right=[4], total=total)
    table.setStyle(parts.table_style(TIGHT))  # rows as tight as a paper form's, so a few lines fit one A5 page
    return table


def _payment(paper: Paper, *, width: float) -> list[Flowable]:
    r = paper.receipt
    refund = r.series is ReceiptSeries.refund
    how = parts.fields([("付款方式", METHOD_NAMES[r.method]), ("凭证号", r.reference or "—")], width=width, columns=2)
    pairs: list[tuple[str, str | None]] = []
    if r.tendered is not None:
        pairs += [("实收", parts.money(r.tendered)), ("找零", parts.money(r.change or Decimal("0")))]
    if refund:
        pairs.append(("退款原因", paper.refund_reason))
    pairs.append(("退款人" if refund else "收款人", r.cashier_name))
    return [how, parts.fields(pairs, width=width, columns=3)]


def _closing(paper: Paper) -> Table:
    """The total in words, how it was paid and the signature lines on the left; the seal's box on the right."""
    r = paper.receipt
    left = WIDTH - STAMP - 4 * mm
    words = parts.text(f"合计（大写）：人民币{r.amount_in_words}　　（小写）¥{parts.money(r.amount)}", parts.STRONG)
    refund = r.series is ReceiptSeries.refund
    signs = parts.signatures(["领款人签字", "经办", "复核"] if refund else ["经办", "复核"], width=left)
    stamp = parts.StampBox(label="（单位盖章）" if refund else "（收款单位盖章）", size_mm=22)
    table = Table([[[words, parts.gap(1), *_payment(paper, width=left), signs], stamp]], colWidths=[left + 4 * mm, STAMP])
    table.setStyle(parts.table_style([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                      ("RIGHTPADDING", (0, 0), (-1, -1), 0), ("TOPPADDING", (0, 0), (-1, -1), 0)]))
    return table


def _story(paper: Paper) -> list[Flowable]:
    r = paper.receipt
    payer = "领款人" if r.series is ReceiptSeries.refund else "交款人"
    head = parts.fields([("房号", r.unit_label), (payer, r.payer_name or None), ("日期", parts.when(r.issued_at, paper.time_zone))],
                        width=WIDTH, columns=3)
    tail: list[Flowable | None] = [_closing(paper)]
    if paper.note:
        tail.append(parts.text(paper.note, parts.SMALL))
    # The total, the signatures and the seal stay together, on the last page of the table.
    return parts.flow(head, parts.gap(1), _table(paper), parts.gap(2), KeepTogether(parts.flow(*tail)))


def _void_note(paper: Paper) -> str:
    r = paper.receipt
    at = parts.when(r.voided_at, paper.time_zone) if r.voided_at else ""
    return f"作废于 {at}，作废人：{paper.voided_by_name or '—'}，原因：{r.void_reason}"


def layout(paper: Paper, *, corner: str | None) -> Layout:
    r = paper.receipt
    title = "退款凭证" if r.series is ReceiptSeries.refund else "收款收据"
    copies = [Copy(label=label, story=_story(paper)) for label in paper.copies] or [Copy(label=None, story=_story(paper))]
    diagonal = Diagonal(text="作废", note=_void_note(paper)) if r.status is ReceiptStatus.void else None
    return Layout(title=title, number=r.number, size=page.A5_LANDSCAPE, corner=corner, diagonal=diagonal,
                  subject=f"{title} {r.number}", copies=copies)
