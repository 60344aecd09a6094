"""Work orders (維修任務單): the list, dispatch, the reply owed to the owner, the technician's verbs."""
from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from starlette import status

from app.api.deps import SessionDep, page_of, require
from app.api.device_time import DEVICE_TIME_ERRORS, DeviceTime
from app.api.errors import problems
from app.api.files import PDF_RESPONSE, pdf_response
from app.api.idempotency import idempotent
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.errors import IllegalTransition
from app.domain.pagination import Page, PageRequest, UnknownSortKey
from app.domain.registry.errors import EstateNotFound
from app.domain.repairs import numbers
from app.domain.repairs.model import CancelNeedsReason, ReasonRequired, ScheduleOutOfOrder, WorkOrderStatus
from app.domain.repairs.orders import dispatch as d
from app.domain.repairs.orders import notes
from app.domain.repairs.orders import reading as orders
from app.domain.repairs.orders.field import OrderCancelled, OrderReassigned
from app.domain.repairs.orders.reading import WorkOrderNotFound
from app.domain.repairs.orders.schemas import (
    AwaitConfirmationIn,
    ConfirmIn,
    DispatchIn,
    NoteCreate,
    NoteRead,
    OwnerToldIn,
    ReasonIn,
    ReplyPromiseRead,
    TaskSheet,
    WorkOrderDetail,
    WorkOrderRead,
)
from app.domain.repairs.orders.technicians import NotATechnicianOfEstate, OutsideWorkingHours
from app.domain.repairs.paperwork.task_sheet_pdf import task_sheet_pdf
from app.domain.types import Instant

router = APIRouter(tags=["work orders"])
FIELD_CONFLICTS = (OrderReassigned, OrderCancelled)

Read = Annotated[Actor, Depends(require(Perm.requests_read))]
Desk = Annotated[Actor, Depends(require(Perm.orders_dispatch))]
Work = Annotated[Actor, Depends(require(Perm.orders_work))]
Category = Annotated[str | None, Query(max_length=40, pattern=r"^[^\x00]*$")]
NumberSearch = Annotated[str | None, Query(
    max_length=64, pattern=numbers.SEARCH_PATTERN,
    description="The order's whole number (QS-WX-2026-000123) or its trailing digits (123, 000123); its request's whole number")]
WorkOrderPage = Annotated[PageRequest, Depends(page_of(orders.WorkOrderSort))]
ReplyPromisePage = Annotated[PageRequest, Depends(page_of(d.ReplyPromiseSort))]


@router.get("/estates/{estate_id}/work-orders", response_model=Page[WorkOrderRead], responses=problems(EstateNotFound, UnknownSortKey))
async def list_work_orders(
    estate_id: uuid.UUID, actor: Read, session: SessionDep, page: WorkOrderPage,
    status: Annotated[list[WorkOrderStatus] | None, Query(description="Repeat for several states")] = None,
    technician_id: uuid.UUID | None = None, unit_id: uuid.UUID | None = None, category: Category = None,
    created_from: Instant | None = None, created_to: Instant | None = None,
    scheduled_from: Instant | None = None, scheduled_to: Instant | None = None, number: NumberSearch = None,
) -> Page[WorkOrderRead]:
    """The estate's work orders, newest first; a technician sees only the orders given to him.

    Sort by created_at, number, scheduled_start, status, category or completed_at.
    """
    rows, total = await orders.list_orders(
        session, actor=actor, estate_id=estate_id, page=page, status=status, technician_id=technician_id, unit_id=unit_id,
        category=category, created_from=created_from, created_to=created_to, scheduled_from=scheduled_from,
        scheduled_to=scheduled_to, number=number)
    return Page(items=rows, total=total, limit=page.limit, offset=page.offset)


@router.get("/work-orders/{order_id}", response_model=WorkOrderDetail, responses=problems(WorkOrderNotFound))
async def get_work_order(order_id: uuid.UUID, actor: Read, session: SessionDep) -> WorkOrderDetail:
    """One work order with the actions allowed next, the request, the unit, its booking and any open reply promise."""
    return await orders.get_order(session, actor=actor, order_id=order_id)


@router.get("/work-orders/{order_id}/task-sheet", response_model=TaskSheet, responses=problems(WorkOrderNotFound))
async def get_task_sheet(order_id: uuid.UUID, actor: Read, session: SessionDep) -> TaskSheet:
    """The printable task sheet (§7.3.8): office, job, place, contact, the window in local time, blank material lines."""
    return await orders.task_sheet(session, actor=actor, order_id=order_id)


@router.get("/work-orders/{order_id}/task-sheet.pdf", response_class=Response,
            responses={**PDF_RESPONSE, **problems(WorkOrderNotFound)})
async def print_task_sheet(order_id: uuid.UUID, actor: Read, session: SessionDep) -> Response:
    """The task sheet to print (PDF, A4): the job, address, owner and phone, window, technician, blank
    material and work-done lines, result boxes and signature lines. A technician prints only his own orders."""
    filename, pdf = await task_sheet_pdf(session, actor=actor, order_id=order_id)
    return pdf_response(pdf, filename=filename)


@router.post("/work-orders/{order_id}/dispatch", response_model=WorkOrderDetail,
             responses=problems(WorkOrderNotFound, IllegalTransition, d.TechnicianAlreadyBooked, NotATechnicianOfEstate,
                                OutsideWorkingHours, ScheduleOutOfOrder))
@idempotent(200)
async def dispatch_order(order_id: uuid.UUID, body: DispatchIn, actor: Desk, session: SessionDep) -> WorkOrderDetail:
    """Give the order to a technician for a window inside his working hours.

    The booking is checked by PostgreSQL: a technician already booked for an overlapping
    window answers 409 technician-already-booked naming the clashing order.
    """
    return await d.dispatch(session, actor=actor, order_id=order_id, data=body)


@router.post("/work-orders/{order_id}/await-confirmation", response_model=WorkOrderDetail,
             responses=problems(WorkOrderNotFound, IllegalTransition, NotATechnicianOfEstate))
@idempotent(200)
async def await_confirmation(order_id: uuid.UUID, body: AwaitConfirmationIn, actor: Desk, session: SessionDep) -> WorkOrderDetail:
    """No technician is free (§7.3.7): wait for one to name a time; the desk owes the owner a reply within N minutes."""
    return await d.await_confirmation(session, actor=actor, order_id=order_id, data=body)


@router.post("/work-orders/{order_id}/confirm", response_model=WorkOrderDetail,
             responses=problems(WorkOrderNotFound, IllegalTransition, d.TechnicianAlreadyBooked, ScheduleOutOfOrder,
                                *FIELD_CONFLICTS))
@idempotent(200)
async def confirm_order(order_id: uuid.UUID, body: ConfirmIn, actor: Work, session: SessionDep) -> WorkOrderDetail:
    """The assigned technician names the time he will come; it is booked and the reply promise gets its time."""
    return await d.confirm(session, actor=actor, order_id=order_id, data=body)


@router.post("/work-orders/{order_id}/owner-told", response_model=WorkOrderDetail,
             responses=problems(WorkOrderNotFound, d.NoOpenReplyPromise, d.ReplyNotConfirmed, d.ToldInTheFuture))
@idempotent(200)
async def owner_told(order_id: uuid.UUID, body: OwnerToldIn, actor: Desk, session: SessionDep) -> WorkOrderDetail:
    """Record when (and by whom) the owner was told the confirmed time; closes the reply promise."""
    return await d.owner_told(session, actor=actor, order_id=order_id, data=body)


@router.get("/estates/{estate_id}/reply-promises", response_model=Page[ReplyPromiseRead],
            responses=problems(EstateNotFound, UnknownSortKey))
async def list_reply_promises(
    estate_id: uuid.UUID, actor: Read, session: SessionDep, page: ReplyPromisePage,
    state: Annotated[Literal["open", "overdue", "all"], Query(description="open (default), overdue, or all")] = "open",
) -> Page[ReplyPromiseRead]:
    """Replies the desk owes owners (§7.3.7), most urgent first, with their deadline and whether it has passed."""
    rows, total = await d.list_promises(session, actor=actor, estate_id=estate_id, page=page, state=state)
    return Page(items=rows, total=total, limit=page.limit, offset=page.offset)


@router.post("/work-orders/{order_id}/accept", response_model=WorkOrderDetail,
             responses=problems(WorkOrderNotFound, IllegalTransition, *FIELD_CONFLICTS))
@idempotent(200)
async def accept_order(order_id: uuid.UUID, actor: Work, session: SessionDep) -> WorkOrderDetail:
    """The technician takes his dispatched order."""
    return await d.accept(session, actor=actor, order_id=order_id)


@router.post("/work-orders/{order_id}/start", response_model=WorkOrderDetail,
             responses=problems(WorkOrderNotFound, IllegalTransition, *FIELD_CONFLICTS, *DEVICE_TIME_ERRORS))
@idempotent(200)
async def start_order(order_id: uuid.UUID, actor: Work, session: SessionDep, device_time: DeviceTime = None) -> WorkOrderDetail:
    """The technician is at the job and starts work.

    Queued offline, it carries `X-Device-Time` (when he started) and its Idempotency-Key. An
    order taken from him meanwhile answers 409 order-reassigned (how and when, not to whom);
    one cancelled meanwhile, 409 order-cancelled.
    """
    return await d.start(session, actor=actor, order_id=order_id, device_time=device_time)


@router.post("/work-orders/{order_id}/reassign", response_model=WorkOrderDetail,
             responses=problems(WorkOrderNotFound, IllegalTransition, d.TechnicianAlreadyBooked, NotATechnicianOfEstate,
                                OutsideWorkingHours, ScheduleOutOfOrder))
@idempotent(200)
async def reassign_order(order_id: uuid.UUID, body: DispatchIn, actor: Desk, session: SessionDep) -> WorkOrderDetail:
    """Give a dispatched order (not yet started) to another technician for a window in his hours.

    The first technician's booking is freed; the order leaves his sync with a `reassigned`
    tombstone, and work he queued on it offline is refused with 409 order-reassigned.
    """
    return await d.reassign(session, actor=actor, order_id=order_id, data=body)


@router.post("/work-orders/{order_id}/notes", response_model=NoteRead, status_code=status.HTTP_201_CREATED,
             responses=problems(WorkOrderNotFound, *FIELD_CONFLICTS, *DEVICE_TIME_ERRORS))
@idempotent(status.HTTP_201_CREATED)
async def add_callback_note(order_id: uuid.UUID, body: NoteCreate, actor: Work, session: SessionDep,
                            device_time: DeviceTime = None) -> NoteRead:
    """The technician's note for the callback (回訪): what the desk should know when it rings the owner.

    Only on his own order; queued offline, with `X-Device-Time` and its Idempotency-Key.
    """
    return await notes.add_note(session, actor=actor, order_id=order_id, data=body, device_time=device_time)


@router.get("/work-orders/{order_id}/notes", response_model=list[NoteRead], responses=problems(WorkOrderNotFound))
async def list_callback_notes(order_id: uuid.UUID, actor: Read, session: SessionDep) -> list[NoteRead]:
    """The order's notes for the callback, oldest first, each with the server's and the device's time."""
    return await notes.list_notes(session, actor=actor, order_id=order_id)


@router.post("/work-orders/{order_id}/release", response_model=WorkOrderDetail,
             responses=problems(WorkOrderNotFound, IllegalTransition, ReasonRequired, *FIELD_CONFLICTS))
@idempotent(200)
async def release_order(order_id: uuid.UUID, body: ReasonIn, actor: Work, session: SessionDep) -> WorkOrderDetail:
    """The technician cannot come: the order goes back to the desk for dispatch and his booking is freed."""
    return await d.release(session, actor=actor, order_id=order_id, data=body)


@router.post("/work-orders/{order_id}/cancel", response_model=WorkOrderDetail,
             responses=problems(WorkOrderNotFound, IllegalTransition, CancelNeedsReason))
@idempotent(200)
async def cancel_order(order_id: uuid.UUID, body: ReasonIn, actor: Desk, session: SessionDep) -> WorkOrderDetail:
    """Cancel the order with a reason; its booking is freed and the request is cancelled too."""
    return await d.cancel(session, actor=actor, order_id=order_id, data=body)
