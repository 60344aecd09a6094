"""What the reconciliation endpoints take and answer."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.domain.fees.channels.model import Channel
from app.domain.fees.channels.reconciliation.model import ItemState, MatchCategory, Resolution, StatementSource
from app.domain.fees.payments.schemas import Amount
from app.domain.types import Day, InputModel, text

Note = Annotated[str, text(2000)]


class StatementDay(InputModel):
    day: Day = Field(description="The statement's day (estate-local, as the channel's bill counts it): a past day")


class Resolve(InputModel):
    resolution: Resolution = Field(description="book: the money was booked here; refund: given back through the "
                                               "channel; explain: nothing to move (why in the note)")
    note: Note = Field(description="What finance did or found: required, kept with the item and in the audit trail")


class CategoryCounts(BaseModel):
    matched: int = 0
    channel_only: int = 0
    here_only: int = 0
    amount_mismatch: int = 0
    status_mismatch: int = 0


class StatementRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    estate_id: uuid.UUID
    channel: Channel
    day: date
    source: StatementSource
    sha1: str
    imported_at: datetime
    imported_by: uuid.UUID | None
    imports: int = Field(description="How often the day was imported; each import replaces the lines")
    line_count: int
    settled_total: Amount = Field(description="应结订单总金额: what the day's payments settle")
    refund_total: Amount = Field(description="退款总金额")
    fee_total: Amount = Field(description="手续费总金额: the channel's fees")
    order_total: Amount = Field(description="订单总金额")
    net: Amount = Field(description="Net settlement: settled - refunds - fees")
    counts: CategoryCounts
    open_items: int = Field(description="Items of this day still open in finance's queue")


class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    estate_id: uuid.UUID
    channel: Channel
    day: date
    category: MatchCategory
    kind: str = Field(description="payment or refund")
    reference: str = Field(description="The channel's number (微信订单号 / 微信退款单号); ours when the channel has none")
    out_trade_no: str
    channel_payment_id: uuid.UUID | None
    channel_amount: Amount | None
    booked_amount: Amount | None
    channel_status: str
    booked_status: str
    status: ItemState
    note: str
    resolved_by: uuid.UUID | None
    resolved_at: datetime | None
    created_at: datetime
    allowed_resolutions: list[Resolution] = Field(default_factory=list)


class CategoryFigures(BaseModel):
    category: MatchCategory
    name: str
    count: int
    amount: Amount = Field(description="The channel's amount; for here_only, the amount booked here")


class DayReport(BaseModel):
    estate_id: uuid.UUID
    estate_name: str
    channel: Channel
    day: date
    imported: bool
    source: StatementSource | None
    imported_at: datetime | None
    lines: int
    payments: int
    refunds: int
    settled_total: Amount
    refund_total: Amount
    fee_total: Amount
    net: Amount
    booked_total: Amount = Field(description="Channel payments booked here as paid on the day")
    by_category: list[CategoryFigures]
    open_items: int
    items: list[ItemRead]


class MonthDay(BaseModel):
    day: date
    lines: int
    counts: CategoryCounts
    settled_total: Amount
    refund_total: Amount
    fee_total: Amount
    net: Amount
    open_items: int


class MonthReport(BaseModel):
    estate_id: uuid.UUID
    estate_name: str
    channel: Channel
    month: str
    days: list[MonthDay]
    days_without_statement: list[date] = Field(description="Past days of the month with no statement imported")
    counts: CategoryCounts
    settled_total: Amount
    refund_total: Amount
    fee_total: Amount
    net: Amount
    open_items: int
