"""Endpoints of the registry area."""
from fastapi import APIRouter

router = APIRouter(tags=["registry"])
