#!/usr/bin/env bash
# The whole suite with the clock moved to a given moment (UTC), by libfaketime: "today", "this
# week" and "month end" are estate-local, and CI runs at any hour. Every process the tests start
# (servers, schedulers, the embedded PostgreSQL) reads the same moved clock.
#
#   apt-get install faketime            # Debian's libfaketime
#   ./scripts/test-at.sh "2026-12-31 16:30:00" [pytest args]    # 00:30 on New Year's Day in Shanghai
#
# Moments worth a run (Shanghai = UTC+8): the last day of a month at 23:50 and the 1st at 00:20,
# Saturday and Monday 00:30, New Year 00:30, 08:30 and 16:58 on a working day. Needs .venv (run
# ./scripts/test.sh once). tests/faults/test_kill_scheduler_during_month_end.py skips itself
# here: libfaketime upsets PostgreSQL's own timer that ends a dead client's session.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 'YYYY-MM-DD HH:MM:SS' (UTC) [pytest args]" >&2; exit 2; }
command -v faketime >/dev/null || { echo "faketime is not installed (apt-get install faketime)" >&2; exit 2; }
at=$1; shift
# A relative offset, not an absolute "@" time: with "@" each new process starts at that same instant.
offset=$(( $(date -u -d "$at" +%s) - $(date +%s) ))
exec faketime -f "+${offset}" .venv/bin/python -m pytest -n 3 -q "$@"
