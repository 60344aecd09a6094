"""Endpoints of the jobs area."""
from fastapi import APIRouter

router = APIRouter(tags=["jobs"])
