"""Who asks for and decides waivers (减免) and discount rules (issue 17): the desk asks, the
supervisor or finance approves (finance alone above the threshold: the service checks it);
rules are finance's to set up and apply; whoever reads fees reads them."""
from __future__ import annotations

from tests.api.permission_table import R, only
from tests.api.permissions.fees import READ

ASK = only(R.receptionist, R.supervisor, R.finance)
APPROVE = only(R.supervisor, R.finance)
CONFIGURE = only(R.finance, R.admin)

EXPECTED = {
    "POST /api/v1/charges/{charge_id}/waivers": ASK,
    "GET /api/v1/estates/{estate_id}/waivers": READ,
    "GET /api/v1/waivers/{waiver_id}": READ,
    "POST /api/v1/waivers/{waiver_id}/approve": APPROVE,
    "POST /api/v1/waivers/{waiver_id}/reject": APPROVE,
    "POST /api/v1/waivers/{waiver_id}/withdraw": ASK,
    "POST /api/v1/waivers/{waiver_id}/reverse": APPROVE,
    "POST /api/v1/estates/{estate_id}/discount-rules": CONFIGURE,
    "GET /api/v1/estates/{estate_id}/discount-rules": READ,
    "GET /api/v1/discount-rules/{rule_id}": READ,
    "POST /api/v1/discount-rules/{rule_id}/approve": APPROVE,
    "POST /api/v1/discount-rules/{rule_id}/reject": APPROVE,
    "POST /api/v1/discount-rules/{rule_id}/withdraw": CONFIGURE,
    "POST /api/v1/discount-rules/{rule_id}/apply": CONFIGURE,
    # A prepay grant is the desk's, made as the owner pays; the rule's approval stands for it.
    "POST /api/v1/discount-rules/{rule_id}/grants": ASK,
    "GET /api/v1/discount-rules/{rule_id}/grants": READ,
}
