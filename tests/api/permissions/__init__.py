"""Rows of the permission table, one module per area (repairs.py, callbacks.py, fees.py ...).

Each module defines EXPECTED (dict "METHOD /path" -> allowed principals) and may define
FAMILIES like tests/api/permission_table.py; that file merges them all.
"""
