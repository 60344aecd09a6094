"""create_app(): the API, its lifespan (database, scheduler), routers and error handlers."""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware

from app import background, migrations
from app.api import errors, idempotency, locations, openapi_links, problem_pages, routes, tags
from app.api.middleware import BodySizeLimit, RequestContext
from app.config import Settings, get_settings
from app.db import make_engine, make_sessionmaker, resolve_database_url
from app.domain import models as _models  # noqa: F401 - every table, and the session guards
from app.domain.auth import secrets
from app.domain.events.stream import StreamSlots

log = logging.getLogger("propdesk")

# Answers any /api/v1 route may give, whatever it does; each route adds its own named errors.
COMMON_PROBLEMS: errors.Responses = {
    status: {"model": errors.Problem, "content": {errors.PROBLEM: {}}, "description": text}
    for status, text in {
        401: "Missing, expired or revoked credential",
        403: "The caller's role may not do this",
        422: "The request is not valid: errors[] names each field",
        503: "The database is not reachable or busy; retry after Retry-After",
    }.items()
}
# Bearer tokens, not cookies: no credentials mode. What a browser client sends and may read.
CORS_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
CORS_REQUEST_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "If-Match", "If-None-Match",
                        "Accept-Language", "Last-Event-ID", "X-Request-ID"]
CORS_EXPOSED_HEADERS = ["ETag", "Location", "Content-Disposition", "Retry-After", "X-Request-ID",
                        "Idempotent-Replayed", "Print-Number"]
DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"

@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    url = await resolve_database_url(settings.database_url, settings.data_dir)
    engine = make_engine(url, pool_size=settings.db_pool_size, pool_timeout=settings.db_pool_timeout_seconds)
    secrets.configure_pool(threads=settings.password_hash_threads)
    app.state.database_url = url
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.stream_slots = StreamSlots()
    # The API alone when the clock runs elsewhere (`propdesk scheduler`): the dispatcher goes with the clock.
    try:
        async with background.roles(app.state.sessionmaker, settings=settings, clock=settings.scheduler_enabled,
                                    dispatch=settings.scheduler_enabled):
            yield
    finally:
        await engine.dispose()


def operation_id(route: APIRoute) -> str:
    return route.name


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="PropDesk",
        version="0.1.0",
        summary="The backend of a residential property-management front desk",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # Client generators turn operationIds into method names: `take_payment`, not
        # `take_payment_api_v1_units__unit_id__payments_post`. Route functions are named for that.
        generate_unique_id_function=operation_id,
        openapi_tags=tags.openapi_tags(),
    )
    app.state.settings = settings
    errors.install(app)
    openapi_links.install(app, idempotency.document, locations.document)
    # First: a router tries its routes in order, and the probes come every few seconds.
    _add_health(app)
    api = APIRouter(prefix="/api/v1", responses=COMMON_PROBLEMS)
    for router in routes.ROUTERS:
        api.include_router(router)
    app.include_router(api)
    # At the root, where a problem's relative `type` (/problems/<name>) resolves.
    app.include_router(problem_pages.router)
    _add_docs(app)
    app.add_middleware(locations.CreatedLocation)  # inside compression: it reads the plain JSON of a 201
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    # Event streams and images are left alone (Starlette's default exclusions); br would need a
    # middleware outside Starlette, and every client that matters sends gzip.
    app.add_middleware(GZipMiddleware, minimum_size=settings.gzip_minimum_bytes)
    if settings.cors_origin_list:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origin_list, allow_methods=CORS_METHODS,
                           allow_headers=CORS_REQUEST_HEADERS, expose_headers=CORS_EXPOSED_HEADERS, max_age=600)
    app.add_middleware(RequestContext)
    return app


def _add_docs(app: FastAPI) -> None:
    # Served from the package, not a CDN: offices run this on intranets.
    app.mount("/static/docs", StaticFiles(directory=DOCS_ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="PropDesk API",
            swagger_js_url="/static/docs/swagger-ui-bundle.js",
            swagger_css_url="/static/docs/swagger-ui.css",
            swagger_favicon_url="/static/docs/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=app.openapi_url or "/openapi.json", title="PropDesk API",
                              redoc_js_url="/static/docs/redoc.standalone.js", redoc_favicon_url="/static/docs/favicon.png",
                              with_google_fonts=False)


def _add_health(app: FastAPI) -> None:
    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], responses={503: {"model": errors.Problem}})
    async def readyz(request: Request) -> JSONResponse:
        """The database answers and its schema is at the code's migration head."""
        head = migrations.head_revision()
        try:
            async with request.app.state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
                current = await migrations.current_revision(conn)
        except Exception:  # noqa: BLE001 - any failure here means "not ready"
            return errors.problem_response(status=503, code="database-unavailable", title="Database not reachable", detail=None,
                                           request=request)
        if current != head:
            return errors.problem_response(status=503, code="migrations-pending", title="Database schema is not at head",
                                           detail=f"database at {current}, code at {head}", request=request)
        return JSONResponse({"status": "ready", "revision": current})
