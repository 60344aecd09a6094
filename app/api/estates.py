"""Endpoints of the estates area."""
from fastapi import APIRouter

router = APIRouter(tags=["estates"])
