"""Placeholder replaced by the job clock."""
from __future__ import annotations

from typing import Any


async def start(sessionmaker: Any, *, settings: Any) -> Any:
    return None


async def stop(scheduler: Any) -> None:
    return None
