"""Importing a channel's day statement, matching it, and the items finance resolves.

An import is one transaction: the day's statement row is upserted first (ON CONFLICT DO UPDATE
takes its row lock, so two imports of one day queue, and the second sees the first's lines),
its lines are replaced, matched against what is booked, and each discrepancy becomes an item
unless the same (category, reference) already is one -- open or resolved. So importing the
same day twice, by download or upload, duplicates neither lines nor items.
"""
from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import date, datetime, tzinfo
from decimal import Decimal

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.domain.audit import service as audit
from app.domain.auth.principal import Actor
from app.domain.base import utcnow
from app.domain.calendar import estate_time
from app.domain.errors import Invalid, NotFound
from app.domain.fees.channels import credentials
from app.domain.fees.channels.model import Channel, ChannelPayment, ChannelPaymentState
from app.domain.fees.channels.reconciliation import download
from app.domain.fees.channels.reconciliation.matching import Booked, Outcome, match
from app.domain.fees.channels.reconciliation.model import (
    ChannelStatement,
    ItemState,
    MatchCategory,
    ReconciliationItem,
    Resolution,
    StatementLine,
    StatementSource,
)
from app.domain.fees.channels.reconciliation.schemas import CategoryCounts, ItemRead, StatementRead
from app.domain.fees.channels.reconciliation.statements import ZERO, LineKind, Statement, Summary, lines_of_day, parse
from app.domain.fees.channels.refund_model import ChannelRefund, ChannelRefundState
from app.domain.registry.model import Estate
from app.domain.registry.service import check_estate
from app.domain.visibility import Visible, load_visible


class StatementDayNotPast(Invalid):
    title = "A statement is for a past day: the channel bills a day after it ends"
    title_zh = "对账单只能是已结束的日期：渠道在次日生成前一日账单"


class ReconciliationItemNotFound(NotFound):
    title = "Reconciliation item not found"
    title_zh = "未找到该对账差异"


ITEM = Visible(model=ReconciliationItem, missing=ReconciliationItemNotFound)
EMPTY = Statement(lines=[], summary=Summary(count=0, settled_total=ZERO, refund_total=ZERO, fee_total=ZERO, order_total=ZERO))

BookedLoader = Callable[..., Awaitable[list[Booked]]]


async def _booked_payments(session: AsyncSession, *, estate: Estate, channel: Channel, bounds: tuple[datetime, datetime],
                           numbers: list[str]) -> list[Booked]:
    """Channel payments paid on the day, and any the statement names (paid another day, or not paid)."""
    start, end = bounds
    paid_on_day = and_(ChannelPayment.status == ChannelPaymentState.paid.value, ChannelPayment.paid_at >= start,
                       ChannelPayment.paid_at < end)
    stmt = select(ChannelPayment).where(ChannelPayment.estate_id == estate.id, ChannelPayment.channel == channel.value,
                                        or_(paid_on_day, ChannelPayment.out_trade_no.in_(numbers)))
    out = []
    for p in (await session.execute(stmt)).scalars():
        done = p.status == ChannelPaymentState.paid
        out.append(Booked(kind=LineKind.payment, id=p.id, out_no=p.out_trade_no, channel_ref=p.transaction_id, amount=p.amount,
                          status=p.status, done=done, on_day=done and p.paid_at is not None and start <= p.paid_at < end))
    return out


async def _booked_refunds(session: AsyncSession, *, estate: Estate, channel: Channel, bounds: tuple[datetime, datetime],
                          numbers: list[str]) -> list[Booked]:
    """Channel refunds that succeeded on the day, and any the statement names (商户退款单号)."""
    start, end = bounds
    done_on_day = and_(ChannelRefund.status == ChannelRefundState.succeeded.value, ChannelRefund.succeeded_at >= start,
                       ChannelRefund.succeeded_at < end)
    stmt = select(ChannelRefund).where(ChannelRefund.estate_id == estate.id, ChannelRefund.channel == channel.value,
                                       or_(done_on_day, ChannelRefund.out_refund_no.in_(numbers)))
    out = []
    for r in (await session.execute(stmt)).scalars():
        done = r.status == ChannelRefundState.succeeded
        out.append(Booked(kind=LineKind.refund, id=r.id, out_no=r.out_refund_no, channel_ref=r.refund_id, amount=r.amount,
                          status=r.status, done=done,
                          on_day=done and r.succeeded_at is not None and start <= r.succeeded_at < end))
    return out


BOOKED: dict[LineKind, BookedLoader] = {LineKind.payment: _booked_payments, LineKind.refund: _booked_refunds}


async def _statement_row(session: AsyncSession, *, estate: Estate, channel: Channel, day: date, source: StatementSource,
                         sha1: str, actor: Actor, now: datetime) -> ChannelStatement:
    values = dict(source=source.value, sha1=sha1, imported_at=now, imported_by=actor.id)
    stmt = (insert(ChannelStatement)
            .values(id=uuid.uuid4(), created_at=now, estate_id=estate.id, channel=channel.value, day=day, imports=1,
                    line_count=0, settled_total=ZERO, refund_total=ZERO, fee_total=ZERO, order_total=ZERO, net=ZERO,
                    counts={}, amounts={}, **values)
            .on_conflict_do_update(index_elements=["estate_id", "channel", "day"],
                                   set_={**values, "imports": ChannelStatement.imports + 1})
            .returning(ChannelStatement.id))
    row_id = (await session.execute(stmt)).scalar_one()
    row = await session.get(ChannelStatement, row_id, populate_existing=True)
    assert row is not None
    return row


def _line_row(o: Outcome, *, statement: ChannelStatement, tz: tzinfo) -> StatementLine:
    x = o.line
    assert x is not None
    return StatementLine(estate_id=statement.estate_id, statement_id=statement.id, line_no=x.number, kind=x.kind.value,
                         at=x.at.replace(tzinfo=tz), channel_ref=x.channel_ref[:64], out_no=x.out_no[:64],
                         out_trade_no=x.out_trade_no[:64], status=x.status[:20], amount=x.amount, settled=x.settled, fee=x.fee,
                         category=o.category, channel_payment_id=o.booked.id if o.booked and o.kind is LineKind.payment else None,
                         detail=x.detail)


def _item(o: Outcome, *, statement: ChannelStatement) -> ReconciliationItem:
    b, x = o.booked, o.line
    return ReconciliationItem(
        estate_id=statement.estate_id, channel=statement.channel, day=statement.day, category=o.category, kind=o.kind.value,
        reference=o.reference[:64], out_trade_no=(x.out_trade_no if x else b.out_no if b else "")[:64],
        channel_payment_id=b.id if b and o.kind is LineKind.payment else None,
        channel_amount=x.amount if x else None, booked_amount=b.amount if b else None,
        channel_status=x.status[:20] if x else "", booked_status=b.status[:20] if b else "")


async def _open_items(session: AsyncSession, *, actor: Actor, statement: ChannelStatement, outcomes: list[Outcome]) -> None:
    """An item per discrepancy not already one (open or resolved): a re-import adds only what is new.

    ON CONFLICT DO NOTHING on (estate, channel, category, reference): two imports racing (two
    days naming one refund) insert it once, and only what was inserted is audited."""
    new = [_item(o, statement=statement) for o in outcomes if o.category is not MatchCategory.matched]
    if not new:
        return
    columns = [c.name for c in ReconciliationItem.__table__.columns]
    stmt = (insert(ReconciliationItem).values([{c: getattr(row, c) for c in columns} for row in new])
            .on_conflict_do_nothing().returning(ReconciliationItem.id))
    inserted = set((await session.execute(stmt)).scalars())
    for row in new:
        if row.id in inserted:
            await audit.record(session, actor=actor, action="reconciliation_item.open", row=row)


def _amounts(outcomes: list[Outcome]) -> dict[str, str]:
    """Per category, the channel's amount (a refund counts negative); here_only, the amount booked here."""
    sums: dict[str, Decimal] = {}
    for o in outcomes:
        amount = o.line.amount if o.line else o.booked.amount if o.booked else ZERO
        sign = -1 if o.kind is LineKind.refund else 1
        sums[o.category.value] = sums.get(o.category.value, ZERO) + sign * amount
    return {k: str(v) for k, v in sums.items()}


async def import_statement(session: AsyncSession, *, actor: Actor, estate: Estate, channel: Channel, day: date,
                           data: bytes | None, source: StatementSource, now: datetime | None = None) -> StatementRead:
    """Parse (None: the channel has no statement for the day), replace the day's lines, match, open items."""
    now = now or utcnow()
    tz = estate_time.estate_zone(estate)
    if day >= estate_time.today(tz, now=now):
        raise StatementDayNotPast(f"{day} has not ended yet in the estate", field="day")
    statement = parse(channel, data) if data is not None else EMPTY
    lines = lines_of_day(statement, day)
    row = await _statement_row(session, estate=estate, channel=channel, day=day, source=source, actor=actor, now=now,
                               sha1=hashlib.sha1(data or b"").hexdigest())
    bounds = estate_time.day_bounds(day, tz)
    booked: list[Booked] = []
    for kind, loader in BOOKED.items():
        booked += await loader(session, estate=estate, channel=channel, bounds=bounds,
                               numbers=[x.out_no for x in lines if x.kind is kind])
    outcomes = match(lines, booked)
    await session.execute(delete(StatementLine).where(StatementLine.statement_id == row.id))
    session.add_all([_line_row(o, statement=row, tz=tz) for o in outcomes if o.line is not None])
    s = statement.summary
    row.line_count, row.settled_total, row.refund_total, row.fee_total = len(lines), s.settled_total, s.refund_total, s.fee_total
    row.order_total, row.net = s.order_total, statement.net
    row.counts = {c.value: n for c, n in Counter(o.category for o in outcomes).items()}
    row.amounts = _amounts(outcomes)
    await session.flush()
    await _open_items(session, actor=actor, statement=row, outcomes=outcomes)
    await audit.record(session, actor=actor, action="channel_statement.import", row=row)
    return await statement_read(session, row)


async def statement_read(session: AsyncSession, row: ChannelStatement) -> StatementRead:
    open_items = (await session.execute(select(func.count()).select_from(ReconciliationItem).where(
        ReconciliationItem.estate_id == row.estate_id, ReconciliationItem.channel == row.channel,
        ReconciliationItem.day == row.day, ReconciliationItem.status == ItemState.open.value))).scalar_one()
    data = {k: getattr(row, k) for k in StatementRead.model_fields if k not in ("counts", "open_items")}
    return StatementRead(**data, counts=CategoryCounts(**row.counts), open_items=open_items)


async def upload(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, channel: Channel, day: date,
                 data: bytes) -> StatementRead:
    """A statement file in the channel's own format, downloaded by finance from the merchant platform."""
    estate = await check_estate(session, actor=actor, estate_id=estate_id)
    return await import_statement(session, actor=actor, estate=estate, channel=channel, day=day, data=data,
                                  source=StatementSource.upload)


async def fetch_and_import(session: AsyncSession, *, actor: Actor, estate: Estate, day: date, settings: Settings,
                           now: datetime | None = None) -> StatementRead:
    now = now or utcnow()
    if day >= estate_time.today(estate_time.estate_zone(estate), now=now):
        raise StatementDayNotPast(f"{day} has not ended yet in the estate", field="day")
    creds = await credentials.open_wechat(session, estate_id=estate.id, secret=settings.signing_secret)
    data = await download.trade_bill(creds, gateway=settings.wechatpay_gateway, day=day)
    return await import_statement(session, actor=actor, estate=estate, channel=Channel.wechat, day=day, data=data,
                                  source=StatementSource.download, now=now)


async def download_day(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, day: date,
                       settings: Settings) -> StatementRead:
    """Download the day's trade bill through the channel's API and import it (a re-run replaces the day's lines)."""
    estate = await check_estate(session, actor=actor, estate_id=estate_id)
    return await fetch_and_import(session, actor=actor, estate=estate, day=day, settings=settings)


# --- items ------------------------------------------------------------------------------------

def item_read(row: ReconciliationItem) -> ItemRead:
    allowed = [Resolution(a) for a in row.transitions.allowed_actions(ItemState(row.status))]
    if row.category == MatchCategory.here_only:
        allowed = [a for a in allowed if a is Resolution.explain]
    return ItemRead.model_validate(row).model_copy(update={"allowed_resolutions": allowed})


async def get_item(session: AsyncSession, *, actor: Actor, item_id: uuid.UUID) -> ItemRead:
    return item_read(await load_visible(session, ITEM, item_id, actor=actor))


async def list_items(session: AsyncSession, *, actor: Actor, estate_id: uuid.UUID, status: ItemState | None,
                     day: date | None) -> list[ItemRead]:
    await check_estate(session, actor=actor, estate_id=estate_id)
    where = [ReconciliationItem.estate_id == estate_id]
    if status is not None:
        where.append(ReconciliationItem.status == status.value)
    if day is not None:
        where.append(ReconciliationItem.day == day)
    stmt = select(ReconciliationItem).where(*where).order_by(ReconciliationItem.day, ReconciliationItem.created_at,
                                                              ReconciliationItem.id)
    return [item_read(r) for r in (await session.execute(stmt)).scalars()]


async def resolve(session: AsyncSession, *, actor: Actor, item_id: uuid.UUID, resolution: Resolution, note: str,
                  now: datetime | None = None) -> ItemRead:
    """Close the item with finance's note; the verb's table refuses an item resolved already (409)."""
    now = now or utcnow()
    row = await load_visible(session, ITEM, item_id, actor=actor, lock=True)
    assert actor.id is not None
    await audit.apply(session, actor=actor, row=row, action=resolution.value, note=note, by=actor.id, at=now)
    return item_read(row)
