#!/usr/bin/env bash
# The README's second command: install everything into .venv and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# The locked versions first (the image's, with their hashes); then the project, whose own
# requirements they already satisfy.
.venv/bin/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
.venv/bin/python -m pip install --quiet -e ".[test,lint]"
# Tests start many Python processes (servers, schedulers, crash tests); with PYTHONDONTWRITEBYTECODE
# set, as on CI, each would compile the app from source again.
.venv/bin/python -m compileall -q app tests bench >/dev/null
# Lint and types (CI sets LINT=1), configured in pyproject.toml: a finding fails the run before
# the suite spends its minutes.
if [ "${LINT:-0}" = 1 ]; then
    .venv/bin/ruff check app tests tools
    .venv/bin/mypy
fi
# Three workers on two CPUs: tests spend part of their time waiting on PostgreSQL and subprocesses.
exec .venv/bin/python -m pytest -n 3 -q "$@"
