"""Dependencies every route uses: the session that commits, the caller, their permission."""
from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import WithJsonSchema
from sqlalchemy.ext.asyncio import AsyncSession

from app import logging as app_logging
from app.config import Settings
from app.domain.auth import service as auth_service
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm
from app.domain.errors import DomainError
from app.domain.pagination import MAX_PAGE_SIZE, PageRequest, check_sort, sort_values
from app.domain.types import EXACT_INT


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work; the only place that commits.

    Declared with scope="function" so the commit happens before the response is
    sent: a failed commit can never follow a 2xx.
    """
    async with request.app.state.sessionmaker() as session:
        try:
            yield session
        except DomainError as exc:
            if exc.keeps_changes:
                await session.commit()
            else:
                await session.rollback()
            raise
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="A token from POST /api/v1/auth/login, or an API key")


async def current_actor(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None or not credentials.credentials:
        raise auth_service.InvalidToken("send Authorization: Bearer <token>")
    actor = await auth_service.authenticate(session, credential=credentials.credentials)
    app_logging.note_caller(f"{'key' if actor.is_api_key else 'user'}:{str(actor.id)[:8]} {actor.label}")
    return actor


ActorDep = Annotated[Actor, Depends(current_actor)]
# The bearer credential itself, for the few routes that act on it (a stream ticket is issued under it).
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def require(perm: Perm) -> Callable[..., object]:
    """A route dependency: the caller must be signed in and hold `perm`."""

    async def dependency(actor: ActorDep) -> Actor:
        actor.require(perm)
        return actor

    dependency.__name__ = f"require_{perm.name}"
    dependency.permission = perm  # type: ignore[attr-defined]  # tagged for tests that find routes by permission
    return dependency


async def known_form_fields(request: Request) -> None:
    """Multipart bodies refuse parts the route does not declare, as JSON bodies refuse unknown fields.

    A route dependency placed after the caller's, so that 401/403 still come first."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return
    declared = {param.alias for param in request.scope["route"].dependant.body_params}
    form = await request.form()  # FastAPI has parsed it already; Starlette keeps it on the request
    unknown = sorted(set(form.keys()) - declared)
    if unknown:
        raise RequestValidationError([{"type": "extra_forbidden", "loc": ("body", name), "msg": "Extra inputs are not permitted",
                                       "input": None} for name in unknown])


KnownFormFields = Annotated[None, Depends(known_form_fields)]


def settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(settings_dep)]


Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Rows per page (at most {MAX_PAGE_SIZE})"), EXACT_INT]
Offset = Annotated[int, Query(ge=0, le=1_000_000), EXACT_INT]


def page_of(keys: type[StrEnum]) -> Callable[..., PageRequest]:
    """The page parameters of a list that sorts by `keys`: `sort=` takes a key, or -key for
    descending, and OpenAPI lists them. Use: `page: Annotated[PageRequest, Depends(page_of(XSort))]`."""
    # The list's own check, so an unknown key stays the unknown-sort-key problem naming the field.
    sort = Annotated[str | None, Query(description="One of the listed keys; prefix - for descending"),
                     WithJsonSchema({"type": "string", "enum": sort_values(keys)})]

    def page_params(limit: int = 50, offset: int = 0, sort: str | None = None) -> PageRequest:
        check_sort(keys, sort)
        return PageRequest(limit=limit, offset=offset, sort=sort)

    # Annotations of a function made here cannot be strings for FastAPI to resolve (this module
    # postpones annotations), so its signature is given with the types themselves.
    page_params.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
         for name, annotation, default in (("limit", Limit, 50), ("offset", Offset, 0), ("sort", sort, None))],
        return_annotation=PageRequest,
    )
    return page_params
