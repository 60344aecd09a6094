"""Imports every table so SQLModel.metadata is complete (Alembic, tests, create_all).

Each area adds its model module here.
"""
from app.db import metadata
from app.domain.audit import model as _audit  # noqa: F401
from app.domain.auth import model as _auth  # noqa: F401
from app.domain.registry import estates as _estates  # noqa: F401
from app.domain.registry import model as _registry  # noqa: F401
from app.jobs import model as _jobs  # noqa: F401

__all__ = ["metadata"]
