"""`Location` on every 201: where the client finds what it just created.

One table, route name -> where its answer lives, so no endpoint can forget the header and a
test can hold every 201 route to it. A place is a path under /api/v1 whose `{names}` are taken
from the answer's JSON (`{receipt.id}` reaches into it) or, failing that, from the request's own
path parameters. What a POST adds to a record of its own (an owner's phone, a complaint's step)
is found on that record; what has no page of its own is found on the list that shows it.

The header is added on the way out, by a middleware that reads only 201 answers of the routes
in the table (small JSON bodies), before compression; an endpoint that sets Location itself
(a 202's request) is left alone, and a replayed idempotent answer gets the same header.
"""
from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PREFIX = "/api/v1"
LOCATIONS: dict[str, str] = {
    "create_user": "/users/{id}",
    "create_api_key": "/api-keys",  # keys are listed, never read one by one (the secret is shown once)
    "create_estate": "/estates/{id}",
    "create_jurisdiction": "/jurisdictions/{id}",
    "create_building": "/buildings/{id}",
    "create_unit": "/units/{id}",
    "create_owner": "/owners/{id}",
    "link_unit": "/owners/{id}",
    "add_phone": "/owners/{id}",
    "create_service_request": "/service-requests/{id}",
    "post_voucher": "/vouchers/{id}",
    "add_callback_note": "/work-orders/{work_order_id}/notes",  # notes are read on their order's list
    "issue_owner_code": "/work-orders/{work_order_id}/owner-code",
    "add_voucher_photos": "/vouchers/{id}",
    "log_attempt": "/callbacks/{id}",
    "create_approval_batch": "/approval-batches/{id}",
    "create_voucher_manifests": "/estates/{estate_id}/voucher-manifests",  # one per technician: their list
    "create_fee_item": "/fee-items/{id}",
    "add_fee_price": "/fee-items/{id}",
    "record_meter_reading": "/units/{unit_id}/charges",  # the reading is billed as the unit's charge
    "create_unit_charge": "/units/{unit_id}/charges",
    "create_late_fee_rule": "/estates/{estate_id}/late-fee-rules",
    "rebill_charge": "/units/{unit_id}/charges",
    "take_payment": "/receipts/{receipt.id}",
    "create_channel_payment": "/channel-payments/{id}",
    "refund_channel_payment": "/channel-refunds/{id}",
    "take_counter_payment": "/channel-payments/{id}",
    "print_receipt": "/receipts/{receipt_id}/prints",
    "make_refund": "/receipts/{receipt.id}",
    "take_deposit": "/receipts/{receipt.id}",
    "request_refund": "/units/{unit_id}/account",
    "request_waiver": "/waivers/{id}",
    "create_rule": "/discount-rules/{id}",
    "grant_prepay": "/discount-rules/{rule_id}/grants",
    "create_shared_meter": "/estates/{estate_id}/shared-meters",
    "record_shared_reading": "/shared-meter-splits/{id}",
    "register_complaint": "/complaints/{id}",
    "add_step": "/complaints/{id}",
    "create_visitor": "/visitors/{id}",
    "add_visitor_link": "/visitors/{id}",
    "open_shift": "/shifts/{id}",
    "add_shift_log_entry": "/estates/{estate_id}/shift-log",
    "create_duty_log_entry": "/estates/{estate_id}/duty-log",
    "sign_in_attendance": "/estates/{estate_id}/attendance",
    "add_day": "/holiday-calendar/{day:year}",
    "create_entrustment": "/rental-entrustments/{id}",
    "add_photos": "/rental-entrustments/{id}",
    "create_stock_item": "/stock-items/{id}",
    "receive_stock": "/stock-items/{stock_item_id}/movements",
    "issue_stock": "/stock-items/{stock_item_id}/movements",
    "return_stock": "/stock-items/{stock_item_id}/movements",
    "adjust_stock": "/stock-items/{stock_item_id}/movements",
    "open_stocktake": "/stocktakes/{id}",
    "issue_stream_ticket": "/stream?ticket={ticket}",  # the one connection it opens
    "create_webhook": "/webhooks/{id}",
}
_NAME = re.compile(r"\{([a-z_.]+)(?::year)?\}")


def _value(body: Any, path_params: dict[str, Any], name: str) -> str | None:
    value: Any = body
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        value = path_params.get(name)
    return None if value is None else str(value)


def location(route_name: str, body: Any, path_params: dict[str, Any]) -> str | None:
    """The answer's place, or None when the answer lacks a name the place needs."""
    template = LOCATIONS.get(route_name)
    if template is None:
        return None
    missing = False

    def fill(match: re.Match[str]) -> str:
        nonlocal missing
        value = _value(body, path_params, match.group(1))
        if value is None:
            missing = True
            return ""
        return value[:4] if match.group(0).endswith(":year}") else value  # an ISO day's year

    path = _NAME.sub(fill, template)
    return None if missing else PREFIX + path


class CreatedLocation:
    """Adds `Location` to the 201 answers of the routes in LOCATIONS (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def send_with_location(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 201 and not held:
                held.append(message)
                return
            if not held:
                await send(message)
                return
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                await _release(scope, held, send)

        await self.app(scope, receive, send_with_location)


async def _release(scope: Scope, held: list[Message], send: Send) -> None:
    start, bodies = held[0], held[1:]
    headers = list(start.get("headers", []))
    route = scope.get("route")
    if route is not None and not any(k.lower() == b"location" for k, _ in headers):
        try:
            body = json.loads(b"".join(m.get("body", b"") for m in bodies) or b"null")
        except ValueError:
            body = None
        place = location(getattr(route, "name", ""), body, scope.get("path_params", {}))
        if place is not None:
            headers.append((b"location", place.encode()))
    await send({**start, "headers": headers})
    for message in bodies:
        await send(message)


def document(schema: dict[str, Any]) -> dict[str, Any]:
    """Every 201 in the table documents its Location, with the place it names."""
    for ops in schema["paths"].values():
        for op in ops.values():
            template = LOCATIONS.get(op.get("operationId", ""))
            created = op.get("responses", {}).get("201")
            if template is not None and created is not None:
                created.setdefault("headers", {}).setdefault("Location", {
                    "description": f"Where the answer lives: {PREFIX}{template}", "schema": {"type": "string"}})
    return schema
