"""Who may read, dispatch and work on repair orders (DOMAIN.md: the flow of a repair, §7.3.7-7.3.8)."""
from __future__ import annotations

from tests.api.permission_table import STAFF, R, only

# Everyone who handles repairs reads the orders: the desk, technicians (their own), managers
# (their patch), night duty, supervisor, CS director, the records clerk (public-area vouchers),
# admin. The agency desk and finance have no business with repairs.
ORDERS_READ = STAFF - only(R.agency, R.finance)
# The desk dispatches: receptionist by day, night duty by night, the supervisor, admin.
DISPATCH = only(R.receptionist, R.night_duty, R.supervisor, R.admin)
# Only a technician confirms, accepts, starts and releases -- and only his own orders.
WORK = only(R.technician)
# Technicians' hours are set by whoever configures repairs for the estate.
CONFIGURE = only(R.supervisor, R.admin)

EXPECTED = {
    "GET /api/v1/estates/{estate_id}/work-orders": ORDERS_READ,
    "GET /api/v1/work-orders/{order_id}": ORDERS_READ,
    "GET /api/v1/work-orders/{order_id}/task-sheet": ORDERS_READ,
    "GET /api/v1/work-orders/{order_id}/task-sheet.pdf": ORDERS_READ,
    "POST /api/v1/work-orders/{order_id}/dispatch": DISPATCH,
    "POST /api/v1/work-orders/{order_id}/await-confirmation": DISPATCH,
    "POST /api/v1/work-orders/{order_id}/owner-told": DISPATCH,
    "POST /api/v1/work-orders/{order_id}/cancel": DISPATCH,
    "POST /api/v1/work-orders/{order_id}/confirm": WORK,
    "POST /api/v1/work-orders/{order_id}/accept": WORK,
    "POST /api/v1/work-orders/{order_id}/start": WORK,
    "POST /api/v1/work-orders/{order_id}/release": WORK,
    # The desk gives a dispatched order to another technician.
    "POST /api/v1/work-orders/{order_id}/reassign": DISPATCH,
    # The technician writes notes for the callback on his order; whoever reads orders reads them.
    "POST /api/v1/work-orders/{order_id}/notes": WORK,
    "GET /api/v1/work-orders/{order_id}/notes": ORDERS_READ,
    # A technician's offline copy of his own orders: nobody else has one (a receptionist: 403).
    "GET /api/v1/technicians/me/sync": WORK,
    # The open replies are shown to the whole desk and those overseeing it.
    "GET /api/v1/estates/{estate_id}/reply-promises": ORDERS_READ,
    "GET /api/v1/estates/{estate_id}/technicians/availability": DISPATCH,
    "GET /api/v1/technicians/{user_id}/working-hours": ORDERS_READ,
    "PUT /api/v1/technicians/{user_id}/working-hours": CONFIGURE,
}
