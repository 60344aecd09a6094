"""What each tag of the API groups, for the published description and the generated clients."""
from __future__ import annotations

from typing import Any

DESCRIPTIONS: dict[str, str] = {
    "auth": "Sign in and out, the caller's own account, one-time codes",
    "users": "Staff accounts, their roles and estates; API keys for integrations",
    "estates": "Estates (管理处), their settings, office hours and deadlines",
    "registry": "Buildings, units, owners and the caller lookup the desk answers the phone with",
    "service requests": "Repair requests, enquiries and complaints as they arrive: phone, walk-in, patrol (§5.1)",
    "work orders": "Dispatching, starting, completing and confirming repair work orders (§5.3–5.5)",
    "vouchers": "Completion vouchers from the field, their photos and hand-over manifests (§5.5, §5.11)",
    "technicians": "Who is on duty and free, and a technician's own view",
    "callbacks": "Calling owners back after a repair, and the callback rate (§5.7)",
    "repair reports": "The daily repair log, the Monday approval batch, task sheets (§5.6)",
    "fees": "Fee items, prices, subscriptions, meter readings, billing periods (move-in, move-out), billing runs, "
            "charges and their corrections (cancel and rebill) (§5.2, §5.8)",
    "bills": "A unit's bill explained line by line, its arrears and arrears notices (§7.3.13)",
    "waivers": ("Waivers and discounts (减免) on charges: asked at the desk, approved by another; discount rules over units, "
                "and prepay grants (预交N个月送M个月)"),
    "charge cancellations": "Cancelling a charge money was paid on: asked by one, approved by another; the money moves "
                            "to the unit's prepaid account",
    "payments": "Taking payments, gapless receipts, prints, voids and refunds (§5.8)",
    "payment channels": "WeChat Pay on the bill (扫码支付): an estate's merchant account, QR codes for charges, "
                        "the channel's verified notifications booked into the online receipt series",
    "channel reconciliation": "Reconciliation (对账) of channel money: the day's statement imported (downloaded through "
                              "the channel's API or uploaded in its format) and matched line by line, each discrepancy "
                              "an item finance resolves with a note, and the day's and month's report",
    "prepaid accounts": "Prepaid accounts (预存款): deposits, earmarks, the balance, its statement and refunds of it",
    "cash": "The cashier's day: sessions, adjustments and the hand-over to finance before 17:00 (§5.9)",
    "fee reports": "The Saturday fee register and the month-end fee report (§5.10)",
    "complaints": "Complaints from registration to closure, escalation and statistics (§5.12)",
    "visitors": "Visitor registration at the gate and the desk",
    "shift log": "Shift hand-over between receptionists and the log kept on shift",
    "duty log": "The night-duty log",
    "attendance": "Signing in and out, and the month's attendance",
    "roster": "The duty roster and its import",
    "holiday calendar": "Working days and public holidays the deadlines count by",
    "rentals": "Rental listings entrusted to the office (§5.13)",
    "stock": "Stock items, movements and stocktakes (§5.11)",
    "attention": "What needs someone's attention now: the queue and the wall board",
    "notifications": "Messages sent to owners and staff, and their delivery",
    "events": "The live event stream",
    "calls": "The desk's phone: an incoming call pops up on every desk screen with the caller's lookup",
    "webhooks": "Integrations' webhook subscriptions and their deliveries",
    "jobs": "Scheduled jobs: their runs, and running one now",
    "audit": "The audit trail of every change",
    "operations": "Health and readiness for load balancers and orchestrators",
    "problems": "What each problem `type` URI means: the list of problem types, and a page for each (public)",
}


def openapi_tags() -> list[dict[str, Any]]:
    return [{"name": name, "description": text} for name, text in DESCRIPTIONS.items()]
