#!/usr/bin/env bash
# Draw one sample of every document kind to docs/samples/<kind>-<page>.png (from the same makers
# the document tests use), so a reader can look at the paper without running the service.
set -euo pipefail
cd "$(dirname "$0")/.."
PROPDESK_SAMPLES="$PWD/docs/samples" .venv/bin/python -m pytest -q -n 2 tests/api/test_documents.py -k every_page_draws "$@"
ls docs/samples
