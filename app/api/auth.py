"""Signing in and out, and who am I."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette import status

from app.api.deps import ActorDep, SessionDep, SettingsDep
from app.api.errors import problems
from app.api.ratelimit import LoginAdmissionDep, RateLimited, login_policy
from app.domain.auth import service
from app.domain.auth import users as users_service
from app.domain.auth.schemas import LoginRequest, TokenRead, UserRead
from app.domain.auth.throttle import SignInThrottled

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login", response_model=TokenRead,
             responses=problems(service.InvalidCredentials, SignInThrottled, RateLimited))
async def login(body: LoginRequest, admission: LoginAdmissionDep, session: SessionDep, settings: SettingsDep) -> TokenRead:
    """Exchange a username and password for a bearer token.

    After repeated failures for a username (or from an address) sign-ins are refused for a while
    with 429 and Retry-After, whether or not the username exists; the user still gets in from an
    address they recently signed in from."""
    assert admission is not None  # only a malformed body has none, and validation refused it
    token, row, user = await service.login(
        session, admission=admission, password=body.password, policy=login_policy(settings),
        token_minutes=settings.token_lifetime_minutes)
    return TokenRead(access_token=token, expires_at=row.expires_at, user=await users_service.to_read(session, user))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=problems(service.InvalidToken))
async def logout(
    actor: ActorDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials, Depends(HTTPBearer())],
) -> None:
    """Revoke the token used for this request."""
    await service.logout(session, token=credentials.credentials)


@router.get("/me", response_model=UserRead, responses=problems(service.InvalidToken))
async def me(actor: ActorDep, session: SessionDep) -> UserRead:
    """The signed-in staff member, with roles and estates."""
    return await users_service.me(session, actor=actor)
