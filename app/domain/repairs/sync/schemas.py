"""What a technician's app gets from a sync: its copy of the orders, and what to forget."""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field

from app.domain.registry.model import Title
from app.domain.repairs.model import Urgency, WorkOrderStatus
from app.domain.stock.model import StockCategory


class SyncOrder(BaseModel):
    """One of his open orders, with what the job sheet in his hand needs."""

    id: uuid.UUID
    estate_id: uuid.UUID
    number: str
    status: WorkOrderStatus
    allowed_actions: list[str]
    category: str
    urgency: Urgency
    description: str
    unit_id: uuid.UUID | None
    building_id: uuid.UUID | None
    is_public_area: bool
    location: str = Field(description="The place when there is no unit: 3号楼电梯厅")
    owner_id: uuid.UUID | None = Field(description="The owner who reported it, when one did")
    contact_name: str
    contact_phone: str
    scheduled_start: datetime | None
    scheduled_end: datetime | None
    dispatched_at: datetime | None
    accepted_at: datetime | None
    started_at: datetime | None
    created_at: datetime


class SyncUnit(BaseModel):
    id: uuid.UUID
    estate_id: uuid.UUID
    building_id: uuid.UUID
    building_name: str
    entrance: str
    number: str
    floor: int | None
    label: str = Field(description="8号楼2单元301, in the estate's script")
    is_public: bool
    owner_ids: list[uuid.UUID] = Field(description="The unit's owners (each in `owners`)")


class SyncOwner(BaseModel):
    id: uuid.UUID
    estate_id: uuid.UUID
    full_name: str
    title: Title | None
    phones: list[str] = Field(description="Digits, as a phone dials them")


class SyncCategory(BaseModel):
    id: uuid.UUID
    estate_id: uuid.UUID
    code: str
    name: str
    sort: int


class SyncStockItem(BaseModel):
    id: uuid.UUID
    estate_id: uuid.UUID
    code: str
    name: str = Field(description="A voucher's material line named exactly so leaves the store with it")
    category: StockCategory
    unit: str
    quantity: Decimal = Field(description="In the store now")


class SyncKind(StrEnum):
    work_order = "work_order"
    unit = "unit"
    owner = "owner"
    category = "category"
    stock_item = "stock_item"


class TombstoneReason(StrEnum):
    reassigned = "reassigned"  # another technician has it now
    returned_to_desk = "returned_to_desk"  # released or reopened: the desk will dispatch it again
    cancelled = "cancelled"
    completed = "completed"  # done: no longer open work
    not_on_your_orders = "not_on_your_orders"  # a unit or owner none of his open orders names now
    inactive = "inactive"  # a category or stock item taken out of use
    no_longer_visible = "no_longer_visible"  # an order of an estate he no longer works in


class Tombstone(BaseModel):
    kind: SyncKind
    id: uuid.UUID
    reason: TombstoneReason


class TechnicianSync(BaseModel):
    """Apply in this order: upsert the records, then delete the tombstones' ids. `full`: this is
    a snapshot, so drop everything not in it first. `more`: call again at once with `cursor`
    for the next page of stock items before the sync is complete."""

    full: bool
    more: bool
    cursor: str = Field(description="Opaque: send it as `since` next time, unchanged")
    server_time: datetime
    orders: list[SyncOrder]
    units: list[SyncUnit]
    owners: list[SyncOwner]
    categories: list[SyncCategory]
    stock_items: list[SyncStockItem]
    tombstones: list[Tombstone]
