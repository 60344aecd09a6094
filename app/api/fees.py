"""Fee items and prices, subscriptions, meter readings, the monthly billing run, and charges (§5.2)."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from starlette import status

from app.api.deps import SessionDep, page_of, require
from app.api.errors import problems
from app.api.etags import ExpectedVersion, edit_responses, read_responses, tagged
from app.api.idempotency import idempotent
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.errors import AlreadyExists
from app.domain.fees.billing import charges, items
from app.domain.fees.billing import runs as billing_runs
from app.domain.fees.billing.charges import ChargeStatus
from app.domain.fees.billing.rules import MONTH_PATTERN
from app.domain.fees.billing.schemas import (
    BillingMonth,
    BillingPreview,
    BillingRunRead,
    BillingRunResult,
    ChargeRead,
    FeeItemCreate,
    FeeItemDetail,
    FeeItemRead,
    FeeItemUpdate,
    FeePriceCreate,
    ManualChargeCreate,
    MeterReadingCreate,
    MeterReadingRead,
    SubscriptionPut,
    SubscriptionRead,
)
from app.domain.fees.model import FeeKind
from app.domain.fees.prorate.days import DayOutsideMonth
from app.domain.pagination import Page, PageRequest, UnknownSortKey
from app.domain.registry.errors import EstateNotFound, UnitNotFound
from app.domain.types import QueryFlag

router = APIRouter(tags=["fees"])

Read = Annotated[Actor, Depends(require(Perm.fees_read))]
Configure = Annotated[Actor, Depends(require(Perm.fees_configure))]
Bill = Annotated[Actor, Depends(require(Perm.billing_run))]
ReadMeters = Annotated[Actor, Depends(require(Perm.meter_readings_write))]
Period = Annotated[str | None, Query(pattern=MONTH_PATTERN, description="A month: 2026-11")]
FeeItemPage = Annotated[PageRequest, Depends(page_of(items.FeeItemSort))]
SubscriptionPage = Annotated[PageRequest, Depends(page_of(items.SubscriptionSort))]
BillingRunPage = Annotated[PageRequest, Depends(page_of(billing_runs.BillingRunSort))]
ChargePage = Annotated[PageRequest, Depends(page_of(charges.ChargeSort))]
CREATED = status.HTTP_201_CREATED


# --- fee items and prices --------------------------------------------------------------

@router.get("/estates/{estate_id}/fee-items", response_model=Page[FeeItemRead], responses=problems(EstateNotFound, UnknownSortKey))
async def list_fee_items(
    estate_id: uuid.UUID, actor: Read, session: SessionDep, page: FeeItemPage, kind: FeeKind | None = None, active: QueryFlag | None = None,
) -> Page[FeeItemRead]:
    """The estate's fee items (收費項目) by code, each with the price in force today."""
    rows, total = await items.list_items(session, actor=actor, estate_id=estate_id, page=page, kind=kind, active=active)
    return Page(items=[FeeItemRead.model_validate(r) for r in rows], total=total, limit=page.limit, offset=page.offset)


@router.post("/estates/{estate_id}/fee-items", response_model=FeeItemDetail, status_code=CREATED,
             responses=problems(EstateNotFound, items.FeeItemCodeTaken))
@idempotent(CREATED)
async def create_fee_item(estate_id: uuid.UUID, body: FeeItemCreate, actor: Configure, session: SessionDep) -> FeeItemDetail:
    """Add a fee item with its first price and the day that price applies from."""
    return FeeItemDetail.model_validate(await items.create_item(session, actor=actor, estate_id=estate_id, data=body))


@router.get("/fee-items/{item_id}", response_model=FeeItemDetail, responses=read_responses(items.FeeItemNotFound))
async def get_fee_item(item_id: uuid.UUID, actor: Read, session: SessionDep, response: Response) -> FeeItemDetail:
    """One fee item with its price history."""
    return tagged(response, FeeItemDetail.model_validate(await items.item_detail(session, actor=actor, item_id=item_id)))


@router.patch("/fee-items/{item_id}", response_model=FeeItemDetail, responses=edit_responses(items.FeeItemNotFound))
async def update_fee_item(
    item_id: uuid.UUID, body: FeeItemUpdate, actor: Configure, session: SessionDep, expected: ExpectedVersion, response: Response,
) -> FeeItemDetail:
    """Change an item's name, vacant-unit and late-fee rules, due day or active flag. Never the price:
    a price changes with POST /fee-items/{item_id}/prices from a date."""
    row = await items.update_item(session, actor=actor, item_id=item_id, data=body, expected_version=expected)
    return tagged(response, FeeItemDetail.model_validate(row))


@router.post("/fee-items/{item_id}/prices", response_model=FeeItemDetail, status_code=CREATED,
             responses=problems(items.FeeItemNotFound, items.PriceDateTaken, items.PriceWouldRewriteBilledCharges))
@idempotent(CREATED)
async def add_fee_price(item_id: uuid.UUID, body: FeePriceCreate, actor: Configure, session: SessionDep) -> FeeItemDetail:
    """A new price from a date. Charges already billed keep their price: a date in a month
    already billed is refused (409 price-would-rewrite-billed-charges)."""
    return FeeItemDetail.model_validate(await items.add_price(session, actor=actor, item_id=item_id, data=body))


# --- subscriptions ---------------------------------------------------------------------

@router.get("/units/{unit_id}/fee-items", response_model=Page[SubscriptionRead], responses=problems(UnitNotFound, UnknownSortKey))
async def list_unit_fee_items(unit_id: uuid.UUID, actor: Read, session: SessionDep, page: SubscriptionPage) -> Page[SubscriptionRead]:
    """The items the unit is subscribed to besides those every unit pays (parking spaces, meters)."""
    rows, total = await items.list_subscriptions(session, actor=actor, unit_id=unit_id, page=page)
    return Page(items=[SubscriptionRead.model_validate(r) for r in rows], total=total, limit=page.limit, offset=page.offset)


@router.put("/units/{unit_id}/fee-items/{item_id}", response_model=SubscriptionRead,
            responses=edit_responses(UnitNotFound, items.FeeItemNotFound, items.NotSubscribable, DayOutsideMonth, AlreadyExists))
async def put_unit_fee_item(unit_id: uuid.UUID, item_id: uuid.UUID, body: SubscriptionPut, actor: Configure,
                            session: SessionDep, expected: ExpectedVersion, response: Response) -> SubscriptionRead:
    """Subscribe the unit to an item (or change the quantity and months of its subscription).
    starts_on / ends_on: a space taken or given up mid-month; those months are prorated by days."""
    row = await items.put_subscription(session, actor=actor, unit_id=unit_id, item_id=item_id, data=body, expected_version=expected)
    return tagged(response, SubscriptionRead.model_validate(row))


@router.delete("/units/{unit_id}/fee-items/{item_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=problems(UnitNotFound, items.FeeItemNotFound, items.SubscriptionNotFound))
async def delete_unit_fee_item(unit_id: uuid.UUID, item_id: uuid.UUID, actor: Configure, session: SessionDep) -> Response:
    """End the unit's subscription; charges already billed stay."""
    await items.delete_subscription(session, actor=actor, unit_id=unit_id, item_id=item_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- meter readings --------------------------------------------------------------------

@router.post("/estates/{estate_id}/meter-readings", response_model=MeterReadingRead, status_code=CREATED,
             responses=problems(EstateNotFound, items.MeterUnitNotInEstate, items.NotAMeteredItem, items.FeeItemInactive,
                                items.PreviousReadingNeeded, items.ReadingBelowPrevious, items.NoPriceInForce,
                                items.ReadingAlreadyTaken))
@idempotent(CREATED)
async def record_meter_reading(estate_id: uuid.UUID, body: MeterReadingCreate, actor: ReadMeters, session: SessionDep) -> MeterReadingRead:
    """A month's meter reading; the charge (current - previous) × price is created at once.
    previous defaults to the meter's last reading."""
    return MeterReadingRead.model_validate(await items.record_reading(session, actor=actor, estate_id=estate_id, data=body))


# --- billing runs ----------------------------------------------------------------------

@router.post("/estates/{estate_id}/billing-runs/preview", response_model=BillingPreview, responses=problems(EstateNotFound))
async def preview_billing_run(estate_id: uuid.UUID, body: BillingMonth, actor: Bill, session: SessionDep) -> BillingPreview:
    """What a billing run for the month would create (count, total, per item, the first lines); writes nothing."""
    return BillingPreview.model_validate(await billing_runs.preview(session, actor=actor, estate_id=estate_id, month=body.month))


@router.post("/estates/{estate_id}/billing-runs", response_model=BillingRunResult, responses=problems(EstateNotFound))
@idempotent(200)
async def create_billing_run(estate_id: uuid.UUID, body: BillingMonth, actor: Bill, session: SessionDep) -> BillingRunResult:
    """Bill the month: every private unit for every active per-m² and fixed item, plus subscriptions.
    A month already billed creates nothing and answers with its run and created=0."""
    run, created = await billing_runs.run(session, actor=actor, estate_id=estate_id, month=body.month)
    return BillingRunResult(run=BillingRunRead.model_validate(run), created=created)


@router.get("/estates/{estate_id}/billing-runs", response_model=Page[BillingRunRead], responses=problems(EstateNotFound, UnknownSortKey))
async def list_billing_runs(estate_id: uuid.UUID, actor: Read, session: SessionDep, page: BillingRunPage) -> Page[BillingRunRead]:
    """The estate's billing runs, latest month first."""
    rows, total = await billing_runs.list_runs(session, actor=actor, estate_id=estate_id, page=page)
    return Page(items=[BillingRunRead.model_validate(r) for r in rows], total=total, limit=page.limit, offset=page.offset)


# --- charges ---------------------------------------------------------------------------

@router.get("/units/{unit_id}/charges", response_model=Page[ChargeRead], responses=problems(UnitNotFound, UnknownSortKey))
async def list_unit_charges(
    unit_id: uuid.UUID, actor: Read, session: SessionDep, page: ChargePage, status: ChargeStatus | None = None, period: Period = None,
) -> Page[ChargeRead]:
    """The unit's charges by due date, each with what is outstanding and the late fee as of today (estate time)."""
    rows, total = await charges.list_unit_charges(session, actor=actor, unit_id=unit_id, page=page, status=status, period=period)
    return Page(items=[ChargeRead.model_validate(r) for r in rows], total=total, limit=page.limit, offset=page.offset)


@router.get("/estates/{estate_id}/charges", response_model=Page[ChargeRead], responses=problems(EstateNotFound, UnknownSortKey))
async def list_estate_charges(
    estate_id: uuid.UUID, actor: Read, session: SessionDep, page: ChargePage, status: ChargeStatus | None = None,
    period: Period = None, fee_item_id: uuid.UUID | None = None,
) -> Page[ChargeRead]:
    """The estate's charges by due date; filter by open/paid, month or item. Late fees as of today."""
    rows, total = await charges.list_estate_charges(session, actor=actor, estate_id=estate_id, page=page, status=status,
                                                    period=period, fee_item_id=fee_item_id)
    return Page(items=[ChargeRead.model_validate(r) for r in rows], total=total, limit=page.limit, offset=page.offset)


@router.post("/units/{unit_id}/charges", response_model=ChargeRead, status_code=CREATED,
             responses=problems(UnitNotFound, charges.NotAOneOffItem, items.FeeItemInactive))
@idempotent(CREATED)
async def create_unit_charge(unit_id: uuid.UUID, body: ManualChargeCreate, actor: Configure, session: SessionDep) -> ChargeRead:
    """A one-off charge entered at the desk (a deposit) against a one_off item, due today."""
    return ChargeRead.model_validate(await charges.create_manual_charge(session, actor=actor, unit_id=unit_id, data=body))
