"""Endpoints of the roster area."""
from fastapi import APIRouter

router = APIRouter(tags=["roster"])
