"""An estate's stock (庫存) and the month-end stocktake (盤存, §5.7).

A stock item carries its book quantity as a column kept equal to the sum of its movements:
every movement is written in the same transaction that updates the column, under the item's
row lock, so two concurrent issues of the last units cannot both pass the check, and a CHECK
keeps the book from ever going below zero.

A stocktake snapshots the book of every active item when it is opened. Counting goes on
while the store is in use, so each line also records the book at the moment its count was
entered (the snapshot plus the movements since); the difference is counted minus that
figure, and posting books it as an adjustment on top of whatever has moved since: the new
book is the counted quantity plus the movements after the count.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import CheckConstraint, DateTime, Index, Numeric, String, UniqueConstraint, text
from sqlmodel import Field

from app.domain.base import EstateScoped
from app.domain.transitions import TransitionTable
from app.domain.versions import Versioned

QTY = Decimal("0.001")
CENT = Decimal("0.01")
ZERO_QTY = Decimal("0.000")


def money(quantity: Decimal, unit_cost: Decimal) -> Decimal:
    """What a quantity is worth at a unit cost, to the fen."""
    return (quantity * unit_cost).quantize(CENT, rounding=ROUND_HALF_UP)


class StockCategory(StrEnum):
    material = "material"  # 材料: pipe, cable, cement
    spare_part = "spare_part"  # 配件: valves, switches, bulbs
    consumable = "consumable"  # 易耗品: tape, gloves, cleaning


class MovementKind(StrEnum):
    received = "received"  # 入庫: quantity > 0
    issued = "issued"  # 領用: quantity < 0, to a work order
    returned = "returned"  # 退庫: quantity > 0
    adjusted = "adjusted"  # 調整: either sign; by hand with a reason, or a stocktake's difference


class StockItem(EstateScoped, Versioned, table=True):
    __tablename__ = "stock_item"
    __table_args__ = (
        UniqueConstraint("estate_id", "code", name="uq_stock_item_estate_code"),
        # Unique names: a voucher's material line finds its item by exact name.
        UniqueConstraint("estate_id", "name", name="uq_stock_item_estate_name"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint("unit_cost >= 0", name="unit_cost_not_negative"),
    )

    code: str = Field(max_length=40)
    name: str = Field(max_length=100)
    category: StockCategory = Field(default=StockCategory.material, sa_type=String(20))
    unit: str = Field(max_length=20)  # 米, 個, 卷 ...
    unit_cost: Decimal = Field(default=Decimal("0.00"), sa_type=Numeric(12, 2))  # CNY per unit
    quantity: Decimal = Field(default=ZERO_QTY, sa_type=Numeric(16, 3))  # the book: sum of the movements
    active: bool = True
    note: str = Field(default="", max_length=500)
    updated_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class StockMovement(EstateScoped, table=True):
    """One line of an item's ledger; written once, never changed."""

    __tablename__ = "stock_movement"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'received' AND quantity > 0) OR (kind = 'issued' AND quantity < 0) "
            "OR (kind = 'returned' AND quantity > 0) OR (kind = 'adjusted' AND quantity <> 0)",
            name="sign_matches_kind"),
        CheckConstraint("balance_after >= 0", name="balance_not_negative"),
        Index("ix_stock_movement_item_at", "stock_item_id", "at"),
        Index("ix_stock_movement_estate_at", "estate_id", "at"),
    )

    stock_item_id: uuid.UUID = Field(foreign_key="stock_item.id")
    kind: MovementKind = Field(sa_type=String(20))
    quantity: Decimal = Field(sa_type=Numeric(16, 3))  # signed: what it did to the book
    balance_after: Decimal = Field(sa_type=Numeric(16, 3))
    unit_cost: Decimal = Field(sa_type=Numeric(12, 2))  # the item's cost when it moved
    at: datetime = Field(sa_type=DateTime(timezone=True))
    work_order_id: uuid.UUID | None = Field(default=None, foreign_key="work_order.id", index=True)
    voucher_id: uuid.UUID | None = Field(default=None, foreign_key="voucher.id", index=True)
    stocktake_id: uuid.UUID | None = Field(default=None, foreign_key="stocktake.id", index=True)
    reference: str = Field(default="", max_length=100)  # delivery note, voucher, stocktake reference
    note: str = Field(default="", max_length=500)
    actor_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")


class StocktakeStatus(StrEnum):
    open = "open"  # snapshot taken, nothing counted yet
    counting = "counting"
    posted = "posted"  # differences booked; immutable
    cancelled = "cancelled"


OPEN_STATES = (StocktakeStatus.open, StocktakeStatus.counting)

STOCKTAKE_TRANSITIONS: TransitionTable[StocktakeStatus] = TransitionTable("stocktake", {
    (StocktakeStatus.open, "count"): StocktakeStatus.counting,
    (StocktakeStatus.counting, "count"): StocktakeStatus.counting,
    (StocktakeStatus.counting, "post"): StocktakeStatus.posted,
    (StocktakeStatus.open, "cancel"): StocktakeStatus.cancelled,
    (StocktakeStatus.counting, "cancel"): StocktakeStatus.cancelled,
    # The month-end jobs: tell the desk once, flag a count not posted by month end once.
    (StocktakeStatus.open, "remind"): StocktakeStatus.open,
    (StocktakeStatus.counting, "remind"): StocktakeStatus.counting,
    (StocktakeStatus.open, "flag_overdue"): StocktakeStatus.open,
    (StocktakeStatus.counting, "flag_overdue"): StocktakeStatus.counting,
}, clock_only=frozenset({"remind", "flag_overdue"}))


class Stocktake(EstateScoped, Versioned, table=True):
    __tablename__ = "stocktake"
    __table_args__ = (
        UniqueConstraint("estate_id", "reference", name="uq_stocktake_estate_reference"),
        # At most one count in progress per estate, whoever opens it (the desk or the month-end job).
        Index("uq_stocktake_one_open", "estate_id", unique=True,
              postgresql_where=text("status IN ('open', 'counting')")),
    )

    reference: str = Field(max_length=40)  # PD-202611-01
    month: str = Field(max_length=7, index=True)  # the estate-local month it was opened in
    status: StocktakeStatus = Field(default=StocktakeStatus.open, sa_type=String(20))
    opened_at: datetime = Field(sa_type=DateTime(timezone=True))
    opened_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")  # None: the month-end job
    due_at: datetime = Field(sa_type=DateTime(timezone=True))  # the end of the month, estate-local
    note: str = Field(default="", max_length=1000)
    posted_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    posted_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    cancelled_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    cancelled_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    cancel_reason: str = Field(default="", max_length=500)
    reminded_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # the month-end job told the desk
    flagged_overdue_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # not posted by month end

    transitions: ClassVar[TransitionTable[StocktakeStatus]] = STOCKTAKE_TRANSITIONS
    audit_actions: ClassVar[dict[str, str]] = {"remind": "stocktake.reminder", "flag_overdue": "stocktake.overdue"}

    def move(self, action: str) -> StocktakeStatus:
        self.status = STOCKTAKE_TRANSITIONS.next_state(StocktakeStatus(self.status), action)
        return self.status

    def count(self) -> None:
        """Counts were entered (the lines carry them): the count is under way."""
        self.move("count")

    def post(self, *, by: uuid.UUID | None, at: datetime) -> None:
        self.move("post")
        self.posted_at, self.posted_by = at, by

    def cancel(self, *, by: uuid.UUID | None, at: datetime, reason: str) -> None:
        self.move("cancel")
        self.cancelled_at, self.cancelled_by, self.cancel_reason = at, by, reason

    def remind(self, *, at: datetime) -> bool:
        """Remind the desk once; False when it was reminded already."""
        self.move("remind")
        if self.reminded_at is not None:
            return False
        self.reminded_at = at
        return True

    def flag_overdue(self, *, at: datetime) -> bool:
        """Flag once; False when it was flagged already."""
        self.move("flag_overdue")
        if self.flagged_overdue_at is not None:
            return False
        self.flagged_overdue_at = at
        return True

    def check(self, action: str) -> None:
        """Refuse before anything is read or written: a posted count is immutable."""
        STOCKTAKE_TRANSITIONS.next_state(StocktakeStatus(self.status), action)


class StocktakeLine(EstateScoped, table=True):
    __tablename__ = "stocktake_line"
    __table_args__ = (
        UniqueConstraint("stocktake_id", "stock_item_id", name="uq_stocktake_line_item"),
        CheckConstraint("counted_quantity IS NULL OR counted_quantity >= 0", name="counted_not_negative"),
    )

    stocktake_id: uuid.UUID = Field(foreign_key="stocktake.id", index=True)
    stock_item_id: uuid.UUID = Field(foreign_key="stock_item.id", index=True)
    # The item as it was at opening, so the report reads the same whatever is renamed later.
    code: str = Field(max_length=40)
    name: str = Field(max_length=100)
    unit: str = Field(max_length=20)
    snapshot_quantity: Decimal = Field(sa_type=Numeric(16, 3))  # the book at opening
    book_at_count: Decimal | None = Field(default=None, sa_type=Numeric(16, 3))  # snapshot + movements until counted
    counted_quantity: Decimal | None = Field(default=None, sa_type=Numeric(16, 3))
    counted_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    counted_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    note: str = Field(default="", max_length=500)
    # Fixed when posted: the cost the difference is valued at, and the adjustment it became.
    unit_cost: Decimal | None = Field(default=None, sa_type=Numeric(12, 2))
    # No foreign key: the movement already points at its stocktake, and a cycle of keys would
    # make the tables' creation order ambiguous.
    adjustment_id: uuid.UUID | None = None

    @property
    def difference(self) -> Decimal | None:
        """Counted minus the book when counted: negative is a shortage (盤虧), positive a surplus (盤盈)."""
        if self.counted_quantity is None or self.book_at_count is None:
            return None
        return self.counted_quantity - self.book_at_count
