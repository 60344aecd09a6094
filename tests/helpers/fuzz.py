"""What every schemathesis run checks of each answer."""
from __future__ import annotations

from schemathesis.checks import not_a_server_error, response_schema_conformance, status_code_conformance

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
