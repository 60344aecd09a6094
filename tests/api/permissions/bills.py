"""Who may read a unit's bill explained and the arrears by age (§7.3.13): whoever reads fees."""
from __future__ import annotations

from tests.api.permissions.fees import READ

EXPECTED = {
    "GET /api/v1/units/{unit_id}/bill": READ,
    "GET /api/v1/units/{unit_id}/arrears": READ,
    "GET /api/v1/estates/{estate_id}/arrears": READ,
    # The notices are the arrears on paper: the same readers print them.
    "GET /api/v1/units/{unit_id}/arrears-notice.pdf": READ,
    "GET /api/v1/estates/{estate_id}/arrears-notices.pdf": READ,
}
