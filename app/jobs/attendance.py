"""(being written)"""
from __future__ import annotations

SPECS: list = []
