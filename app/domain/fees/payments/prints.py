"""Printing receipts: a recorded print, or a preview that records nothing.

A print is an act the office answers for: who printed the receipt, when and why is a row of
`receipt_print` and an audit entry. The first print is unmarked; each later one is 补打 N and
needs a reason. Prints are numbered under the receipt's row lock, so two at once get distinct
numbers. A preview writes nothing and is always marked 预览, so a copy nobody recorded can
never pass for a print.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.audit import service as audit
from app.domain.auth.model import User
from app.domain.auth.principal import Actor
from app.domain.base import snapshot, utcnow
from app.domain.documents.letterhead import printing_by, render_for
from app.domain.documents.page import Printing
from app.domain.errors import Invalid
from app.domain.fees.model import Charge, FeeItem, FeeKind
from app.domain.fees.payments import receipt_pdf, receipts
from app.domain.fees.payments.model import Allocation, Receipt, ReceiptPrint, ReceiptSeries, Refund
from app.domain.fees.payments.receipt_pdf import Line, Paper
from app.domain.fees.payments.schemas import ReceiptPrintCreate, ReceiptPrintRead, ReceiptRead
from app.domain.idempotency import service as idempotency
from app.domain.registry.model import Estate
from app.domain.visibility import load_visible

PRINT = "receipt.print"
PREVIEW = "预览"
RATE_UNITS = {FeeKind.per_area: "元/㎡·月", FeeKind.fixed: "元/月", FeeKind.metered: "元", FeeKind.one_off: "元"}


class ReprintNeedsReason(Invalid):
    title = "The receipt was printed before: a reprint needs a reason"
    title_zh = "该收据已打印过：补打须注明原因"


@dataclass(frozen=True, kw_only=True)
class Retry:
    """The request's Idempotency-Key, so a retried print returns the same print, counted once."""

    key: str
    method: str
    path: str
    retention: timedelta


@dataclass(frozen=True, kw_only=True)
class Printed:
    number: str  # the receipt's
    refund: bool
    pdf: bytes
    record: ReceiptPrintRead | None = None  # None for a preview
    replayed: bool = False

    def _suffix(self, *, chinese: bool) -> str:
        if self.record is None:
            return "-预览" if chinese else "-preview"
        reprint = self.record.number - 1
        return "" if not reprint else (f"-补打{reprint}" if chinese else f"-reprint{reprint}")

    @property
    def filename(self) -> str:
        return f"{'退款凭证' if self.refund else '收款收据'}-{self.number}{self._suffix(chinese=True)}.pdf"

    @property
    def ascii_filename(self) -> str:
        return f"{'refund' if self.refund else 'receipt'}-{self.number}{self._suffix(chinese=False)}.pdf"


def corner_of(print_number: int) -> str | None:
    return f"补打 {print_number - 1}" if print_number > 1 else None


# --- what the paper says ---------------------------------------------------------------------

def _plain(value: Any) -> str:
    """89.50 -> 89.5, 2.00 -> 2: quantities as people write them."""
    return format(Decimal(str(value)).normalize(), "f")


def pricing(*, kind: FeeKind, rate_unit: str, basis: dict[str, Any]) -> str:
    """单价×数量/面积 from the basis the charge was billed on; "" when it holds none (a one-off)."""
    try:
        if basis.get("rate") is None or kind is FeeKind.one_off:
            return ""
        unit = rate_unit or RATE_UNITS[kind]
        text = f"{basis['rate']}{unit}"  # as billed: 1.80, the price list's own figure
        if basis.get("area") is not None:
            text += f" × {Decimal(str(basis['area'])).quantize(Decimal('0.01'))}㎡"
        elif basis.get("quantity") is not None:
            # Metered: 12吨 from 元/吨; a count of spaces has no unit of its own.
            per = unit.rsplit("/", 1)[-1] if kind is FeeKind.metered and "/" in unit else ""
            text += f" × {_plain(basis['quantity'])}{per}"
        months = int(basis.get("months") or 1)
        if months > 1:
            text += f" × {months}个月"
        if basis.get("discount") is not None:
            text += f"，空置减免 {_plain(basis['discount'])}"
        return text
    except (KeyError, TypeError, ValueError, ArithmeticError):
        return ""


async def _lines(session: AsyncSession, read: ReceiptRead) -> list[Line]:
    if read.series is ReceiptSeries.refund:
        return [Line(item="退还预收款", amount=read.amount)]
    stmt = (select(Allocation.amount, Charge.amount, Charge.amount_waived, Charge.period, Charge.basis, FeeItem.name,
                   FeeItem.kind, FeeItem.unit_label)
            .join(Charge, Charge.id == Allocation.charge_id).join(FeeItem, FeeItem.id == Charge.fee_item_id)
            .where(Allocation.payment_id == read.payment_id).order_by(Allocation.created_at, Allocation.id))
    out = []
    for paid, owed, waived, period, basis, name, kind, unit in (await session.execute(stmt)).all():
        how = pricing(kind=FeeKind(kind), rate_unit=unit, basis=basis or {})
        if waived > 0:  # a charge with waivers (减免): what was billed, waived and taken
            note = f"应收 {owed:,.2f} 减免 {waived:,.2f} 实收 {paid:,.2f}"
            how = f"{how}（{note}）" if how else note
        elif paid != owed:  # a charge paid in part: say what was owed
            how = f"{how}（应收 {owed:,.2f}）" if how else f"应收 {owed:,.2f}"
        out.append(Line(item=name, period=period or "", pricing=how, amount=paid))
    return out


async def _paper(session: AsyncSession, *, row: Receipt, estate: Estate) -> Paper:
    read = await receipts.read(session, row)
    voider = await session.get(User, row.voided_by) if row.voided_by else None
    refund = await session.get(Refund, row.refund_id) if row.refund_id else None
    return Paper(receipt=read, lines=await _lines(session, read), copies=list(estate.receipt_copies),
                 note=estate.receipt_note, time_zone=estate.time_zone,
                 voided_by_name=voider.full_name if voider else "", refund_reason=refund.reason if refund else "")


async def _render(session: AsyncSession, *, row: Receipt, printing: Printing, corner: str | None) -> bytes:
    estate = await session.get(Estate, row.estate_id)
    assert estate is not None
    paper = await _paper(session, row=row, estate=estate)
    return await render_for(session, estate=estate, printing=printing, build=lambda _: receipt_pdf.layout(paper, corner=corner))


# --- previews and prints ---------------------------------------------------------------------

async def preview(session: AsyncSession, *, actor: Actor, receipt_id: uuid.UUID) -> Printed:
    """The receipt marked 预览; nothing is written, not even an audit entry."""
    row = await load_visible(session, receipts.RECEIPT, receipt_id, actor=actor)
    estate = await session.get(Estate, row.estate_id)
    assert estate is not None
    pdf = await _render(session, row=row, printing=printing_by(actor, estate=estate), corner=PREVIEW)
    return Printed(number=row.number, refund=row.series == ReceiptSeries.refund, pdf=pdf)


def _read(p: ReceiptPrint) -> ReceiptPrintRead:
    return ReceiptPrintRead(number=p.number, at=p.printed_at, by=p.printed_by, by_name=p.printed_by_name, reason=p.reason)


async def list_prints(session: AsyncSession, *, actor: Actor, receipt_id: uuid.UUID) -> list[ReceiptPrintRead]:
    row = await load_visible(session, receipts.RECEIPT, receipt_id, actor=actor)
    return (await receipts.prints_of(session, {row.id}))[row.id]


async def _again(session: AsyncSession, *, row: Receipt, number: int) -> Printed:
    """A retried print: the same print drawn again as it was first made, nothing counted."""
    done = (await session.execute(select(ReceiptPrint).where(
        ReceiptPrint.receipt_id == row.id, ReceiptPrint.number == number))).scalar_one()
    estate = await session.get(Estate, row.estate_id)
    assert estate is not None
    printing = Printing(by=done.printed_by_name, at=done.printed_at, time_zone=estate.time_zone)
    pdf = await _render(session, row=row, printing=printing, corner=corner_of(number))
    return Printed(number=row.number, refund=row.series == ReceiptSeries.refund, pdf=pdf, record=_read(done), replayed=True)


async def print_receipt(session: AsyncSession, *, actor: Actor, receipt_id: uuid.UUID, data: ReceiptPrintCreate,
                        retry: Retry | None = None, now: datetime | None = None) -> Printed:
    """Record one print and draw it: the first unmarked, later ones 补打 N with their reason."""
    assert actor.id is not None, "prints are made by staff (receipts:print)"
    row = await load_visible(session, receipts.RECEIPT, receipt_id, actor=actor)  # 404 before a key is claimed
    claim = None
    if retry is not None:
        outcome = await idempotency.begin(session, principal_id=actor.id, key=retry.key, method=retry.method,
                                          path=retry.path, body=data.model_dump(), retention=retry.retention)
        if isinstance(outcome, idempotency.Replay):
            return await _again(session, row=row, number=int(outcome.body["number"]))
        claim = outcome
    row = await load_visible(session, receipts.RECEIPT, receipt_id, actor=actor, lock=True)
    last = (await session.execute(select(func.coalesce(func.max(ReceiptPrint.number), 0))
                                  .where(ReceiptPrint.receipt_id == row.id))).scalar_one()
    if last and not data.reason:
        raise ReprintNeedsReason(f"printed {last} time(s) already; say why it is printed again", field="reason")
    at = now or utcnow()
    done = ReceiptPrint(estate_id=row.estate_id, receipt_id=row.id, number=last + 1, printed_at=at, printed_by=actor.id,
                        printed_by_name=actor.label[:100], reason=data.reason)
    session.add(done)
    await session.flush()
    await audit.record(session, actor=actor, action=PRINT, entity="receipt", entity_id=row.id, estate_id=row.estate_id,
                       after=snapshot(done))
    record = _read(done)
    if claim is not None:
        await idempotency.complete(session, claim, status=201, body=record.model_dump(mode="json"))
    estate = await session.get(Estate, row.estate_id)
    assert estate is not None
    pdf = await _render(session, row=row, printing=printing_by(actor, estate=estate, now=at), corner=corner_of(done.number))
    return Printed(number=row.number, refund=row.series == ReceiptSeries.refund, pdf=pdf, record=record, replayed=False)
