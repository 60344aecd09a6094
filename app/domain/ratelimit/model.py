"""The shared request counter: one row per bucket (who, for what) and its current window.

UNLOGGED: a crash may forget the counts, which only lets a few extra requests through; in
exchange every hit skips the write-ahead log. Kept in PostgreSQL rather than in a process so
that the uvicorn workers and the machines behind one load balancer count together.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Text
from sqlmodel import Field, SQLModel


class RateLimitHit(SQLModel, table=True):
    __tablename__ = "rate_limit_hit"
    __table_args__ = {"prefixes": ["UNLOGGED"]}

    # "<scope>:<who>", e.g. "login-user:zhang.wei", "login-ip:10.0.0.7", "report:<user id>".
    bucket: str = Field(primary_key=True, sa_type=Text)
    window_start: datetime = Field(sa_type=DateTime(timezone=True), nullable=False)
    hits: int = Field(nullable=False)
