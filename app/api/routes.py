"""Every area's router, in the order they appear in the API docs. Add new areas here."""
from fastapi import APIRouter

from app.api import (
    audit, auth, callbacks, cash, estates, fee_reports, fees, jobs, payments, registry, repair_reports,
    repair_requests, roster, technicians, users, vouchers, work_orders,
)

ROUTERS: list[APIRouter] = [
    auth.router,
    users.router,
    estates.router,
    registry.router,
    roster.router,
    repair_requests.router,
    work_orders.router,
    technicians.router,
    vouchers.router,
    callbacks.router,
    repair_reports.router,
    fees.router,
    payments.router,
    cash.router,
    fee_reports.router,
    audit.router,
    jobs.router,
]
