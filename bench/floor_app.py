"""The database floor as a web service: a FastAPI endpoint doing one indexed asyncpg select.

    FLOOR_DSN=postgresql://... .venv/bin/python -m uvicorn bench.floor_app:app --port 8799 --workers 1

bench/floors.py starts it itself, on the same PostgreSQL as the server it measures: the most a
desk read could do on this stack (one HTTP request, one round trip, one small JSON answer).
"""
from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, HTTPException


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(os.environ["FLOOR_DSN"], min_size=8, max_size=8)
    try:
        yield
    finally:
        await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/floor/units/{unit_id}")
async def unit(unit_id: uuid.UUID) -> dict[str, object]:
    async with app.state.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT id, number, entrance, area FROM unit WHERE id = $1", unit_id)
    if row is None:
        raise HTTPException(404)
    return {"id": str(row["id"]), "number": row["number"], "entrance": row["entrance"], "area": str(row["area"])}
