"""Every area's router, in the order they appear in the API docs. Add new areas here."""
from fastapi import APIRouter

from app.api import (
    attendance, attention, audit, auth, bills, callbacks, cash, complaints, desk, estates, fee_reports, fees, holiday_calendar,
    jobs,
    notifications, payments, registry, rentals, repair_reports, repair_requests, roster, stock, stream, technicians,
    users, vouchers, webhooks, work_orders,
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
    bills.router,
    fee_reports.router,
    complaints.router,
    desk.router,
    attendance.router,
    holiday_calendar.router,
    rentals.router,
    stock.router,
    attention.router,
    stream.router,
    notifications.router,
    webhooks.router,
    audit.router,
    jobs.router,
]
