"""Cashier sessions and the day's hand-over (交款, §5.4): who may do what."""
from __future__ import annotations

from tests.api.permission_table import R, only

# fees:read. Reading sessions and the day's sheet: the receptionist sees her own drawer (the
# service narrows it); the supervisor, finance, the CS director and the administrator answer for
# the office's money and see every drawer. Night duty and managers read fees for other reasons
# and simply have no drawer to see; technicians, the records clerk and the agency desk see none.
READ = only(R.receptionist, R.night_duty, R.manager, R.supervisor, R.cs_director, R.finance, R.admin)
# cash:hand_over. Only those who take money hold a drawer (payments:take): the receptionist, the
# supervisor (also on a cashier's behalf) and finance at its own window. Opening "my session"
# is the same question: who has a drawer. The administrator has none.
HAND_OVER = only(R.receptionist, R.supervisor, R.finance)
# cash:acknowledge. Finance takes the day's takings; never its own (the service refuses that).
ACKNOWLEDGE = only(R.finance)

EXPECTED: dict[str, frozenset[str]] = {
    "GET /api/v1/estates/{estate_id}/cashier-sessions": READ,
    "GET /api/v1/estates/{estate_id}/cashier-sessions/current": HAND_OVER,
    "GET /api/v1/estates/{estate_id}/cash-handover-sheet": READ,
    "GET /api/v1/cashier-sessions/{session_id}": READ,
    "GET /api/v1/cashier-sessions/{session_id}/handover-sheet.pdf": READ,
    "POST /api/v1/cashier-sessions/{session_id}/hand-over": HAND_OVER,
    "POST /api/v1/cashier-sessions/{session_id}/acknowledge": ACKNOWLEDGE,
}
