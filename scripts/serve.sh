#!/usr/bin/env bash
# The README's first command: install into .venv and start the API (+ job clock) on :8000.
# Arguments go to `propdesk serve` (e.g. --demo, --port 9000, --workers 2, --no-scheduler).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# The locked versions first (the image's, with their hashes); then the project, whose own
# requirements they already satisfy.
.venv/bin/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
.venv/bin/python -m pip install --quiet -e .
exec .venv/bin/propdesk serve "$@"
