"""Payments, receipts and refunds (§5.2, §5.4): who may do what."""
from __future__ import annotations

from tests.api.permission_table import R, only

# The desk explains bills; managers chase arrears; finance and the supervisor answer for money.
FEES_READ = only(R.receptionist, R.night_duty, R.manager, R.supervisor, R.cs_director, R.finance, R.admin)
# Money is taken by those who answer for a cash drawer; the administrator has none.
PAYMENTS_TAKE = only(R.receptionist, R.supervisor, R.finance)
# A receipt is voided by the supervisor alone, with a reason.
RECEIPTS_VOID = only(R.supervisor)
# A recorded print (the paper the payer takes, 补打 after the first) is made by those who answer
# for the receipts and the drawer; anyone reading fees may preview (marked 预览, nothing recorded).
RECEIPTS_PRINT = only(R.receptionist, R.supervisor, R.finance)
# Paying money back from a unit's credit: the supervisor or finance.
REFUNDS_MAKE = only(R.supervisor, R.finance)
# A large refund of a prepaid balance is approved by a second person: the supervisor or finance.
REFUNDS_APPROVE = only(R.supervisor, R.finance)

EXPECTED: dict[str, frozenset[str]] = {
    "POST /api/v1/units/{unit_id}/payments": PAYMENTS_TAKE,
    # Posting accrued late fees is the first half of taking a payment (so a waiver can be asked first).
    "POST /api/v1/units/{unit_id}/late-fees": PAYMENTS_TAKE,
    "GET /api/v1/receipts/{receipt_id}": FEES_READ,
    "GET /api/v1/receipts/{receipt_id}/pdf": FEES_READ,
    "POST /api/v1/receipts/{receipt_id}/prints": RECEIPTS_PRINT,
    "GET /api/v1/receipts/{receipt_id}/prints": FEES_READ,
    "GET /api/v1/estates/{estate_id}/receipts": FEES_READ,
    "POST /api/v1/receipts/{receipt_id}/void": RECEIPTS_VOID,
    "POST /api/v1/units/{unit_id}/refunds": REFUNDS_MAKE,
    "GET /api/v1/units/{unit_id}/credit": FEES_READ,
    # Prepaid accounts (预存款): a deposit is money taken at the desk.
    "POST /api/v1/units/{unit_id}/deposits": PAYMENTS_TAKE,
    "GET /api/v1/units/{unit_id}/account": FEES_READ,
    "GET /api/v1/units/{unit_id}/account/statement": FEES_READ,
    "POST /api/v1/units/{unit_id}/account/refunds": REFUNDS_MAKE,
    "POST /api/v1/account-refunds/{refund_id}/approve": REFUNDS_APPROVE,
    "POST /api/v1/account-refunds/{refund_id}/reject": REFUNDS_APPROVE,
}
