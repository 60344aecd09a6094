"""Staff accounts and integration API keys (admins)."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from starlette import status

from app.api.deps import SessionDep, page_of, require
from app.api.errors import problems
from app.api.etags import ExpectedVersion, edit_responses, read_responses, tagged
from app.api.idempotency import idempotent
from app.domain.auth import rules, secrets
from app.domain.auth import users as service
from app.domain.auth.principal import Actor
from app.domain.auth.roles import Perm, Role
from app.domain.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead, PasswordReset, UserCreate, UserRead, UserUpdate
from app.domain.pagination import Page, PageRequest, UnknownSortKey

router = APIRouter(tags=["users"])

ReadUsers = Annotated[Actor, Depends(require(Perm.users_read))]
ManageUsers = Annotated[Actor, Depends(require(Perm.users_manage))]
ManageKeys = Annotated[Actor, Depends(require(Perm.api_keys_manage))]
UserPage = Annotated[PageRequest, Depends(page_of(service.UserSort))]
ApiKeyPage = Annotated[PageRequest, Depends(page_of(service.ApiKeySort))]


@router.get("/users", response_model=Page[UserRead], responses=problems(UnknownSortKey))
async def list_users(
    actor: ReadUsers,
    session: SessionDep,
    page: UserPage,
    estate_id: uuid.UUID | None = None,
    role: Role | None = None,
    q: Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00]*$")] = None,
) -> Page[UserRead]:
    """Staff of the caller's estates; filter by estate, role or a name fragment."""
    rows, total = await service.list_users(session, actor=actor, page=page, estate_id=estate_id, role=role.value if role else None, q=q)
    return Page(items=[await service.to_read(session, u) for u in rows], total=total, limit=page.limit, offset=page.offset)


@router.post("/users", response_model=UserRead, status_code=status.HTTP_201_CREATED,
             responses=problems(service.UsernameTaken, rules.EstateOutsideYourScope, rules.RoleOutsideYourRights))
@idempotent(status.HTTP_201_CREATED)
async def create_user(body: UserCreate, actor: ManageUsers, session: SessionDep) -> UserRead:
    """Create a staff account with its roles and estates: only estates and roles you hold yourself."""
    user = await service.create_user(session, actor=actor, data=body)
    return await service.to_read(session, user)


@router.get("/users/{user_id}", response_model=UserRead, responses=read_responses(service.UserNotFound))
async def get_user(user_id: uuid.UUID, actor: ReadUsers, session: SessionDep, response: Response) -> UserRead:
    """One staff member of the caller's estates; anyone else answers 404."""
    user = await service.get_user(session, actor=actor, user_id=user_id)
    return tagged(response, await service.to_read(session, user))


@router.patch("/users/{user_id}", response_model=UserRead, responses=edit_responses(
    service.UserNotFound, rules.UserOutsideYourScope, rules.EstateOutsideYourScope, rules.RoleOutsideYourRights, rules.LastAdmin))
async def update_user(
    user_id: uuid.UUID, body: UserUpdate, actor: ManageUsers, session: SessionDep, expected: ExpectedVersion, response: Response,
) -> UserRead:
    """Change a staff member's name, phone, roles, estates, or deactivate the account.

    Only for staff all of whose estates are yours. An estate's last active administrator
    cannot be deactivated, demoted or taken off it (409); deactivating ends the user's sessions."""
    user = await service.update_user(session, actor=actor, user_id=user_id, data=body, expected_version=expected)
    return tagged(response, await service.to_read(session, user))


@router.post("/users/{user_id}/reset-password", response_model=UserRead,
             responses=problems(service.UserNotFound, rules.UserOutsideYourScope, secrets.PasswordTooWeak))
async def reset_password(user_id: uuid.UUID, body: PasswordReset, actor: ManageUsers, session: SessionDep) -> UserRead:
    """Set a new password and lift any lock; every session of the user ends.

    Only for staff all of whose estates are yours."""
    user = await service.reset_password(session, actor=actor, user_id=user_id, new_password=body.new_password)
    return await service.to_read(session, user)


@router.get("/api-keys", response_model=Page[ApiKeyRead], responses=problems(UnknownSortKey))
async def list_api_keys(actor: ManageKeys, session: SessionDep, page: ApiKeyPage) -> Page[ApiKeyRead]:
    """Integration keys covering the caller's estates, newest first. The keys themselves are never shown again."""
    rows, total = await service.list_api_keys(session, actor=actor, page=page)
    return Page(items=[ApiKeyRead.model_validate(k) for k in rows], total=total, limit=page.limit, offset=page.offset)


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED,
             responses=problems(rules.EstateOutsideYourScope, rules.ScopeOutsideYourRights))
async def create_api_key(body: ApiKeyCreate, actor: ManageKeys, session: SessionDep) -> ApiKeyCreated:
    """Create a key for an integration. The key is shown in this response only."""
    return await service.create_api_key(session, actor=actor, data=body)


@router.post("/api-keys/{key_id}/revoke", response_model=ApiKeyRead,
             responses=problems(service.ApiKeyNotFound, rules.ApiKeyOutsideYourScope))
@idempotent(200)
async def revoke_api_key(key_id: uuid.UUID, actor: ManageKeys, session: SessionDep) -> ApiKeyRead:
    """Revoke a key at once; revoking it again changes nothing. Only for keys all of whose estates are yours."""
    return ApiKeyRead.model_validate(await service.revoke_api_key(session, actor=actor, key_id=key_id))
