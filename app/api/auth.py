"""Signing in and out, and who am I."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette import status

from app.api.deps import ActorDep, SessionDep, SettingsDep
from app.api.errors import problems
from app.api.ratelimit import ClockDep, LoginAdmissionDep, RateLimited, client_address, login_policy
from app.domain.auth import secrets, service
from app.domain.auth import users as users_service
from app.domain.auth.schemas import LoginRequest, PasswordChange, TokenRead, UserRead
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
async def get_me(actor: ActorDep, session: SessionDep) -> UserRead:
    """The signed-in staff member, with roles and estates."""
    return await users_service.me(session, actor=actor)


@router.post("/password", response_model=TokenRead,
             responses=problems(service.InvalidToken, service.CurrentPasswordWrong, secrets.PasswordTooWeak,
                                SignInThrottled, RateLimited))
async def change_password(body: PasswordChange, actor: ActorDep, request: Request, session: SessionDep,
                          settings: SettingsDep, now: ClockDep) -> TokenRead:
    """Change your own password, giving the current one.

    Every token of yours stops working, this request's too; the response carries a fresh one.
    A wrong current password counts as a failed sign-in of yours from this address (429 with
    Retry-After past the sign-in throttle)."""
    token, row, user = await service.change_password(
        session, actor=actor, current_password=body.current_password, new_password=body.new_password,
        address=client_address(request), policy=login_policy(settings), token_minutes=settings.token_lifetime_minutes,
        now=now)
    return TokenRead(access_token=token, expires_at=row.expires_at, user=await users_service.to_read(session, user))
