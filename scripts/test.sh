#!/usr/bin/env bash
# The README's second command: install everything into .venv and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# The document tests read PDFs the way a print server would: pdffonts, pdftotext and pdftoppm
# from Debian's poppler-utils (the app itself needs none of them).
# The pooler tests run the service behind Debian's pgbouncer (transaction pooling).
NEED=""
command -v pdftoppm >/dev/null || NEED="$NEED poppler-utils"
[ -x /usr/sbin/pgbouncer ] || command -v pgbouncer >/dev/null || NEED="$NEED pgbouncer"
if [ -n "$NEED" ]; then
    SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
    $SUDO apt-get install -y -q $NEED >/dev/null || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q $NEED >/dev/null; }
    # The package starts a pgbouncer of its own on port 6432; the tests start theirs.
    $SUDO service pgbouncer stop >/dev/null 2>&1 || true
fi
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
