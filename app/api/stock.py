"""An estate's stock and the month-end stocktake (庫存盤存, §5.7)."""
from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from starlette import status

from app.api.deps import SessionDep, page_of, require
from app.api.errors import problems
from app.api.etags import ExpectedVersion, edit_responses, read_responses, tagged
from app.api.files import Encoding, download
from app.api.idempotency import idempotent
from app.api.ratelimit import REPORT_LIMIT, RateLimited
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.errors import IllegalTransition
from app.domain.fees.billing.rules import MONTH_PATTERN
from app.domain.pagination import Page, PageRequest, UnknownSortKey
from app.domain.registry.errors import EstateNotFound
from app.domain.repairs.orders.reading import WorkOrderNotFound
from app.domain.spreadsheet import XLSX_MEDIA_TYPE
from app.domain.stock import items, movements, report, stocktake
from app.domain.stock.model import MovementKind, StockCategory, StocktakeStatus
from app.domain.stock.schemas import (
    AdjustIn,
    CancelIn,
    CountsIn,
    IssueIn,
    MovementRead,
    ReceiveIn,
    ReturnIn,
    StockItemCreate,
    StockItemRead,
    StockItemUpdate,
    StocktakeCreate,
    StocktakeDetail,
    StocktakeRead,
    StocktakeReport,
)
from app.domain.types import Instant, QueryFlag

router = APIRouter(tags=["stock"])

Read = Annotated[Actor, Depends(require(Perm.stock_read))]
Write = Annotated[Actor, Depends(require(Perm.stock_write))]
Configure = Annotated[Actor, Depends(require(Perm.stock_configure))]
Count = Annotated[Actor, Depends(require(Perm.stocktake_count))]
Post = Annotated[Actor, Depends(require(Perm.stocktake_post))]
Month = Annotated[str, Query(pattern=MONTH_PATTERN, description="YYYY-MM", examples=["2026-11"])]
Format = Annotated[Literal["json", "csv", "xlsx"], Query(description="json, csv for Excel (see `encoding`), or xlsx")]
StockItemPage = Annotated[PageRequest, Depends(page_of(items.StockItemSort))]
MovementPage = Annotated[PageRequest, Depends(page_of(movements.MovementSort))]
StocktakePage = Annotated[PageRequest, Depends(page_of(stocktake.StocktakeSort))]
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}},
                      XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
          "description": "The report as JSON, or with format=csv / format=xlsx as a file with Chinese headers"},
}
ITEM_MOVE = (items.StockItemNotFound, movements.StockItemInactive)


# --- items ---------------------------------------------------------------------------------

@router.get("/estates/{estate_id}/stock-items", response_model=Page[StockItemRead], responses=problems(EstateNotFound, UnknownSortKey))
async def list_stock_items(
    estate_id: uuid.UUID, actor: Read, session: SessionDep, page: StockItemPage, category: StockCategory | None = None,
    active: QueryFlag | None = None,
    in_stock: Annotated[QueryFlag | None, Query(description="true: book above zero; false: at zero")] = None,
    q: Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00]*$", description="Part of the code or name")] = None,
) -> Page[StockItemRead]:
    """The estate's stock items with their book quantity and value, by code."""
    rows, total = await items.list_items(session, actor=actor, estate_id=estate_id, page=page, category=category,
                                         active=active, q=q, in_stock=in_stock)
    return Page(items=rows, total=total, limit=page.limit, offset=page.offset)


@router.post("/estates/{estate_id}/stock-items", response_model=StockItemRead, status_code=status.HTTP_201_CREATED,
             responses=problems(EstateNotFound, items.StockItemTaken))
@idempotent(status.HTTP_201_CREATED)
async def create_stock_item(estate_id: uuid.UUID, body: StockItemCreate, actor: Configure, session: SessionDep) -> StockItemRead:
    """A new stock item at zero; stock comes in by receiving it. Code and name are unique in the estate."""
    return await items.create_item(session, actor=actor, estate_id=estate_id, data=body)


@router.get("/stock-items/{item_id}", response_model=StockItemRead, responses=read_responses(items.StockItemNotFound))
async def get_stock_item(item_id: uuid.UUID, actor: Read, session: SessionDep, response: Response) -> StockItemRead:
    """One stock item with its book quantity."""
    return tagged(response, await items.get_item(session, actor=actor, item_id=item_id))


@router.patch("/stock-items/{item_id}", response_model=StockItemRead,
              responses=edit_responses(items.StockItemNotFound, items.StockItemTaken))
async def update_stock_item(
    item_id: uuid.UUID, body: StockItemUpdate, actor: Configure, session: SessionDep, expected: ExpectedVersion, response: Response,
) -> StockItemRead:
    """Change the name, unit, cost, category or note, or take the item out of use. The quantity moves only by movements."""
    return tagged(response, await items.update_item(session, actor=actor, item_id=item_id, data=body, expected_version=expected))


# --- movements -----------------------------------------------------------------------------

@router.get("/stock-items/{item_id}/movements", response_model=Page[MovementRead],
            responses=problems(items.StockItemNotFound, UnknownSortKey))
async def list_item_movements(item_id: uuid.UUID, actor: Read, session: SessionDep, page: MovementPage) -> Page[MovementRead]:
    """The item's ledger, latest first; each line carries the book after it."""
    rows, total = await movements.list_item_movements(session, actor=actor, item_id=item_id, page=page)
    return Page(items=rows, total=total, limit=page.limit, offset=page.offset)


@router.post("/stock-items/{item_id}/receive", response_model=MovementRead, status_code=status.HTTP_201_CREATED,
             responses=problems(*ITEM_MOVE))
@idempotent(status.HTTP_201_CREATED)
async def receive_stock(item_id: uuid.UUID, body: ReceiveIn, actor: Write, session: SessionDep) -> MovementRead:
    """Stock received into the store (入庫)."""
    return await movements.receive(session, actor=actor, item_id=item_id, data=body)


@router.post("/stock-items/{item_id}/issue", response_model=MovementRead, status_code=status.HTTP_201_CREATED,
             responses=problems(*ITEM_MOVE, movements.InsufficientStock, WorkOrderNotFound, movements.WorkOrderNotInEstate,
                                movements.WorkOrderCancelled))
@idempotent(status.HTTP_201_CREATED)
async def issue_stock(item_id: uuid.UUID, body: IssueIn, actor: Write, session: SessionDep) -> MovementRead:
    """Stock issued to a work order (領用). More than the book holds is 409 insufficient-stock.

    Materials on a posted completion voucher are issued automatically; this is for the rest."""
    return await movements.issue(session, actor=actor, item_id=item_id, data=body)


@router.post("/stock-items/{item_id}/return", response_model=MovementRead, status_code=status.HTTP_201_CREATED,
             responses=problems(*ITEM_MOVE, WorkOrderNotFound, movements.WorkOrderNotInEstate, movements.WorkOrderCancelled,
                                movements.ReturnExceedsIssued))
@idempotent(status.HTTP_201_CREATED)
async def return_stock(item_id: uuid.UUID, body: ReturnIn, actor: Write, session: SessionDep) -> MovementRead:
    """Stock returned to the store (退庫), from a work order (no more than was issued to it) or otherwise."""
    return await movements.return_(session, actor=actor, item_id=item_id, data=body)


@router.post("/stock-items/{item_id}/adjust", response_model=MovementRead, status_code=status.HTTP_201_CREATED,
             responses=problems(items.StockItemNotFound, movements.AdjustmentBelowZero))
@idempotent(status.HTTP_201_CREATED)
async def adjust_stock(item_id: uuid.UUID, body: AdjustIn, actor: Configure, session: SessionDep) -> MovementRead:
    """An explicit correction of the book with its reason; it never takes the book below zero."""
    return await movements.adjust(session, actor=actor, item_id=item_id, data=body)


@router.get("/estates/{estate_id}/stock-movements", response_model=Page[MovementRead],
            responses=problems(EstateNotFound, UnknownSortKey))
async def list_estate_movements(
    estate_id: uuid.UUID, actor: Read, session: SessionDep, page: MovementPage, kind: MovementKind | None = None,
    work_order_id: uuid.UUID | None = None, stocktake_id: uuid.UUID | None = None, stock_item_id: uuid.UUID | None = None,
    at_from: Annotated[Instant | None, Query(alias="from")] = None,
    at_to: Annotated[Instant | None, Query(alias="to")] = None,
) -> Page[MovementRead]:
    """The estate's stock ledger, latest first: by kind, work order, stocktake, item and time [from, to)."""
    rows, total = await movements.list_estate_movements(
        session, actor=actor, estate_id=estate_id, page=page, kind=kind, work_order_id=work_order_id,
        stocktake_id=stocktake_id, stock_item_id=stock_item_id, at_from=at_from, at_to=at_to)
    return Page(items=rows, total=total, limit=page.limit, offset=page.offset)


# --- stocktakes ----------------------------------------------------------------------------

@router.post("/estates/{estate_id}/stocktakes", response_model=StocktakeDetail, status_code=status.HTTP_201_CREATED,
             responses=problems(EstateNotFound, stocktake.StocktakeAlreadyOpen, stocktake.NothingToCount))
@idempotent(status.HTTP_201_CREATED)
async def open_stocktake(estate_id: uuid.UUID, body: StocktakeCreate, actor: Count, session: SessionDep) -> StocktakeDetail:
    """Open a count: the book of every active item is snapshot now. One count at a time per estate."""
    return await stocktake.open_count(session, actor=actor, estate_id=estate_id, data=body)


@router.get("/estates/{estate_id}/stocktakes", response_model=Page[StocktakeRead], responses=problems(EstateNotFound, UnknownSortKey))
async def list_stocktakes(
    estate_id: uuid.UUID, actor: Read, session: SessionDep, page: StocktakePage, status_: Annotated[
        StocktakeStatus | None, Query(alias="status")] = None, month: Annotated[str | None, Query(pattern=MONTH_PATTERN)] = None,
) -> Page[StocktakeRead]:
    """The estate's stocktakes, latest first."""
    rows, total = await stocktake.list_stocktakes(session, actor=actor, estate_id=estate_id, page=page, status=status_, month=month)
    return Page(items=rows, total=total, limit=page.limit, offset=page.offset)


@router.get("/stocktakes/{stocktake_id}", response_model=StocktakeDetail, responses=read_responses(stocktake.StocktakeNotFound))
async def get_stocktake(stocktake_id: uuid.UUID, actor: Read, session: SessionDep, response: Response) -> StocktakeDetail:
    """One stocktake with its lines: snapshot, book when counted, counted, difference."""
    return tagged(response, await stocktake.get_stocktake(session, actor=actor, stocktake_id=stocktake_id))


@router.put("/stocktakes/{stocktake_id}/counts", response_model=StocktakeDetail,
            responses=edit_responses(stocktake.StocktakeNotFound, IllegalTransition, stocktake.ItemNotInStocktake,
                                     stocktake.DuplicateCountLine))
async def enter_counts(
    stocktake_id: uuid.UUID, body: CountsIn, actor: Count, session: SessionDep, expected: ExpectedVersion, response: Response,
) -> StocktakeDetail:
    """Enter counted quantities (again, to correct one). Each line is compared with the book at this moment:
    the snapshot plus whatever moved since the count was opened."""
    return tagged(response, await stocktake.enter_counts(session, actor=actor, stocktake_id=stocktake_id, data=body,
                                                         expected_version=expected))


@router.post("/stocktakes/{stocktake_id}/post", response_model=StocktakeDetail,
             responses=problems(stocktake.StocktakeNotFound, IllegalTransition, stocktake.StocktakeIncomplete,
                                movements.AdjustmentBelowZero))
@idempotent(200)
async def post_stocktake(stocktake_id: uuid.UUID, actor: Post, session: SessionDep) -> StocktakeDetail:
    """Post the count: each difference becomes an adjustment with the count's reference. A posted count is immutable."""
    return await stocktake.post(session, actor=actor, stocktake_id=stocktake_id)


@router.post("/stocktakes/{stocktake_id}/cancel", response_model=StocktakeDetail,
             responses=problems(stocktake.StocktakeNotFound, IllegalTransition))
@idempotent(200)
async def cancel_stocktake(stocktake_id: uuid.UUID, body: CancelIn, actor: Post, session: SessionDep) -> StocktakeDetail:
    """Abandon a count not yet posted; nothing is booked."""
    return await stocktake.cancel(session, actor=actor, stocktake_id=stocktake_id, data=body)


@router.get("/stocktakes/{stocktake_id}/report", response_model=StocktakeReport, dependencies=[REPORT_LIMIT],
            responses={**CSV_RESPONSE, **problems(stocktake.StocktakeNotFound, RateLimited)})
async def stocktake_report(stocktake_id: uuid.UUID, actor: Read, session: SessionDep, format: Format = "json",
                           encoding: Encoding = "utf-8") -> Any:
    """The stocktake report for finance: per item book, counted and difference in quantity and money, with totals."""
    if format != "json":
        body, media_type, filename = await report.report_file(session, actor=actor, stocktake_id=stocktake_id, fmt=format,
                                                              encoding=encoding)
        return download(body, media_type=media_type, filename=filename)
    return await report.stocktake_report(session, actor=actor, stocktake_id=stocktake_id)


@router.get("/estates/{estate_id}/stocktake-report", response_model=StocktakeReport, dependencies=[REPORT_LIMIT],
            responses={**CSV_RESPONSE, **problems(EstateNotFound, stocktake.StocktakeNotFound, RateLimited)})
async def month_stocktake_report(estate_id: uuid.UUID, month: Month, actor: Read, session: SessionDep,
                                 format: Format = "json", encoding: Encoding = "utf-8") -> Any:
    """The month-end stocktake report (§5.7): the month's posted count, or the one still in progress."""
    if format != "json":
        body, media_type, filename = await report.report_file(session, actor=actor, estate_id=estate_id, month=month,
                                                              fmt=format, encoding=encoding)
        return download(body, media_type=media_type, filename=filename)
    return await report.month_report(session, actor=actor, estate_id=estate_id, month=month)
