"""Repairs rows made straight in the database, for tests of the later stages (callbacks,
approval, hand-over) that should not depend on the intake and dispatch endpoints."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.auth.model import User
from app.domain.base import utcnow
from app.domain.callbacks.model import Callback
from app.domain.registry.model import Estate, Unit
from app.domain.repairs import numbers
from app.domain.repairs.model import RequestChannel, RequestStatus, ServiceRequest, WorkOrder, WorkOrderStatus
from app.domain.repairs.vouchers.model import Voucher

_seq = itertools.count(1)
S = WorkOrderStatus
_REACHED = [S.dispatched, S.in_progress, S.completed, S.callback_done, S.approved, S.archived]


async def make_order(
    session: AsyncSession, *, estate: Estate, unit: Unit | None = None, technician: User | None = None,
    status: WorkOrderStatus = S.pending_dispatch, category: str = "plumbing", description: str | None = None,
    completed_at: datetime | None = None, is_public_area: bool | None = None, with_voucher: bool = False,
    with_callback: bool = False,
) -> WorkOrder:
    """A repair request and its work order, moved straight to `status` with plausible timestamps.

    `completed_at` (default: now) stamps completed and later states; `with_callback` adds the
    open callback a completion creates; `with_voucher` the voucher the technician posted.
    """
    public = unit.is_public if (is_public_area is None and unit is not None) else bool(is_public_area)
    request = ServiceRequest(estate_id=estate.id, channel=RequestChannel.phone, category=category,
                             number=await numbers.next_number(session, estate=estate, series=numbers.Series.service_request,
                                                              at=utcnow()),
                             description=description or f"水龍頭漏水 {next(_seq)}", unit_id=unit.id if unit else None,
                             is_public_area=public, location="" if unit else "公共區域", status=RequestStatus.ordered)
    session.add(request)
    await session.flush()
    order = WorkOrder(estate_id=estate.id, request_id=request.id, category=category,
                      number=await numbers.next_number(session, estate=estate, series=numbers.Series.work_order, at=utcnow()),
                      unit_id=unit.id if unit else None,
                      building_id=unit.building_id if unit else None, is_public_area=public, status=status)
    _stamp(order, status=status, technician=technician, completed_at=completed_at or utcnow())
    session.add(order)
    await session.flush()
    if with_voucher and order.completed_at is not None:
        session.add(Voucher(estate_id=estate.id, work_order_id=order.id, technician_id=order.technician_id,
                            work_done="更換水龍頭閥芯", minutes_spent=40, is_public_area=public, posted_at=order.completed_at))
    if with_callback and order.completed_at is not None:
        session.add(Callback.for_completed_order(order, tz=ZoneInfo(estate.time_zone)))
    await session.commit()
    return order


def _stamp(order: WorkOrder, *, status: WorkOrderStatus, technician: User | None, completed_at: datetime) -> None:
    if status not in _REACHED:
        order.technician_id = technician.id if technician else None
        return
    assert technician is not None, "make_order: an order past dispatch needs a technician"
    reached = _REACHED[: _REACHED.index(status) + 1]
    order.technician_id = technician.id
    order.scheduled_start = completed_at - timedelta(hours=2)
    order.scheduled_end = completed_at - timedelta(hours=1)
    order.dispatched_at = order.accepted_at = completed_at - timedelta(hours=3)
    if S.in_progress in reached:
        order.started_at = completed_at - timedelta(hours=1, minutes=30)
    if S.completed in reached:
        order.completed_at = completed_at
    if S.callback_done in reached:
        order.callback_done_at = completed_at + timedelta(days=2)
    if S.approved in reached:
        order.approved_at = completed_at + timedelta(days=5)
    if S.archived in reached:
        order.archived_at = completed_at + timedelta(days=20)
