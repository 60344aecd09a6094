"""A desk integration's first day, written against the Python client generated from openapi.json
(openapi-python-client). CI only type-checks it (mypy --strict): if the contract changes under it,
a field renamed or a body that no longer fits, mypy fails, and so does CI."""
from __future__ import annotations

import datetime
import uuid

from propdesk_client import AuthenticatedClient, Client
from propdesk_client.api.auth import login
from propdesk_client.api.payments import take_payment
from propdesk_client.api.service_requests import create_service_request
from propdesk_client.api.work_orders import dispatch_order
from propdesk_client.models import (
    DispatchIn,
    LoginRequest,
    PaymentCreate,
    PaymentMethod,
    PaymentRead,
    Problem,
    RequestChannel,
    ServiceRequestCreate,
    ServiceRequestRead,
    TokenRead,
    WorkOrderDetail,
)

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def first_day(base_url: str, estate_id: uuid.UUID, unit_id: uuid.UUID, technician_id: uuid.UUID) -> PaymentRead:
    signed_in = login.sync(client=Client(base_url=base_url), body=LoginRequest(username="qs.reception", password="demo-password"))
    if not isinstance(signed_in, TokenRead):
        raise RuntimeError(signed_in.title if isinstance(signed_in, Problem) else "sign-in failed")
    api = AuthenticatedClient(base_url=base_url, token=signed_in.access_token)

    request = create_service_request.sync(estate_id, client=api, idempotency_key=str(uuid.uuid4()), body=ServiceRequestCreate(
        channel=RequestChannel.PHONE, category="plumbing", description="厨房水龙头漏水", unit_id=unit_id,
        contact_phone="13351737459"))
    if not isinstance(request, ServiceRequestRead):
        raise RuntimeError("not registered")
    if not isinstance(request.work_order_id, uuid.UUID):
        raise RuntimeError(f"request {request.number} has no work order")

    start = datetime.datetime(2026, 12, 8, 9, tzinfo=SHANGHAI)
    order = dispatch_order.sync(request.work_order_id, client=api, body=DispatchIn(
        technician_id=technician_id, start=start, end=start + datetime.timedelta(hours=2)))
    if not isinstance(order, WorkOrderDetail):
        raise RuntimeError("not dispatched")
    print(f"order {order.number}: {order.status}")

    # Money is a decimal string, never a float; the key makes a retry safe.
    paid = take_payment.sync(unit_id, client=api, idempotency_key=str(uuid.uuid4()),
                             body=PaymentCreate(amount="160.56", method=PaymentMethod.CASH, settle="oldest_first"))
    if not isinstance(paid, PaymentRead):
        raise RuntimeError("not paid")
    print(f"receipt {paid.receipt.number}")
    return paid
