"""Who may see and move the estate's stock and take the month-end stocktake (DOMAIN.md: §5.7)."""
from __future__ import annotations

from tests.api.permission_table import R, only

# The desk keeps the store; technicians look up what is on the shelf; managers, the supervisor
# and finance (who receives the stocktake) read it. Night duty, the CS director, the records
# clerk and the agency desk have no business with stock.
READ = only(R.receptionist, R.technician, R.manager, R.supervisor, R.finance, R.admin)
# Receiving, issuing to a work order and taking back are the desk's daily work.
WRITE = only(R.receptionist, R.supervisor, R.admin)
# What an item is and what it costs -- and correcting the book by hand -- is for those who answer for the money.
CONFIGURE = only(R.supervisor, R.finance, R.admin)
# The desk counts (§5.7); the supervisor and finance may count with it.
COUNT = only(R.receptionist, R.supervisor, R.finance, R.admin)
# Posting books the differences for finance: not the counter's own call.
POST = only(R.supervisor, R.finance, R.admin)

EXPECTED = {
    "GET /api/v1/estates/{estate_id}/stock-items": READ,
    "POST /api/v1/estates/{estate_id}/stock-items": CONFIGURE,
    "GET /api/v1/stock-items/{item_id}": READ,
    "PATCH /api/v1/stock-items/{item_id}": CONFIGURE,
    "GET /api/v1/stock-items/{item_id}/movements": READ,
    "POST /api/v1/stock-items/{item_id}/receive": WRITE,
    "POST /api/v1/stock-items/{item_id}/issue": WRITE,
    "POST /api/v1/stock-items/{item_id}/return": WRITE,
    "POST /api/v1/stock-items/{item_id}/adjust": CONFIGURE,
    "GET /api/v1/estates/{estate_id}/stock-movements": READ,
    "POST /api/v1/estates/{estate_id}/stocktakes": COUNT,
    "GET /api/v1/estates/{estate_id}/stocktakes": READ,
    "GET /api/v1/stocktakes/{stocktake_id}": READ,
    "PUT /api/v1/stocktakes/{stocktake_id}/counts": COUNT,
    "POST /api/v1/stocktakes/{stocktake_id}/post": POST,
    "POST /api/v1/stocktakes/{stocktake_id}/cancel": POST,
    "GET /api/v1/stocktakes/{stocktake_id}/report": READ,
    "GET /api/v1/estates/{estate_id}/stocktake-report": READ,
}
