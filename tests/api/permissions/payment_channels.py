"""Money channels (issue 18): who may do what."""
from __future__ import annotations

from tests.api.permission_table import EVERYONE, R, only

# Where an estate's channel money arrives is set, and seen, by those who configure its fees.
FEES_CONFIGURE = only(R.finance, R.admin)
# A QR code for a unit's charges is money taken at the desk: those who answer for a drawer.
PAYMENTS_TAKE = only(R.receptionist, R.supervisor, R.finance)
RECEIPTS_VOID = only(R.supervisor)

EXPECTED: dict[str, frozenset[str]] = {
    "PUT /api/v1/estates/{estate_id}/payment-channels/wechat": FEES_CONFIGURE,
    "GET /api/v1/estates/{estate_id}/payment-channels/wechat": FEES_CONFIGURE,
    "PUT /api/v1/estates/{estate_id}/payment-channels/alipay": FEES_CONFIGURE,
    "GET /api/v1/estates/{estate_id}/payment-channels/alipay": FEES_CONFIGURE,
    "POST /api/v1/units/{unit_id}/channel-payments": PAYMENTS_TAKE,
    # A payment code scanned at the desk goes into the drawer of whoever scans it.
    "POST /api/v1/units/{unit_id}/channel-payments/counter": PAYMENTS_TAKE,
    "GET /api/v1/channel-payments/{payment_id}": PAYMENTS_TAKE,
    # Called by WeChat Pay and Alipay, not by staff: believed by its signature, whoever sends it.
    "POST /api/v1/payment-channels/wechat/notify/{estate_id}": EVERYONE,
    "POST /api/v1/payment-channels/alipay/notify/{estate_id}": EVERYONE,
    # A refund reverses a receipt, which the supervisor alone voids (and who may pay money back).
    "POST /api/v1/channel-payments/{payment_id}/refunds": RECEIPTS_VOID,
    # Where a refund stands, and asking the channel again, is the desk's as the QR payment is.
    "GET /api/v1/channel-refunds/{refund_id}": PAYMENTS_TAKE,
    "POST /api/v1/channel-refunds/{refund_id}/query": PAYMENTS_TAKE,
    "POST /api/v1/payment-channels/wechat/refund-notify/{estate_id}": EVERYONE,
}
