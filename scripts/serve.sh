#!/usr/bin/env bash
# The README's first command: install into .venv and start the API (+ job clock) on :8000.
# Arguments go to `propdesk serve` (e.g. --demo, --port 9000, --workers 2, --no-scheduler).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
exec .venv/bin/propdesk serve "$@"
