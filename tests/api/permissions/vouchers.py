"""Who may post and read completion vouchers (DOMAIN.md: the flow of a repair, §7.3.8-7.3.10)."""
from __future__ import annotations

from tests.api.permission_table import STAFF, R, only

# Everyone who handles repairs reads the vouchers: the desk, technicians (their own), managers
# and the records clerk (they receive them at month end), night duty, supervisor, CS director,
# admin. The agency desk and finance have no business with repairs.
READ = STAFF - only(R.agency, R.finance)
# Only the technician who did the work posts the voucher or adds photos to it.
WORK = only(R.technician)
# The desk issues the owner's one-time code (texted to the owner) when it confirms the appointment;
# the technician must never read it: it is the owner's sign-off on his work.
DISPATCH = only(R.receptionist, R.night_duty, R.supervisor, R.admin)

EXPECTED = {
    "POST /api/v1/work-orders/{order_id}/voucher": WORK,
    "POST /api/v1/work-orders/{order_id}/owner-code": DISPATCH,
    "GET /api/v1/work-orders/{order_id}/owner-code": DISPATCH,
    "GET /api/v1/work-orders/{order_id}/vouchers": READ,
    "GET /api/v1/estates/{estate_id}/vouchers": READ,
    "GET /api/v1/vouchers/{voucher_id}": READ,
    "POST /api/v1/vouchers/{voucher_id}/files": WORK,
    "GET /api/v1/vouchers/{voucher_id}/files/{file_id}": READ,
}
