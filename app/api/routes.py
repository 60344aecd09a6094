"""Every area's router, in the order they appear in the API docs. Add new areas here."""
from fastapi import APIRouter

from app.api import audit, auth, estates, jobs, registry, roster, users

ROUTERS: list[APIRouter] = [
    auth.router,
    users.router,
    estates.router,
    registry.router,
    roster.router,
    audit.router,
    jobs.router,
]
