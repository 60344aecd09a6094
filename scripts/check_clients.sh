#!/usr/bin/env bash
# The clients other teams build on, generated from the app's openapi.json as they would generate
# them, with a small program type-checked against each (tests/clients/): a change to the contract
# that breaks a client fails here. Python: openapi-python-client, zero warnings, mypy --strict.
# TypeScript: openapi-typescript's types with openapi-fetch, tsc --strict. Run after scripts/test.sh
# (it uses .venv); about a minute, most of it the first npm install.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=build/clients
rm -rf "$OUT" && mkdir -p "$OUT/python"
.venv/bin/python tools/openapi_contract.py dump "$OUT/openapi.json"

# The generator lives in a virtualenv of its own: its dependencies are not the app's.
[ -x .venv-clients/bin/openapi-python-client ] || python3 -m venv .venv-clients
.venv-clients/bin/python -m pip install --quiet -r tests/clients/python/requirements.txt
.venv-clients/bin/openapi-python-client generate --path "$OUT/openapi.json" --output-path "$OUT/python/propdesk_client" \
    --meta none --config tests/clients/python/config.yaml --fail-on-warning
MYPYPATH="$OUT/python" .venv-clients/bin/mypy --strict --no-incremental --config-file "" tests/clients/python/check.py

cd tests/clients/typescript
npm ci --silent --no-audit --no-fund
rm -rf build && mkdir build
# --default-non-nullable false: a body field with a default is optional to send, as the API treats it.
npx openapi-typescript "../../../$OUT/openapi.json" --default-non-nullable false -o build/schema.d.ts
npx tsc --noEmit -p .
echo "clients: python and typescript generated and type-checked"
