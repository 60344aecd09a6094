"""The cash hand-over sheet (交款单, §5.4) of one cashier session, as finance signs it.

A4 portrait, from the same session detail the JSON endpoint serves: what the receipts say
each method should hold, the cash counted and the difference with its note, every receipt
of the drawer (voids shown, counting nothing), then the adjustments on their own, and the
lines the cashier and finance sign.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from reportlab.lib.units import mm
from reportlab.platypus import Flowable
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.principal import Actor
from app.domain.documents import page, parts
from app.domain.documents.letterhead import printing_by, render_for
from app.domain.fees.cash import service as cash
from app.domain.fees.cash.model import SessionStatus
from app.domain.fees.cash.schemas import AdjustmentRead, CashierSessionDetail, SessionReceiptLine
from app.domain.fees.payments.model import METHOD_NAMES, PaymentMethod, ReceiptSeries, ReceiptStatus
from app.domain.registry import units
from app.domain.registry.model import Estate

SIZE = page.A4_PORTRAIT
WIDTH = SIZE[0] - 2 * page.MARGIN
ZERO = Decimal("0.00")
STATUS_NAMES = {SessionStatus.open: "未交款", SessionStatus.handed_over: "已交款，待财务确认",
                SessionStatus.acknowledged: "财务已确认"}
RECEIPT_HEADER = ["序号", "收据号", "房号", "收款方式", "开具时间", "金额", "状态"]
RECEIPT_WIDTHS = [w * mm for w in (12, 42, 30, 24, 30, 24, 24)]
ADJUSTMENT_HEADER = ["序号", "收据号", "收款方式", "金额", "原因", "时间"]
ADJUSTMENT_WIDTHS = [w * mm for w in (12, 40, 24, 24, 56, 30)]




def _method(value: str | None) -> str:
    return METHOD_NAMES[PaymentMethod(value)] if value else ""


def _summary(d: CashierSessionDetail, tz: str) -> list[Flowable]:
    pairs: list[tuple[str, str | None]] = [
        ("交款人（收款员）", d.cashier_name), ("交款日期", d.day.isoformat()),
        ("状态", STATUS_NAMES[SessionStatus(d.status)]), ("交款时间", parts.when(d.handed_over_at, tz) or "—"),
        ("有效收据", f"{d.receipt_count} 张"), ("作废收据（不计）", f"{d.void_count} 张"),
    ]
    if d.acknowledged_at is not None:
        pairs.append(("财务确认", f"{d.acknowledged_by_name or ''} {parts.when(d.acknowledged_at, tz)}"))
    return [parts.fields(pairs, width=WIDTH)]


def _by_method(d: CashierSessionDetail) -> list[Flowable]:
    rows = [[METHOD_NAMES[m.method], str(m.receipts), str(m.adjustments), parts.money(m.expected)] for m in d.by_method]
    total = ["合计", str(sum(m.receipts for m in d.by_method)), str(sum(m.adjustments for m in d.by_method)),
             parts.money(d.expected_total)]
    w = WIDTH / 4
    return [parts.text("应交金额（按收款方式）", parts.STRONG),
            parts.grid(["收款方式", "收据笔数", "调整笔数", "应交金额（元）"], rows, widths=[w] * 4, right=[1, 2, 3], total=total)]


def _cash(d: CashierSessionDetail) -> list[Flowable]:
    expected = d.expected.get(PaymentMethod.cash, ZERO)
    counted = parts.money(d.counted_cash) if d.counted_cash is not None else ""
    difference = parts.money(d.difference) if d.difference is not None else ""
    pairs: list[tuple[str, str | None]] = [
        ("应交现金（元）", parts.money(expected)), ("实点现金（元）", counted),
        ("差额（实点－应交，元）", difference), ("差额说明", d.note or ("—" if d.difference is not None else "")),
    ]
    return [parts.text("现金核对", parts.STRONG), parts.fields(pairs, width=WIDTH)]


def _receipt_state(line: SessionReceiptLine) -> str:
    if line.status is ReceiptStatus.void:
        return "交款后作废" if line.counted else "作废，不计"
    return "退款" if line.series is ReceiptSeries.refund else "有效"


def _receipts(lines: Sequence[SessionReceiptLine], labels: dict[uuid.UUID, str], tz: str) -> list[Flowable]:
    rows = [[str(n), r.number, labels.get(r.unit_id, ""), _method(r.method), parts.when(r.issued_at, tz)[5:],
             parts.money(r.amount), _receipt_state(r)] for n, r in enumerate(lines, 1)]
    counted = sum((r.amount for r in lines if r.counted), ZERO)
    total = ["", "计入合计", "", "", "", parts.money(counted), f"{len(lines)} 张"]
    return [parts.text("收据明细", parts.STRONG),
            parts.grid(RECEIPT_HEADER, rows, widths=RECEIPT_WIDTHS, right=[5], total=total)]


def _adjustments(rows: Sequence[AdjustmentRead], tz: str) -> list[Flowable]:
    """Voids of receipts from drawers already handed over, booked in this session: kept apart from the drawer's receipts."""
    head = parts.text("调整（已交款收据的作废，单列，不属于本抽屉收据）", parts.STRONG)
    if not rows:
        return [head, parts.text("无", parts.CELL)]
    body = [[str(n), a.receipt_number, _method(a.method), parts.money(a.amount), a.reason, parts.when(a.at, tz)[5:]]
            for n, a in enumerate(rows, 1)]
    total = ["", "调整合计", "", parts.money(sum((a.amount for a in rows), ZERO)), "", ""]
    return [head, parts.grid(ADJUSTMENT_HEADER, body, widths=ADJUSTMENT_WIDTHS, right=[3], total=total)]


def layout(d: CashierSessionDetail, *, labels: dict[uuid.UUID, str], tz: str) -> page.Layout:
    story = [*_summary(d, tz), parts.gap(3), *_by_method(d), parts.gap(3), *_cash(d), parts.gap(3),
             *_receipts(d.receipts, labels, tz), parts.gap(3), *_adjustments(d.adjustments, tz)]
    if d.acknowledge_note:
        story += [parts.gap(2), parts.text(f"财务备注：{d.acknowledge_note}", parts.CELL)]
    story += [parts.gap(4), parts.signatures(["交款人", "收款人（财务）", "日期"], width=WIDTH)]
    corner = "未交款" if SessionStatus(d.status) is SessionStatus.open else None
    return page.Layout(title="交款单", size=SIZE, corner=corner, subject=f"交款单 {d.cashier_name} {d.day.isoformat()}",
                       copies=[page.Copy(label=None, story=story)])


async def handover_pdf(session: AsyncSession, *, actor: Actor, session_id: uuid.UUID,
                       now: datetime | None = None) -> tuple[str, bytes]:
    """The sheet's file name and bytes, for whoever may read the session (a cashier: her own)."""
    detail = await cash.get_session(session, actor=actor, session_id=session_id)
    estate = await session.get(Estate, detail.estate_id)
    assert estate is not None
    labels = await units.labels_of(session, {r.unit_id for r in detail.receipts})
    pdf = await render_for(session, estate=estate, printing=printing_by(actor, estate=estate, now=now),
                           build=lambda _: layout(detail, labels=labels, tz=estate.time_zone))
    return f"cash-handover-{detail.day.isoformat()}-{detail.id.hex[:8]}.pdf", pdf
