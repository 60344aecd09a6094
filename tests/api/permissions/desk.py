"""Who may keep and read the desk's log books: visitors, the shift log and hand-over, the duty log, the diary."""
from __future__ import annotations

from tests.api.permission_table import R, only

# The office reads its own books; technicians and the agency desk keep none of them.
READ = only(R.receptionist, R.night_duty, R.manager, R.supervisor, R.cs_director, R.finance, R.records_clerk, R.admin)
# Visitors are received by whoever sits at the desk (§7.3.12).
VISITORS = only(R.receptionist, R.night_duty, R.supervisor, R.admin)
# Night duty writes the night log; the desk writes its own shifts' logs.
LOG = only(R.night_duty, R.receptionist, R.supervisor, R.admin)
# Handing over and taking over is done by the people who work the shifts (§7.2).
HAND_OVER = only(R.receptionist, R.night_duty, R.supervisor)
# Everyone who works a shift keeps a duty record, except the agency desk (§7.3.15).
DUTY = only(R.receptionist, R.technician, R.manager, R.night_duty, R.supervisor, R.cs_director, R.finance,
            R.records_clerk, R.admin)

# The desk's phone is answered by whoever sits at the desk; the caller's screen is theirs, and the
# administrator's, who gives the telephony integration a key holding calls:answer (test_screen_pop.py).
CALLS = only(R.receptionist, R.night_duty, R.supervisor, R.admin)

EXPECTED = {
    "POST /api/v1/estates/{estate_id}/calls": CALLS,
    "GET /api/v1/estates/{estate_id}/calls": CALLS,
    "POST /api/v1/estates/{estate_id}/visitors": VISITORS,
    "GET /api/v1/estates/{estate_id}/visitors": READ,
    "GET /api/v1/visitors/{visitor_id}": READ,
    "POST /api/v1/visitors/{visitor_id}/links": VISITORS,
    "POST /api/v1/estates/{estate_id}/shifts": LOG,
    "GET /api/v1/estates/{estate_id}/shifts": READ,
    "GET /api/v1/shifts/{shift_id}": READ,
    "POST /api/v1/estates/{estate_id}/shift-log": LOG,
    "GET /api/v1/estates/{estate_id}/shift-log": READ,
    "POST /api/v1/shifts/{shift_id}/hand-over": HAND_OVER,
    "POST /api/v1/shift-log/{entry_id}/follow-up": HAND_OVER,
    "POST /api/v1/shifts/{shift_id}/accept": HAND_OVER,
    "POST /api/v1/estates/{estate_id}/duty-log": DUTY,
    "GET /api/v1/estates/{estate_id}/duty-log": READ,
    "GET /api/v1/estates/{estate_id}/diary": READ,
}
