"""The API contract: docs/openapi.json is the app's description, and a breaking change to it is caught."""
from __future__ import annotations

import copy
import json

import pytest

from tools.openapi_contract import SNAPSHOT, breaking_changes, current, render, unannounced


def test_the_committed_description_is_the_apps():
    committed = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    now = current()
    assert unannounced(committed, now) == [], "a breaking change not announced in docs/api-breaking-changes.txt"
    assert render(committed) == render(now), "run: python tools/openapi_contract.py write"


BASE = {
    "paths": {"/units/{unit_id}/payments": {"post": {
        "operationId": "take_payment",
        "parameters": [{"in": "path", "name": "unit_id", "required": True, "schema": {"type": "string"}},
                       {"in": "query", "name": "dry_run", "required": False, "schema": {"type": "boolean"}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PaymentCreate"}}}},
        "responses": {"201": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/PaymentRead"}}}}},
    }}},
    "components": {"schemas": {
        "PaymentCreate": {"type": "object", "required": ["amount"], "properties": {
            "amount": {"type": "string"}, "method": {"$ref": "#/components/schemas/Method"}, "note": {"type": "string"}}},
        "PaymentRead": {"type": "object", "required": ["id", "receipt"], "properties": {
            "id": {"type": "string"}, "receipt": {"$ref": "#/components/schemas/Receipt"},
            "method": {"$ref": "#/components/schemas/Method"}}},
        "Receipt": {"type": "object", "required": ["number"], "properties": {"number": {"type": "string"}}},
        "Method": {"type": "string", "enum": ["cash", "wechat"]},
    }},
}


def changed(edit) -> list[str]:
    new = copy.deepcopy(BASE)
    edit(new)
    return breaking_changes(BASE, new)


S = lambda doc: doc["components"]["schemas"]  # noqa: E731
OP = lambda doc: doc["paths"]["/units/{unit_id}/payments"]["post"]  # noqa: E731


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda d: d["paths"].clear(), "take_payment: the operation is gone (POST /units/{unit_id}/payments)"),
    (lambda d: S(d)["PaymentCreate"]["required"].append("method"), "take_payment: body.method newly required"),
    (lambda d: S(d)["PaymentCreate"]["properties"].pop("note"), "take_payment: body.note no longer taken"),
    (lambda d: S(d)["Receipt"]["properties"].pop("number"), "take_payment: answer.receipt.number gone from the answer"),
    (lambda d: S(d)["PaymentRead"]["required"].remove("receipt"), "take_payment: answer.receipt no longer always in the answer"),
    (lambda d: S(d)["Method"]["enum"].append("alipay"), "take_payment: answer.method values ['alipay']"),
    (lambda d: OP(d)["parameters"][1].update(required=True), "take_payment: query parameter dry_run newly required"),
    (lambda d: S(d)["Receipt"]["properties"]["number"].update(type="integer"),
     "take_payment: answer.receipt.number ['string'] -> ['integer']"),
    (lambda d: OP(d)["responses"].update({"200": OP(d)["responses"].pop("201")}), "take_payment: success status 201 gone"),
])
def test_a_change_that_breaks_a_generated_client_is_named(edit, expected):
    assert expected in changed(edit)


@pytest.mark.parametrize("edit", [
    lambda d: S(d)["PaymentCreate"]["properties"].update(tendered={"type": "string"}),  # a new optional body field
    lambda d: S(d)["PaymentRead"]["properties"].update(credit={"type": "string"}),  # a new answer field
    lambda d: S(d)["PaymentCreate"]["required"].remove("amount"),  # a body field no longer required
    lambda d: d["paths"].update({"/receipts": {"get": {"operationId": "list_receipts", "responses": {}}}}),
    lambda d: OP(d)["parameters"].pop(1),  # a query parameter gone: clients that send it are not refused
])
def test_a_change_clients_keep_working_through_is_not(edit):
    assert changed(edit) == []


def test_an_announced_break_is_let_through(monkeypatch):
    import tools.openapi_contract as contract

    new = copy.deepcopy(BASE)
    S(new)["PaymentCreate"]["required"].append("method")
    monkeypatch.setattr(contract, "announced", lambda: {"take_payment: body.method newly required"})
    assert contract.unannounced(BASE, new) == []
