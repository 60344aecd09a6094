"""A unit's account statement for any period of days (estate-local): opening, movements, closing.

The opening balance is the sum of the entries before the first day; a reversal counts with the
kind it undoes (a voided deposit lowers the deposits), so opening + deposits + corrections -
deductions - refunds = closing always holds. A correction (money a cancelled charge's payment
had settled) is its own figure: it came in on a receipt counted when it was issued, not now.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.domain.auth.principal import Actor
from app.domain.calendar import estate_time
from app.domain.errors import Invalid
from app.domain.fees.model import Charge, FeeItem
from app.domain.fees.payments.model import Receipt
from app.domain.fees.prepaid.deposits import FREE_NAME
from app.domain.fees.prepaid.model import KIND_NAMES, AccountEntry, EntryKind
from app.domain.fees.prepaid.schemas import AccountStatement, StatementLine
from app.domain.registry import units
from app.domain.registry.model import Estate
from app.domain.spreadsheet import Column, Kind, Sheet

ZERO = Decimal("0.00")
IN = {EntryKind.deposit, EntryKind.overpayment}


class DaysOutOfOrder(Invalid):
    title = "`from` is after `to`"
    title_zh = "`from` 晚于 `to`"


async def _opening(session: AsyncSession, *, unit_id: uuid.UUID, before: datetime) -> Decimal:
    stmt = select(func.coalesce(func.sum(AccountEntry.amount), 0)).where(AccountEntry.unit_id == unit_id,
                                                                         AccountEntry.at < before)
    return Decimal((await session.execute(stmt)).scalar_one()).quantize(Decimal("0.01"))


async def _entries(session: AsyncSession, *, unit_id: uuid.UUID, start: datetime, end: datetime) -> list[Any]:
    undone = aliased(AccountEntry)
    doc = func.coalesce(Receipt.number, "")
    stmt = (select(AccountEntry, undone.kind, FeeItem.name, doc, func.coalesce(Charge.description, ""))
            .outerjoin(undone, undone.id == AccountEntry.reverses_id)
            .outerjoin(FeeItem, FeeItem.id == AccountEntry.earmark_fee_item_id)
            .outerjoin(Receipt, (Receipt.payment_id == AccountEntry.payment_id) | (Receipt.refund_id == AccountEntry.refund_id))
            .outerjoin(Charge, Charge.id == AccountEntry.charge_id)
            .where(AccountEntry.unit_id == unit_id, AccountEntry.at >= start, AccountEntry.at < end)
            .order_by(AccountEntry.at, AccountEntry.created_at, AccountEntry.id))
    return list((await session.execute(stmt)).all())


async def statement(session: AsyncSession, *, actor: Actor, unit_id: uuid.UUID, from_date: date | None = None,
                    to_date: date | None = None, now: datetime | None = None) -> tuple[Estate, AccountStatement]:
    """The statement of the days from_date..to_date (both included); this month so far by default."""
    unit = await units.get_unit(session, actor=actor, unit_id=unit_id)
    estate = await session.get(Estate, unit.estate_id)
    assert estate is not None
    today = estate_time.today(estate, now=now)
    first, last = from_date or estate_time.first_of_month(today), to_date or today
    if first > last:
        raise DaysOutOfOrder(field="from", from_date=str(first), to_date=str(last))
    tz = estate_time.estate_zone(estate)
    start, end = estate_time.day_start(first, tz), estate_time.day_start(last + timedelta(days=1), tz)
    opening = await _opening(session, unit_id=unit.id, before=start)
    running = opening
    sums = {EntryKind.deposit: ZERO, EntryKind.correction: ZERO, EntryKind.deduction: ZERO, EntryKind.refund: ZERO}
    lines = []
    for entry, undone_kind, item_name, document, charge in await _entries(session, unit_id=unit.id, start=start, end=end):
        kind = EntryKind(undone_kind or entry.kind)
        sums[EntryKind.deposit if kind in IN else kind] += entry.amount
        running += entry.amount
        lines.append(StatementLine(at=entry.at, kind=entry.kind, kind_name=KIND_NAMES[EntryKind(entry.kind)],
                                   fee_item_id=entry.earmark_fee_item_id, earmark=item_name or FREE_NAME,
                                   amount=entry.amount, balance=running, document=document, charge=charge))
    return estate, AccountStatement(
        unit_id=unit.id, unit_label=unit.label, from_date=first, to_date=last, opening=opening,
        deposits=sums[EntryKind.deposit], corrections=sums[EntryKind.correction], deductions=-sums[EntryKind.deduction],
        refunds=-sums[EntryKind.refund],
        closing=running, lines=lines)


COLUMNS = [Column("时间", Kind.datetime), Column("类别"), Column("专款项目"), Column("金额", Kind.money),
           Column("余额", Kind.money, total=False), Column("单号"), Column("所涉费用")]


def sheets(s: AccountStatement) -> list[Sheet]:
    """The statement as one sheet: its lines, then the period's figures under them."""
    rows: list[list[object]] = [[ln.at, ln.kind_name, ln.earmark, ln.amount, ln.balance, ln.document, ln.charge]
                                for ln in s.lines]
    summary = [["期初余额", s.opening], ["存入", s.deposits], ["更正转存", s.corrections], ["抵扣", s.deductions],
               ["退款", s.refunds], ["期末余额", s.closing]]
    title = f"{s.unit_label} 预存款账户对账单 {s.from_date:%Y-%m-%d} 至 {s.to_date:%Y-%m-%d}"
    return [Sheet(name="预存款明细", title=title, columns=COLUMNS, rows=rows),
            Sheet(name="预存款汇总", title=title, columns=[Column("项目"), Column("金额", Kind.money, total=False)], rows=summary)]
