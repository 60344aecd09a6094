"""What clients send to and get from stock items, movements and stocktakes."""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer

from app.domain.stock.model import CENT, QTY, MovementKind, StockCategory, StocktakeStatus
from app.domain.types import Code, InputModel, Name, text
from app.domain.versions import RowVersion


def _not_zero(value: Decimal) -> Decimal:
    if value == 0:
        raise ValueError("must not be zero")
    return value


Note = Annotated[str, text(500, min_length=0)]
Reference = Annotated[str, text(100, min_length=0)]
UnitLabel = Annotated[str, text(20)]
Reason = Annotated[str, text(500)]
# In: at most three places (metres of cable to the millimetre), nine digits before the point.
Quantity = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=3, allow_inf_nan=False,
                                    description="Up to 3 decimal places", examples=["12.5"])]
Counted = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=3, allow_inf_nan=False, examples=["7"])]
Delta = Annotated[Decimal, Field(max_digits=12, decimal_places=3, allow_inf_nan=False,
                                 description="Signed: positive adds to the book, negative takes away"),
                  AfterValidator(_not_zero)]
UnitCost = Annotated[Decimal, Field(ge=0, le=Decimal("9999999999.99"), max_digits=12, decimal_places=2,
                                    allow_inf_nan=False, description="CNY per unit, two places", examples=["18.50"])]
# Out: quantities always with three places, money with two.
Qty = Annotated[Decimal, PlainSerializer(lambda d: str(d.quantize(QTY)), return_type=str, when_used="json")]
Amount = Annotated[Decimal, PlainSerializer(lambda d: str(d.quantize(CENT)), return_type=str, when_used="json")]


# --- items -------------------------------------------------------------------------------

class StockItemCreate(InputModel):
    code: Code = Field(examples=["PVC-20"])
    name: Name = Field(description="Unique in the estate; a voucher's material line of this exact name is issued from it",
                       examples=["PVC水管20mm"])
    category: StockCategory = StockCategory.material
    unit: UnitLabel = Field(examples=["米"])
    unit_cost: UnitCost = Decimal("0.00")
    note: Note = ""


class StockItemUpdate(InputModel):
    code: Code | None = None
    name: Name | None = None
    category: StockCategory | None = None
    unit: UnitLabel | None = None
    unit_cost: UnitCost | None = None
    active: bool | None = None
    note: Note | None = None


class StockItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    version: RowVersion
    estate_id: uuid.UUID
    code: str
    name: str
    category: StockCategory
    unit: str
    unit_cost: Amount
    quantity: Qty = Field(description="The book quantity: the sum of the item's movements")
    value: Amount = Field(description="quantity x unit_cost")
    active: bool
    note: str
    created_at: datetime
    updated_at: datetime | None


# --- movements -----------------------------------------------------------------------------

class ReceiveIn(InputModel):
    quantity: Quantity
    reference: Reference = Field(default="", description="The supplier's delivery note or the requisition number")
    note: Note = ""


class IssueIn(InputModel):
    quantity: Quantity
    work_order_id: uuid.UUID = Field(description="The work order the material goes to")
    note: Note = ""


class ReturnIn(InputModel):
    quantity: Quantity
    work_order_id: uuid.UUID | None = Field(default=None, description="The order it was issued to, if it comes back from one")
    note: Note = ""


class AdjustIn(InputModel):
    quantity: Delta
    reason: Reason


class MovementRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    estate_id: uuid.UUID
    stock_item_id: uuid.UUID
    kind: MovementKind
    quantity: Qty = Field(description="Signed: what the movement did to the book")
    balance_after: Qty
    unit_cost: Amount
    at: datetime
    work_order_id: uuid.UUID | None
    voucher_id: uuid.UUID | None
    stocktake_id: uuid.UUID | None
    reference: str
    note: str
    actor_id: uuid.UUID | None


# --- stocktakes ----------------------------------------------------------------------------

class StocktakeCreate(InputModel):
    note: Annotated[str, text(1000, min_length=0)] = ""


class CountIn(InputModel):
    stock_item_id: uuid.UUID
    counted_quantity: Counted
    note: Note = ""


class CountsIn(InputModel):
    """Counted quantities; a line counted before is counted again (the later figure stands)."""

    lines: list[CountIn] = Field(min_length=1, max_length=500)


class CancelIn(InputModel):
    reason: Reason


class StocktakeLineRead(BaseModel):
    stock_item_id: uuid.UUID
    code: str
    name: str
    unit: str
    snapshot_quantity: Qty = Field(description="The book when the count was opened")
    movements_since: Qty | None = Field(description="What moved between the opening and the count")
    book_quantity: Qty | None = Field(description="The book when the line was counted: snapshot + movements since")
    counted_quantity: Qty | None
    difference: Qty | None = Field(description="counted - book; negative is a shortage (盤虧)")
    unit_cost: Amount = Field(description="Fixed when posted; the item's current cost before")
    book_value: Amount | None
    counted_value: Amount | None
    difference_value: Amount | None
    counted_at: datetime | None
    counted_by: uuid.UUID | None
    note: str
    adjustment_id: uuid.UUID | None


class StocktakeRead(BaseModel):
    id: uuid.UUID
    version: RowVersion
    estate_id: uuid.UUID
    reference: str
    month: str
    status: StocktakeStatus
    opened_at: datetime
    opened_by: uuid.UUID | None
    due_at: datetime
    note: str
    posted_at: datetime | None
    posted_by: uuid.UUID | None
    cancelled_at: datetime | None
    cancel_reason: str
    reminded_at: datetime | None
    flagged_overdue_at: datetime | None
    line_count: int
    counted_count: int
    allowed_actions: list[str]


class StocktakeDetail(StocktakeRead):
    lines: list[StocktakeLineRead]


class StocktakeTotals(BaseModel):
    items: int
    counted: int
    shortages: int = Field(description="Lines counted below the book")
    surpluses: int = Field(description="Lines counted above the book")
    book_value: Amount
    counted_value: Amount
    difference_value: Amount = Field(description="counted_value - book_value over the counted lines")
    shortage_value: Amount
    surplus_value: Amount


class StocktakeReport(BaseModel):
    """The month-end stocktake for finance (§5.7): per item book, counted and the difference in quantity and money."""

    estate_id: uuid.UUID
    estate_name: str
    stocktake: StocktakeRead
    lines: list[StocktakeLineRead]
    totals: StocktakeTotals
